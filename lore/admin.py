"""The admin commands of one server, as one channel sees its lore.

A :class:`Desk` is opened for a server, the policy in force where the command runs, and an author.
It finds the entry a command acts on, checks what it writes and answers with the reply's sentence
(Markdown, escaped) — or raises :class:`~lore.errors.LoreError` with one. Everything it decides is
decided against the channel's *visible world* (:mod:`lore.visible`): lore beyond the channel's
policy neither collides with nor blocks a write, is never named, counted or hinted at in a reply,
and is kept intact when an entry is saved. The Discord cog only lays these replies out.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from lore.errors import LoreError, PackError
from lore.markup import code, escape
from lore.model import MAX_EPISODE, Alias, Entry, Kind
from lore.normalize import normalize
from lore.service import LoreService
from lore.spoilers import Mode, Policy
from lore.store import CANON, FOLLOW_CANON
from lore.visible import visible_entry

_ALIAS_LINE = re.compile(r"^(?P<name>.+?)\s*(?:@\s*(?P<ep>\d{1,2}))?\s*$")
#: A reply the Discord layer sends as message content (so it must fit: long lists are cut).
CONTENT_LIMIT = 2000


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:80].strip("-")
    return slug or "entry-" + hashlib.sha1(name.encode()).hexdigest()[:8]


def new_slug(guild_id: int, name: str) -> str:
    """The slug of a server's new entry: its name and a digest of (server, name). It never depends
    on which slugs exist — taking the next free one would tell that a hidden entry holds the
    first — and a canon slug has no such digest, so it never shadows one."""
    digest = hashlib.sha1(f"{guild_id}\x1f{normalize(name)}".encode()).hexdigest()[:6]
    return f"{slugify(name)[:80].strip('-')}-{digest}"


def parse_episode(text: str) -> int:
    text = text.strip() or "0"
    if not text.isdigit() or not 0 <= int(text) <= MAX_EPISODE:
        raise LoreError(f"The episode must be a number from 0 to {MAX_EPISODE}; nothing was changed.")
    return int(text)


def parse_aliases(text: str) -> list[dict[str, Any]]:
    """One alias per line, optionally ``Name @ episode`` for an alias that is itself a reveal."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _ALIAS_LINE.match(line)
        assert m is not None  # the pattern matches any non-empty line
        name, ep = m.group("name").strip(), m.group("ep")
        episode = int(ep) if ep is not None else 0
        if episode > MAX_EPISODE:
            raise LoreError(f"The alias episode must be from 0 to {MAX_EPISODE}; nothing was changed.")
        out.append({"name": name[:200], "episode": episode})
    return out


def format_aliases(aliases: list[Alias]) -> str:
    return "\n".join(a.name if a.episode == 0 else f"{a.name} @ {a.episode}" for a in aliases)


@dataclass(frozen=True, slots=True)
class Prefill:
    """What the edit form shows: only what the channel may see."""

    summary: str
    aliases: str
    episode: str


@dataclass(frozen=True, slots=True)
class HistoryReply:
    title: str  # plain
    lines: list[str]  # Markdown
    footer: str  # plain


class Desk:
    def __init__(self, lore: LoreService, guild_id: int, policy: Policy, author: str = "admin"):
        self.lore, self.guild_id, self.policy, self.author = lore, guild_id, policy, author

    # -- what is visible -----------------------------------------------------------------------
    @property
    def _bound(self) -> int:
        return MAX_EPISODE if self.policy.mode is Mode.SHOW else self.policy.episode

    def _seen(self, entry: Entry) -> Entry | None:
        """The entry as the channel's visible world has it."""
        introduced = {e.slug: e.introduced for e in self.lore.entries(self.guild_id)}
        return visible_entry(entry, self._bound, introduced)

    def visible(self, episode: int) -> bool:
        return self.policy.reveals(episode)

    # -- finding the entry ---------------------------------------------------------------------
    def target(self, name: str, *, exact: bool = True) -> Entry:
        """The entry a command acts on, found as the channel finds it: a picked suggestion (its
        slug) or, with ``exact``, a name or alias typed in full; a guess is only offered back."""
        answer = self.lore.ask(name, self.policy, self.guild_id)
        view, match = answer.view, answer.result.match
        if view is None or match is None:
            if answer.result.ambiguous:
                raise LoreError("That name matches several entries: pick one from the suggestions.")
            raise LoreError(f"No entry called “{_echo(name)}” in this server's lore.")
        if exact and match.score < 100.0:
            raise LoreError(
                f"No entry is called exactly “{_echo(name)}”. Did you mean **{escape(view.name)}**? "
                "Pick it from the suggestions or type its full name; nothing was changed."
            )
        entry = self.lore.get(view.slug, self.guild_id)
        if entry is None:  # pragma: no cover - the index and documents change together
            raise LoreError("That entry is no longer available.")
        return entry

    async def history_target(self, name: str, *, exact: bool) -> tuple[str, str]:
        """(slug, name to show) for history and revert, which also reach an entry this server
        removed: by the canon's name for it (when the channel may see that), or by its slug."""
        try:
            entry = self.target(name, exact=exact)
            return entry.slug, entry.name
        except LoreError:
            canon = self.lore.ask(name, self.policy, None)
            candidates: list[tuple[str, str]] = []
            named = canon.result.match is not None and canon.result.match.score >= 100.0
            if canon.view is not None and (named or not exact) and self.lore.get(canon.view.slug, self.guild_id) is None:
                candidates.append((canon.view.slug, canon.view.name))
            own = self.lore.removed_own(self.guild_id, name)
            if own is not None:
                candidates.append((own, own))  # a server's own entry that it removed, by slug
            for slug, shown in candidates:
                if (await self.lore.history(self.guild_id, slug))[0] != CANON:
                    return slug, shown
            raise

    # -- writes ---------------------------------------------------------------------------------
    def check_new(self, name: str) -> None:
        """Refuse a new entry whose name the channel already knows (as an entry's name or alias)."""
        if not name.strip():
            raise LoreError("Give the entry a name; nothing was changed.")
        if self.lore.index_for(self.guild_id).exact_names(name, self.policy):
            raise LoreError("An entry with that name already exists: use `/lore-admin edit`.")

    def prefill(self, entry: Entry) -> Prefill:
        shown = [a for a in entry.aliases if self.visible(max(a.episode, entry.introduced))]
        return Prefill(entry.summary[:2000], format_aliases(shown), str(entry.introduced))

    async def save_form(
        self, *, kind: Kind, name: str, base: Entry | None, summary: str, aliases: str, episode: str
    ) -> str:
        """Save the add or edit form: a new entry, or ``base`` with what the form shows replaced
        (what it did not show — aliases and every other item beyond the channel — kept)."""
        introduced = parse_episode(episode)
        listed = parse_aliases(aliases)
        if base is None:
            self.check_new(name)
            data: dict[str, Any] = {"slug": new_slug(self.guild_id, name), "kind": kind.value, "name": name}
            action = "add"
            old: dict[tuple[str, int], Alias] = {}
            kept: list[Alias] = []
        else:
            current = self.lore.get(base.slug, self.guild_id)
            if current is None or self._seen(current) != self._seen(base):  # changed while the form was open
                raise LoreError(
                    f"**{escape(name)}** changed while this form was open, so nothing was saved. "
                    "Run `/lore-admin edit` again to start from the current version."
                )
            base = current
            data = base.model_dump()
            action = "edit"
            for group in ("facts", "attributes", "relations"):
                for item in data[group]:
                    item["episode"] = max(item["episode"], introduced)
            old = {(a.name, a.episode): a for a in base.aliases}
            kept = [a for a in base.aliases if not self.visible(max(a.episode, base.introduced))]
        out: list[dict[str, Any]] = []
        for alias in listed:
            alias["episode"] = max(alias["episode"], introduced)
            known = old.get((alias["name"], alias["episode"]))
            out.append(known.model_dump() if known is not None else alias)
        for alias in kept:  # never shown, never counted: kept as they were
            out.append({**alias.model_dump(), "episode": max(alias.episode, introduced)})
        data.update(summary=summary.strip(), aliases=out, introduced=introduced)
        if base is not None:
            new = self.lore.build(data, self.guild_id, known=self.known_slugs())
            if self._seen(new) == self._seen(base) and new.introduced == base.introduced:
                return f"Nothing changed in **{escape(name)}**; nothing was saved."
        revision = await self.lore.save_entry(self.guild_id, data, self.author, action, known=self.known_slugs())
        verb = "Added" if base is None else "Updated"
        return f"{verb} **{escape(name)}** in this server's lore (revision {revision}, introduced in episode {introduced})."

    def known_slugs(self) -> set[str]:
        """The entries the channel may see (relation targets are checked against these)."""
        return {e.slug for e in self.lore.entries(self.guild_id) if self.visible(e.introduced)}

    async def add_fact(self, name: str, text: str, episode: int) -> str:
        entry = self.target(name)
        revision = await self.lore.add_fact(self.guild_id, entry.slug, text.strip(), episode, self.author)
        return f"Added a fact to **{escape(entry.name)}** (episode {max(episode, entry.introduced)}, revision {revision})."

    async def add_alias(self, name: str, alias: str) -> str:
        entry = self.target(name)
        alias = alias.strip()
        seen = self._seen(entry)
        assert seen is not None  # the channel found it
        if any(normalize(n) == normalize(alias) for n, _ in seen.all_names()):
            raise LoreError("That entry already has this name.")
        # an alias it has only beyond the channel is neither reported nor touched: this one is added
        revision = await self.lore.add_alias(self.guild_id, entry.slug, alias, self.author, check=False)
        return f"**{escape(entry.name)}** is now also found as “{_echo(alias)}” (revision {revision})."

    def remove_prompt(self, name: str) -> tuple[Entry, str]:
        entry = self.target(name)
        note = " (a canon entry: it stays for other servers)" if self.lore.get(entry.slug) else ""
        return entry, f"Remove **{escape(entry.name)}** from this server's lore{note}?"

    async def remove(self, entry: Entry) -> str:
        canon = self.lore.get(entry.slug) is not None
        revision = await self.lore.remove_entry(self.guild_id, entry.slug, self.author)
        back = 0 if canon else revision - 1
        return (
            f"Removed **{escape(entry.name)}** (revision {revision}). To bring it back: "
            f"`/lore-admin revert name:{entry.slug} revision:{back}`" + (" (the canon's version)." if canon else ".")
        )

    async def history(self, name: str) -> HistoryReply | str:
        slug, shown = await self.history_target(name, exact=False)
        scope, revisions = await self.lore.history(self.guild_id, slug)
        if not revisions:
            return f"**{escape(shown)}** has no revisions."
        own = scope != CANON
        lines = [
            f"**{r.number}.** {escape(r.action)} by {escape(r.author)} — <t:{int(r.created_at)}:f>"
            + (" *(removed)*" if r.removed and r.action != FOLLOW_CANON else "")
            for r in reversed(revisions)
        ]
        if own and self.lore.get(slug) is not None:
            lines.append("**0.** the canon's version (revert to 0 to follow the canon again)")
        if own:
            footer = "Revisions in this server" + (
                " · it follows the canon now" if self.lore.follows_canon(self.guild_id, slug) else ""
            )
        else:
            footer = "The canon's revisions: this server follows the canon (nothing to revert here)"
        return HistoryReply(f"History: {shown}", lines, footer)

    async def revert(self, name: str, revision: int) -> str:
        slug, shown = await self.history_target(name, exact=True)
        new = await self.lore.revert(self.guild_id, slug, revision, self.author)
        if self.lore.follows_canon(self.guild_id, slug):
            return f"**{escape(shown)}** follows the canon again (revision {new} of this server's history)."
        return f"Reverted **{escape(shown)}** to revision {revision} (now revision {new})."

    async def import_pack(self, data: bytes, filename: str) -> tuple[str, list[str]]:
        """(reply, errors): the report, or every error (relations may point only at entries the
        channel may see: a later one is as unknown as one that does not exist)."""
        try:
            report = await self.lore.import_pack(
                data, guild_id=self.guild_id, author=self.author, filename=filename, known=self.known_slugs()
            )
        except PackError as e:
            head = f"**{escape(filename)}** was not imported; nothing changed. {len(e.errors)} problem(s):\n"
            return head + "\n".join(f"• {code(err)}" for err in e.errors), e.errors
        lines = [f"Imported **{escape(filename)}**: {report.summary()}."]
        if report.created:
            lines.append("New: " + ", ".join(report.created))
        if report.updated:
            lines.append("Updated: " + ", ".join(report.updated))
        return "\n".join(lines), []

    def export(self) -> tuple[str, str]:
        """(reply, file text): the server's own lore."""
        text = self.lore.export(self.guild_id, "yaml")
        count = self.lore.own_entry_count(self.guild_id)
        return f"This server's lore ({count} entries).", text


def _echo(text: str) -> str:
    text = text.strip()
    return escape(text if len(text) <= 80 else text[:79] + "…")
