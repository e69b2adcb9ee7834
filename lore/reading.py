"""What a viewer sees: lookups, autocomplete, cards, episodes, rosters and full-text search, each
under the viewer's spoiler policy, read from the indexes in memory."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from lore.markup import escape, spoiler_block
from lore.model import Entry, Kind
from lore.nameindex import Candidate, EntryRef
from lore.records import Answer, Roster, RosterLine, SearchHit, SearchResults
from lore.render import LATER_LIMIT, Appearance, EntryView, render_entry, status_text
from lore.resolve import LayeredIndex
from lore.scope import Scope, parse_entry
from lore.spoilers import Mode, Policy
from lore.state import LoreState
from lore.store import CANON, Store, guild_scope


def _marked(snippet: str) -> str:
    """A full-text snippet as Markdown: its text escaped, the matched words (between \\x02 and
    \\x03) in bold."""
    return escape(snippet).replace("\x02", "**").replace("\x03", "**")


#: Which part of an entry a full-text hit matched, best first.
_PART_RANK = {"name": 0, "title": 1, "summary": 2, "attribute": 3, "fact": 4}


def _ep(episode: int) -> str:
    return f" (ep {episode})" if episode else ""


class Reading(LoreState):
    """What a viewer under a policy sees (caching, per guild, what is derived from its index)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._episodes: dict[int | None, tuple[LayeredIndex, dict[int, str]]] = {}
        self._casts: dict[int | None, tuple[dict[int, str], dict[str, list[Appearance]]]] = {}
        self._shadow_cache: dict[int | None, tuple[tuple[int, int], dict[str, int]]] = {}

    def entry_count(self, policy: Policy, guild_id: int | None = None) -> int:
        """How many entries a viewer under ``policy`` may see (later ones are not counted)."""
        return self.index_for(guild_id).count(policy)

    def relation_sources(self, slug: str, guild_id: int | None = None) -> list[str]:
        """Slugs of the entries a guild sees that have a relation to ``slug`` (any episode: the
        caller renders each one to learn which of those relations a viewer may see)."""
        own = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        out = list(own.relation_sources().get(slug, ())) if own is not None else []
        shadowed = own.docs if own is not None else {}
        out.extend(s for s in self._scopes[CANON].relation_sources().get(slug, ()) if s not in shadowed)
        return sorted(set(out))

    def render(self, entry: Entry, policy: Policy, guild_id: int | None = None) -> EntryView | None:
        ix = self.index_for(guild_id)
        shadowed = self._shadowed(guild_id)
        # the canon's references (relations, cast lines) to a slug that a guild's own entry took
        # while the canon's entry was beyond the channel stay as hidden as that canon entry: a
        # world without it has no such reference (the guild's own references are its own)
        canon_refs = entry.slug not in shadowed and entry.slug in self._scopes[CANON].docs

        def targets(slug: str) -> tuple[str, int] | None:
            rec = ix.find(slug)
            if rec is None:
                return None
            if canon_refs and slug in shadowed:
                return rec.name, max(rec.introduced, shadowed[slug])
            return rec.name, rec.introduced

        appearances: Sequence[Appearance] = ()
        if entry.kind is Kind.CHARACTER:
            appearances = self._appearances(guild_id).get(entry.slug, ())
            if entry.slug in shadowed:  # listed by the canon's episodes, for the canon's entry
                gate = shadowed[entry.slug]
                appearances = [dataclasses.replace(a, episode=max(a.episode, gate)) for a in appearances]
        view = render_entry(entry, policy, targets=targets, appearances=appearances)
        if view is not None:
            pairs = ((item.label, item.target) for item in view.relations)
            view.colour = self.franchise.colour_for(view.slug, view.kind, pairs)
        return view

    def _shadowed(self, guild_id: int | None) -> dict[str, int]:
        """Slug -> the canon entry's introduction, for the guild's own entries that have a canon
        entry's slug (cached with the guild's scope)."""
        g = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        if g is None:
            return {}
        key = (g.generation, self._scopes[CANON].generation)
        cached = self._shadow_cache.get(guild_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        canon = self._scopes[CANON].docs
        out: dict[str, int] = {}
        for slug, doc in g.docs.items():
            if doc is not None and slug not in g.patches and canon.get(slug):
                out[slug] = parse_entry(canon[slug]).introduced
        self._shadow_cache[guild_id] = (key, out)
        return out

    def ask(
        self,
        query: str,
        policy: Policy,
        guild_id: int | None = None,
        kinds: Iterable[Kind] | None = None,
        within: Collection[str] | None = None,
    ) -> Answer:
        """Look ``query`` up among the entries of ``kinds`` (and with a slug in ``within``) the
        viewer may see, and render the match."""
        ix = self.index_for(guild_id)
        result = ix.lookup(query, policy, kinds, within)
        view = None
        if result.match is not None:
            entry = self.get(result.match.slug, guild_id)
            if entry is not None:
                view = self.render(entry, policy, guild_id)
        note = self.later_note(query, policy, guild_id, kinds) if view is None else None
        return Answer(query, policy, result, view, note, self.franchise.last)

    def later_note(
        self, query: str, policy: Policy, guild_id: int | None = None, kinds: Iterable[Kind] | None = None
    ) -> str | None:
        """Under ``tag``: the spoiler block of a reply without a card, saying what ``query`` names
        in later episodes, or that it names nothing there (None under other modes)."""
        if policy.mode is not Mode.TAG:
            return None
        lines = [
            f"• “{escape(c.matched)}” is a name revealed in episode {c.episode}: {escape(c.name)}."
            for c in self.index_for(guild_id).later_names(query, policy, kinds)
        ]
        return spoiler_block(lines, LATER_LIMIT)

    def complete(
        self,
        text: str,
        policy: Policy,
        guild_id: int | None = None,
        kinds: Iterable[Kind] | None = None,
        limit: int = 25,
        within: Collection[str] | None = None,
    ) -> list[Candidate]:
        """Autocomplete among the visible entries of ``kinds`` (and with a slug in ``within``)."""
        return self.index_for(guild_id).complete(text, policy, kinds, limit, within)

    def episode(self, number: int, policy: Policy, guild_id: int | None = None) -> EntryView | None:
        slug = self._episode_slugs(guild_id).get(number)
        entry = self.get(slug, guild_id) if slug else None
        return self.render(entry, policy, guild_id) if entry is not None else None

    def _appearances(self, guild_id: int | None) -> dict[str, list[Appearance]]:
        """Character slug -> the episodes whose cast (as the guild sees them) lists it."""
        numbers = self._episode_slugs(guild_id)
        cached = self._casts.get(guild_id)
        if cached is not None and cached[0] is numbers:
            return cached[1]
        out: dict[str, list[Appearance]] = {}
        for number, slug in sorted(numbers.items()):
            entry = self.get(slug, guild_id)
            if entry is None or entry.episode is None:
                continue
            for member in entry.episode.cast:
                out.setdefault(member.character, []).append(Appearance(number, member.first, member.episode))
        self._casts[guild_id] = (numbers, out)
        return out

    def _episode_slugs(self, guild_id: int | None) -> dict[int, str]:
        """Episode number -> slug of the entry a guild sees for it (cached with the guild's index)."""
        ix = self.index_for(guild_id)
        cached = self._episodes.get(guild_id)
        if cached is not None and cached[0] is ix:
            return cached[1]
        numbers: dict[int, str] = {}
        for index, exclude in reversed(ix.layers):  # canon first, so a guild's own entry wins
            for e, slug in enumerate(index.slugs):
                if slug in exclude or index.kind(e) is not Kind.EPISODE:
                    continue
                entry = self.get(slug, guild_id)
                if entry is not None and entry.episode is not None:
                    numbers[entry.episode.number] = slug
        self._episodes[guild_id] = (ix, numbers)
        return numbers

    def _memberships(self, group_slug: str, guild_id: int | None) -> dict[str, int]:
        """Slug -> episode known, of the entries a guild sees as members of ``group_slug`` (any
        episode; the entry itself may be gone)."""
        own = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        layers: list[tuple[Scope, frozenset[str]]] = [(own, frozenset())] if own is not None else []
        layers.append((self._scopes[CANON], frozenset(own.docs) if own is not None else frozenset()))
        members: dict[str, int] = {}
        for scope, exclude in layers:
            for slug, ep in scope.member_of.get(group_slug, ()):
                if slug not in exclude:
                    members.setdefault(slug, ep)
        return members

    def roster_members(self, group_slug: str, policy: Policy, guild_id: int | None = None) -> frozenset[str] | None:
        """Slugs of the members :meth:`roster` lists (None when it has no roster), read off the
        index: nothing is rendered, so an autocomplete or a member lookup can filter by it."""
        ix = self.index_for(guild_id)
        group = ix.find(group_slug)
        if group is None or not policy.reveals(group.introduced):
            return None
        return frozenset(
            slug
            for slug, ep in self._memberships(group_slug, guild_id).items()
            if (rec := ix.find(slug)) is not None and policy.reveals(max(ep, rec.introduced))
        )

    def roster(self, group_slug: str, policy: Policy, guild_id: int | None = None) -> Roster | None:
        """The members of a group (e.g. the Immortal Nine), each with their status, gated."""
        group = self.get(group_slug, guild_id)
        if group is None:
            return None
        group_view = self.render(group, policy, guild_id)
        if group_view is None:
            return None
        lines: list[RosterLine] = []
        later: list[tuple[int, str]] = []  # (episode, escaped line) for the spoiler block
        for slug, ep in self._memberships(group_slug, guild_id).items():
            entry = self.get(slug, guild_id)
            if entry is None:
                continue
            gate = max(ep, entry.introduced)
            if not policy.reveals(gate):
                later.append((gate, f"• {escape(entry.name)} is a member{_ep(gate)}"))
                continue
            view = self.render(entry, policy, guild_id)
            if view is None:  # pragma: no cover - the gate above covers the entry's introduction
                continue
            if entry.status is not None and view.status is None:
                st = entry.status
                text = escape(status_text(st.state, st.note, st.episode))
                later.append((st.episode, f"• {escape(entry.name)}: {text}{_ep(st.episode)}"))
            lines.append(RosterLine(slug, view.title, view.status.text if view.status else None))
        lines.sort(key=lambda ln: ln.name.casefold())
        block = None
        if policy.mode is Mode.TAG:
            later.sort(key=lambda x: x[0])
            block = spoiler_block([text for _, text in later], LATER_LIMIT)
        return Roster(group_view, lines, block)

    async def search_text(
        self, text: str, policy: Policy, guild_id: int | None = None, limit: int = 50
    ) -> SearchResults:
        """Full-text search over names, summaries, facts and attributes the viewer may see."""
        words = re.findall(r"\w+", text)
        out = SearchResults(query=text)
        if not words:
            return out
        scopes = [CANON] + ([guild_scope(guild_id)] if guild_id is not None else [])
        ix = self.index_for(guild_id)
        g = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        bound = policy.reach(self.franchise.last)
        best: dict[str, tuple[int, int, Any, EntryRef]] = {}  # slug -> (part rank, row order, hit, entry)
        for order, hit in enumerate(await self.store.search_text(words, scopes, 2000, bound=bound)):
            if hit.scope == CANON and g is not None and hit.slug in g.docs:
                continue  # shadowed by this guild's override or removal
            rec = ix.find(hit.slug)
            if rec is None or rec.introduced > bound:
                continue
            key = (_PART_RANK.get(hit.part, len(_PART_RANK)), order, hit, rec)
            if hit.slug not in best or key[:2] < best[hit.slug][:2]:
                best[hit.slug] = key  # one hit per entry: its best passage
        # Ranked by what matched (a name before a fact) and then by name: an order computed from
        # the visible rows alone, so it cannot tell anything about the rows left out.
        ranked = sorted(best.values(), key=lambda k: (k[0], k[3].name.casefold(), k[3].slug))
        for _, _, hit, (slug, name, kind, _) in ranked[:limit]:
            snippet = _marked(hit.snippet)
            if hit.part == "name":  # the field already shows the name: show what the entry is
                entry = self.get(slug, guild_id)
                summary = entry.summary_at(bound) if entry is not None else ""
                snippet = escape(summary) if summary else snippet
            out.hits.append(SearchHit(slug, name, kind, snippet, hit.episode))
        return out
