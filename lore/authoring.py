"""Writing a server's lore one entry at a time: saves, the edit form, facts and names, removals,
going back to the canon's version and reverting to a revision. Each is one write, checked against
the entry as stored when it runs; an edit of a canon entry is stored as a patch over it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from lore.errors import LoreError, StaleEntry
from lore.franchise import episode_numbers
from lore.model import MAX_SLUG, Alias, Entry, Fact
from lore.patches import diff, effective, is_patch, read_patch
from lore.scope import parse_entry
from lore.spoilers import Policy
from lore.state import LoreState
from lore.store import CANON, FOLLOW_CANON, Change, Tx, guild_scope

#: Bounds of what the write methods accept (the Discord commands declare the same; a payload that
#: gets past Discord's own checks gets the same sentence as any other bad input).
MAX_FACT_TEXT = 1000
MAX_ALIAS = 100
MAX_REVISION = 1_000_000

_UNCHECKED = object()


class Authoring(LoreState):
    """One-entry writes of a guild's (or the canon's) lore."""

    async def _stored(self, tx: Tx, guild_id: int | None, slug: str) -> tuple[Entry | None, Entry | None]:
        """(the entry a guild sees under ``slug`` as stored now, the canon entry a write of it by
        the guild patches), read inside the write. The second is None when the guild's write is a
        whole document: an entry of its own, or one after the guild removed the canon's."""
        exists, doc = await self.store.read_entry(tx, self.scope_of(guild_id), slug)
        if exists and not is_patch(doc):
            return (parse_entry(doc) if doc is not None else None), None
        if guild_id is None:
            return None, None
        _, canon_doc = await self.store.read_entry(tx, CANON, slug)
        canon = parse_entry(canon_doc) if canon_doc is not None else None
        return (effective(canon_doc, doc) if exists else canon), canon

    async def _current(self, tx: Tx, guild_id: int | None, slug: str) -> Entry | None:
        """The entry a guild sees under ``slug`` as stored now (read inside the write)."""
        return (await self._stored(tx, guild_id, slug))[0]

    @staticmethod
    def _change(slug: str, entry: Entry | None, base: Entry | None, action: str) -> Change:
        """The write of ``entry``: a patch over the canon entry ``base``, else the whole document."""
        if entry is None or base is None:
            return Change(slug, entry, action)
        return Change(slug, entry, action, patch=diff(base, entry))

    def _build(self, data: dict[str, Any], guild_id: int | None) -> Entry:
        try:
            entry = Entry.model_validate(data)
        except ValidationError as e:
            msgs = []
            for err in e.errors()[:5]:
                where = ".".join(str(p) for p in err["loc"])
                msgs.append(f"{where}: {err['msg']}" if where else err["msg"])
            raise LoreError("That entry is not valid: " + "; ".join(msgs)) from None
        if max(episode_numbers(entry)) > self.franchise.last:
            raise LoreError(f"That entry is not valid: its episodes must be between 0 and {self.franchise.last}")
        if len(entry.slug) > MAX_SLUG and self.get(entry.slug, guild_id) is None:
            raise LoreError(f"That entry is not valid: slug: must be at most {MAX_SLUG} characters")
        known = self._known_slugs(guild_id) | {entry.slug}
        for rel in entry.relations:
            if rel.target not in known:
                raise LoreError(f"The relation target {rel.target!r} does not exist.")
        return entry

    async def save_entry(
        self,
        guild_id: int | None,
        data: dict[str, Any],
        author: str,
        action: str,
        *,
        expect: Entry | object | None = _UNCHECKED,
        policy: Policy | None = None,
    ) -> int:
        """Create or replace an entry in a guild's scope (a patch over the canon entry it edits,
        else a whole document); returns the new revision number. With ``expect``, the entry as
        stored when the write runs must be that one (None: must not exist yet), else
        :class:`StaleEntry` and nothing is saved. With ``expect=None`` and a ``policy``, a canon
        entry beyond the policy counts as not existing: the new entry is the server's own, whole,
        exactly as where that later entry does not exist."""
        async with self.store.write() as tx:
            entry = self._build(data, guild_id)
            current, base = await self._stored(tx, guild_id, entry.slug)
            later = policy is not None and current is not None and not policy.reveals(current.introduced)
            if expect is None and later and current == base:
                current, base = None, None  # a later canon entry: not there for this channel
            if expect is not _UNCHECKED and current != expect:
                raise StaleEntry("That entry changed meanwhile; nothing was saved.")
            if expect is None:
                base = None  # a new entry is the server's own
            revs = await self.store.put_entries(
                tx, self.scope_of(guild_id), [self._change(entry.slug, entry, base, action)], author
            )
        return revs[entry.slug]

    async def edit_entry(
        self,
        guild_id: int,
        slug: str,
        policy: Policy,
        *,
        summary: str,
        aliases: list[tuple[str, int]],
        introduced: int,
        author: str,
        expect: Entry,
    ) -> int | None:
        """The edit form's save: the summary, the introduction and the aliases the channel sees
        (those revealed within ``policy``) become the form's; aliases beyond the policy stay as
        they are, untouched. The entry as stored must still be ``expect`` (else
        :class:`StaleEntry`). Returns the new revision, or None when nothing changed."""
        self._check_episode(introduced)
        async with self.store.write() as tx:
            current, base = await self._stored(tx, guild_id, slug)
            if current is None or current != expect:
                raise StaleEntry("That entry changed meanwhile; nothing was saved.")
            new = self._build(_edited(current, policy, summary, aliases, introduced, whole=base is None), guild_id)
            if new == current:
                return None
            revs = await self.store.put_entries(
                tx, guild_scope(guild_id), [self._change(slug, new, base, "edit")], author
            )
        return revs[slug]

    async def _amend(
        self, guild_id: int, slug: str, author: str, action: str, amend: Callable[[Entry], dict[str, Any]]
    ) -> int:
        """Read the entry as stored, apply ``amend`` to it and save it: one write, so two amends
        of one entry at the same moment both land."""
        scope = self.scope_of(guild_id)
        async with self.store.write() as tx:
            entry, base = await self._stored(tx, guild_id, slug)
            if entry is None:
                raise LoreError("That entry no longer exists in this server's lore; nothing was changed.")
            new = self._build(amend(entry), guild_id)
            revs = await self.store.put_entries(tx, scope, [self._change(slug, new, base, action)], author)
        return revs[slug]

    async def add_fact(
        self, guild_id: int, slug: str, text: str, episode: int, author: str, source: str | None = None
    ) -> int:
        text = text.strip()
        if not 1 <= len(text) <= MAX_FACT_TEXT:
            raise LoreError(f"A fact must be 1 to {MAX_FACT_TEXT} characters long; nothing was changed.")
        self._check_episode(episode)

        def amend(entry: Entry) -> dict[str, Any]:
            fact = Fact(text=text, episode=max(episode, entry.introduced), source=source or f"server {guild_id}")
            data = entry.model_dump()
            data["facts"] = [*data["facts"], fact.model_dump()]
            return data

        return await self._amend(guild_id, slug, author, "add fact", amend)

    async def add_alias(
        self, guild_id: int, slug: str, alias: str, author: str, episode: int = 0, policy: Policy | None = None
    ) -> int:
        """Add a name to an entry. It must be new among the names the channel sees (``policy``):
        a name the entry has only in later episodes is added all the same, as it would be where
        that later name does not exist."""
        alias = alias.strip()
        if not 1 <= len(alias) <= MAX_ALIAS:
            raise LoreError(f"A name must be 1 to {MAX_ALIAS} characters long; nothing was changed.")
        self._check_episode(episode)

        def amend(entry: Entry) -> dict[str, Any]:
            new = Alias(name=alias, episode=max(episode, entry.introduced))
            seen = [a for a in entry.aliases if policy is None or policy.reveals(max(a.episode, entry.introduced))]
            if any(a.name.casefold() == new.name.casefold() for a in seen) or (
                entry.name.casefold() == new.name.casefold()
            ):
                raise LoreError("That entry already has this name.")
            data = entry.model_dump()
            data["aliases"] = [*data["aliases"], new.model_dump()]
            return data

        return await self._amend(guild_id, slug, author, "add alias", amend)

    async def remove_entry(self, guild_id: int, slug: str, author: str) -> int:
        async with self.store.write() as tx:
            if await self._current(tx, guild_id, slug) is None:
                raise LoreError("That entry no longer exists in this server's lore; nothing was changed.")
            revs = await self.store.put_entries(tx, guild_scope(guild_id), [Change(slug, None, "remove")], author)
        return revs[slug]

    async def follow_canon(self, guild_id: int, slug: str, author: str, policy: Policy | None = None) -> int:
        """Drop the guild's edit or removal of a canon entry: the guild sees the canon's version
        again, and later canon upgrades reach it. The guild keeps its history of the entry. A canon
        entry beyond ``policy`` counts as none (the reply is the one without it)."""
        async with self.store.write() as tx:
            return await self._follow_canon_in(tx, guild_id, slug, author, policy)

    async def _follow_canon_in(
        self, tx: Tx, guild_id: int, slug: str, author: str, policy: Policy | None = None
    ) -> int:
        scope = guild_scope(guild_id)
        exists, canon_doc = await self.store.read_entry(tx, CANON, slug)
        if exists and canon_doc is not None and policy is not None:
            exists = policy.reveals(parse_entry(canon_doc).introduced)
        if not exists:
            raise LoreError("That entry is this server's own: there is no canon version to go back to.")
        if not (await self.store.read_entry(tx, scope, slug))[0]:
            raise LoreError("This server already follows the canon for that entry; nothing changed.")
        return await self.store.drop_entry(tx, scope, slug, author, FOLLOW_CANON)

    async def revert(
        self, guild_id: int | None, slug: str, number: int, author: str, policy: Policy | None = None
    ) -> int:
        """Restore revision ``number`` of the guild's entry; 0 (or a revision that went back to the
        canon) makes the guild follow the canon again (a canon entry beyond ``policy`` counts as
        none). A revision that edited a canon entry is applied to the canon as it is now."""
        if not 0 <= number <= MAX_REVISION:
            raise LoreError(f"A revision number is between 0 and {MAX_REVISION:,}; nothing changed.")
        scope = self.scope_of(guild_id)
        async with self.store.write() as tx:
            if guild_id is not None and number == 0:
                return await self._follow_canon_in(tx, guild_id, slug, author, policy)
            exists, doc = await self.store.revision_doc(scope, slug, number, tx)
            if not exists:
                canon = self.canon_visible(slug, policy)
                hint = " (revision 0 is the canon's version)" if canon else ""
                raise LoreError(f"This server has no revision {number} of that entry{hint}; nothing changed.")
            if doc is None and guild_id is not None:
                history = await self.store.history(scope, slug, tx)
                action = next((r.action for r in history if r.number == number), "")
                if action == FOLLOW_CANON:
                    return await self._follow_canon_in(tx, guild_id, slug, author, policy)
            action = f"revert to {number}"
            if is_patch(doc):  # an edit of the canon entry: applied to the canon as it is now
                _, canon_doc = await self.store.read_entry(tx, CANON, slug)
                entry = effective(canon_doc, doc)
                if entry is None:
                    raise LoreError(
                        f"Revision {number} edited the canon's version of this entry, which no longer fits "
                        "the canon; nothing changed."
                    )
                change = Change(slug, entry, action, patch=read_patch(doc))
            else:
                change = Change(slug, parse_entry(doc) if doc is not None else None, action)
            revs = await self.store.put_entries(tx, scope, [change], author)
        return revs[slug]


def _edited(
    entry: Entry, policy: Policy, summary: str, aliases: list[tuple[str, int]], introduced: int, *, whole: bool
) -> dict[str, Any]:
    """``entry`` as the edit form saves it (see :meth:`LoreService.edit_entry`). A whole document's
    items are raised to its introduction (its pack must validate); a patched canon entry's items are
    not touched (the canon's stay the canon's)."""
    shown = {(a.name, a.episode): a for a in entry.aliases if policy.reveals(a.episode)}
    out: list[dict[str, Any]] = []
    for name, episode in aliases:
        episode = max(episode, introduced) if whole else episode
        known = shown.get((name, episode))
        out.append(known.model_dump() if known is not None else {"name": name, "episode": episode})
    for hidden in entry.aliases:
        if not policy.reveals(hidden.episode):
            out.append({**hidden.model_dump(), "episode": max(hidden.episode, introduced) if whole else hidden.episode})
    data = entry.model_dump()
    if whole:
        for group in ("facts", "attributes", "relations"):
            for item in data[group]:
                item["episode"] = max(item["episode"], introduced)
    data.update(summary=summary.strip(), aliases=out, introduced=introduced)
    return data
