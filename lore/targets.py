"""What an admin command acts on, found as the channel would find it (a later entry is out of
reach), and an entry's history as a guild sees it."""

from __future__ import annotations

import dataclasses

from lore.editing import ENTRY_EXISTS, slugify
from lore.errors import EntryExists, LoreError
from lore.markup import echo, escape
from lore.model import Entry
from lore.reading import Reading
from lore.records import History
from lore.scope import parse_entry
from lore.spoilers import Policy
from lore.store import CANON, RevisionInfo, guild_scope
from lore.visible import visible_entry


class Targets(Reading):
    """The entry an admin command names, and what history and revert reach."""

    async def history(self, guild_id: int | None, slug: str, policy: Policy | None = None) -> History:
        """(scope, revisions) of an entry: the guild's own history, else the canon's.

        With ``policy``, the canon's history is the one a canon without the lore beyond it would
        have: a revision that changed only later lore is not listed (the canon's revisions are
        numbered as listed: a server cannot revert them, and a gap would tell)."""
        scope = self.scope_of(guild_id)
        revs = await self.store.history(scope, slug)
        if not revs and guild_id is not None:
            revs = await self.store.history(CANON, slug)
            if policy is not None and policy.holds_back(self.franchise.last):
                revs = await self._seen_revisions(slug, revs, policy.episode)
            return History(CANON, revs)
        return History(scope, revs)

    def new_slug(self, name: str, policy: Policy, guild_id: int) -> str:
        """The slug a new entry called ``name`` gets; ``EntryExists`` when it is :meth:`taken`."""
        slug = slugify(name)
        if self.taken(slug, policy, guild_id):
            raise EntryExists(ENTRY_EXISTS)
        return slug

    def edit_target(self, name: str, policy: Policy, guild_id: int, *, exact: bool = True) -> Entry:
        """The entry an admin command acts on, found as the channel would find it: a picked
        suggestion (its slug) or, with ``exact``, a name or alias typed in full; a guess is only
        offered back (``LoreError`` otherwise, nothing changed).

        Lore beyond the channel's spoiler setting is out of reach here: under ``hide`` it does not
        exist, and under ``tag`` the reply says only that it lies beyond (naming it, or putting it
        in a form or a button, would be the reveal)."""
        answer = self.ask(name, policy, guild_id)
        view = answer.view
        if view is None or answer.result.match is None:
            if answer.result.ambiguous:
                raise LoreError("That name matches several entries: pick one from the suggestions.")
            raise LoreError(f"No entry called “{echo(name)}” in this server's lore.")
        if exact and not answer.exact:
            raise LoreError(
                f"No entry is called exactly “{echo(name)}”. Did you mean **{escape(view.name)}**? "
                "Pick it from the suggestions or type its full name; nothing was changed."
            )
        entry = self.get(view.slug, guild_id)
        if entry is None:  # pragma: no cover - the index and documents change together
            raise LoreError("That entry is no longer available.")
        return entry

    async def history_target(self, name: str, policy: Policy, guild_id: int, *, exact: bool) -> tuple[str, str]:
        """(slug, name to show) for history and revert, which also reach an entry this guild
        removed: by the canon's name for it (when the channel may see that), or by its slug."""
        try:
            entry = self.edit_target(name, policy, guild_id, exact=exact)
            return entry.slug, entry.name
        except LoreError:
            canon = self.ask(name, policy, None)
            candidates = []
            # only for an entry this guild removed: a live version of its own (ambiguous, inexact
            # or beyond the channel) was judged above, and must not be reached around
            if canon.view is not None and (canon.exact or not exact) and self.get(canon.view.slug, guild_id) is None:
                candidates.append((canon.view.slug, canon.view.name))
            if self.get(name, guild_id) is None and not self.canon_visible(name, policy):
                candidates.append((name, name))  # a guild's own entry that it removed, by slug
            for slug, shown in candidates:
                if (await self.history(guild_id, slug)).own:
                    return slug, shown
            raise

    def restores(self, slug: str, removal: int, policy: Policy) -> int:
        """The revision that brings back ``slug`` after the guild's removal at revision ``removal``:
        0 (the canon's version) for a canon entry the channel sees, else the one before."""
        return 0 if self.canon_visible(slug, policy) else removal - 1

    async def _seen_revisions(self, slug: str, revs: list[RevisionInfo], episode: int) -> list[RevisionInfo]:
        """The canon revisions of ``slug`` that change what a viewer at ``episode`` sees."""
        introduced = {e.slug: e.introduced for e in self.entries(None)}
        out: list[RevisionInfo] = []
        last: Entry | None = None  # compared only once a revision is listed
        for rev in revs:
            _exists, doc = await self.store.revision_doc(CANON, slug, rev.number)
            seen = visible_entry(parse_entry(doc), episode, introduced) if doc is not None else None
            if out and seen == last:
                continue
            last = seen
            out.append(dataclasses.replace(rev, number=len(out) + 1))
        return out

    def taken(self, slug: str, policy: Policy, guild_id: int) -> bool:
        """Whether a new entry of the guild may not have ``slug``: the guild's own lore has it, or
        a canon entry the channel (``policy``) sees. A later canon entry does not count: the new
        entry is the guild's own, as it would be where that later entry does not exist."""
        g = self._scopes.get(guild_scope(guild_id))
        if g is not None and (slug in g.docs or slug in g.patches):
            return g.docs.get(slug) is not None
        entry = self.get(slug)
        return entry is not None and policy.reveals(entry.introduced)

    def follows_canon(self, guild_id: int, slug: str) -> bool:
        """Whether the guild sees the canon's own version of ``slug`` (it has not edited or removed it)."""
        g = self._scopes.get(guild_scope(guild_id))
        return slug in self._scopes[CANON].docs and (g is None or slug not in g.docs)
