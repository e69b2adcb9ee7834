"""What a viewer may see of the lore as a picture: a relation map around one entry, and a timeline.

Both are plain, typed structures built only from what :func:`lore.render.render_entry` shows
*plainly* under a policy: a relation tagged as a spoiler, an entry beyond the policy, a status not
yet revealed are simply absent (an image cannot be partly hidden). Adapters draw them; they never
decide visibility. Every order is explicit (names, slugs, episode numbers), so a structure built
from the world with later lore removed is equal to the one built from the whole world.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lore.model import RELATION_LABELS, Kind, LifeState, RelationType
from lore.render import EntryView, status_text
from lore.spoilers import Policy

if TYPE_CHECKING:
    from lore.service import LoreService

#: At most this many entries in one map; the rest are counted in ``RelationGraph.trimmed``.
MAX_NODES = 30
MAX_DEPTH = 2
#: Relations that make a character wear a faction's colour, in order of preference.
AFFILIATIONS = (RelationType.MEMBER_OF, RelationType.WORKS_FOR, RelationType.LEADS, RelationType.PART_OF)
_TYPE_OF_LABEL = {label: rtype for rtype, label in RELATION_LABELS.items()}


@dataclass(frozen=True, slots=True)
class Node:
    slug: str
    name: str
    kind: Kind
    depth: int  # hops from the map's entry (0 = the entry itself)
    parent: str | None  # the node it was reached from (None for the entry itself)
    group: str  # slug of the faction whose colour it wears ("" when none)
    group_name: str  # that faction's name ("" when none)
    colour: int | None = None  # the colour the pack gives it (its group's, else its kind's)


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    type: RelationType

    @property
    def label(self) -> str:
        return self.type.label


@dataclass(frozen=True, slots=True)
class RelationGraph:
    root: str
    depth: int
    nodes: tuple[Node, ...]  # the entry first, then by depth
    edges: tuple[Edge, ...]  # every plain relation between two drawn nodes, sorted
    trimmed: int  # visible entries within the depth that were left out to keep the map legible

    def node(self, slug: str) -> Node:
        return next(n for n in self.nodes if n.slug == slug)


class _Visible:
    """Renders entries for one policy, once each, and answers what is plain."""

    def __init__(self, lore: LoreService, policy: Policy, guild_id: int | None):
        self.lore, self.policy, self.guild_id = lore, policy, guild_id
        self._views: dict[str, EntryView | None] = {}

    def view(self, slug: str) -> EntryView | None:
        """The entry's view when it is shown plainly (not masked, not hidden), else None."""
        if slug not in self._views:
            entry = self.lore.get(slug, self.guild_id)
            view = self.lore.render(entry, self.policy, self.guild_id) if entry is not None else None
            self._views[slug] = view
        return self._views[slug]

    def relations(self, slug: str) -> list[tuple[RelationType, str]]:
        """The entry's relations a viewer sees plainly, as (type, target slug)."""
        view = self.view(slug)
        if view is None:
            return []
        out = []
        for item in view.relations:
            rtype = _TYPE_OF_LABEL.get(item.label or "")
            if item.target is None or rtype is None:
                continue
            if self.view(item.target) is not None:
                out.append((rtype, item.target))
        return out

    def neighbours(self, slug: str) -> list[str]:
        """Entries linked to ``slug`` by a plain relation, either way."""
        out = {target for _, target in self.relations(slug)}
        for source in self.lore.relation_sources(slug, self.guild_id):
            if source != slug and any(target == slug for _, target in self.relations(source)):
                out.add(source)
        out.discard(slug)
        return sorted(out, key=lambda s: (self.name(s).casefold(), s))

    def name(self, slug: str) -> str:
        view = self.view(slug)
        return view.title if view is not None else slug

    def group(self, slug: str) -> tuple[str, str]:
        view = self.view(slug)
        if view is None:
            return "", ""
        if view.kind is Kind.FACTION:
            return slug, view.title
        if view.kind is not Kind.CHARACTER:
            return "", ""
        rels = self.relations(slug)
        for wanted in AFFILIATIONS:
            for rtype, target in rels:
                target_view = self.view(target)
                if rtype is wanted and target_view is not None and target_view.kind is Kind.FACTION:
                    return target, target_view.title
        return "", ""


def relation_graph(
    lore: LoreService, slug: str, policy: Policy, guild_id: int | None = None, depth: int = 1
) -> RelationGraph | None:
    """The entry ``slug`` and the entries within ``depth`` relations of it that ``policy`` shows
    plainly; None when the entry itself is not shown plainly. Breadth first, nearest and then
    alphabetical first, at most :data:`MAX_NODES` nodes."""
    depth = max(1, min(depth, MAX_DEPTH))
    vis = _Visible(lore, policy, guild_id)
    root = vis.view(slug)
    if root is None:
        return None
    order: list[tuple[str, int, str | None]] = [(slug, 0, None)]
    seen = {slug}
    trimmed = 0
    frontier = [slug]
    for d in range(1, depth + 1):
        nxt = []
        for here in frontier:
            for other in vis.neighbours(here):
                if other in seen:
                    continue
                seen.add(other)
                if len(order) >= MAX_NODES:
                    trimmed += 1
                    continue
                order.append((other, d, here))
                nxt.append(other)
        frontier = nxt
    drawn = {s for s, _, _ in order}
    nodes = []
    for s, d, parent in order:
        node_view = vis.view(s)
        assert node_view is not None
        group, group_name = vis.group(s)
        colour = lore.franchise.entry_colour(group) if group else None
        colour = colour if colour is not None else lore.franchise.kind_colour(node_view.kind)
        nodes.append(Node(s, node_view.title, node_view.kind, d, parent, group, group_name, colour))
    edges = sorted(
        {Edge(s, t, rtype) for s in drawn for rtype, t in vis.relations(s) if t in drawn and t != s},
        key=lambda e: (e.source, e.target, e.type.value),
    )
    return RelationGraph(slug, depth, tuple(nodes), tuple(edges), trimmed)


# -- timeline ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "death" | "reveal"
    text: str


@dataclass(frozen=True, slots=True)
class EpisodeRow:
    number: int
    title: str
    title_ja: str | None
    air_date: str | None
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Timeline:
    episodes: tuple[EpisodeRow, ...] = field(default_factory=tuple)

    @property
    def first(self) -> int | None:
        return self.episodes[0].number if self.episodes else None

    @property
    def last(self) -> int | None:
        return self.episodes[-1].number if self.episodes else None


def _known_first(pair: tuple[int, str]) -> tuple[int, str]:
    return pair[0], pair[1].casefold()


def _event_candidates(lore: LoreService, guild_id: int | None) -> list[str]:
    """Entries that may add a death or a reveal to the timeline (any episode), by slug."""
    out = []
    for entry in lore.entries(guild_id):
        if any(st.state is LifeState.DECEASED for st in entry.statuses()) or any(
            rel.type is RelationType.IDENTITY_OF for rel in entry.relations
        ):
            out.append(entry.slug)
    return sorted(out)


def last_episode(lore: LoreService, policy: Policy) -> int:
    """The last episode a timeline under ``policy`` reaches: the policy's, or the finale under ``show``."""
    return policy.reach(lore.franchise.last)


def timeline(
    lore: LoreService,
    policy: Policy,
    guild_id: int | None = None,
    first: int = 1,
    last: int | None = None,
    candidates: Iterable[str] | None = None,
) -> Timeline:
    """Episodes ``first``..``last`` (at most :func:`last_episode`) whose entry ``policy`` shows
    plainly, each with the deaths and identity reveals a viewer at that policy has seen, in episode
    order. ``candidates`` (the entries that may carry events, from :func:`event_candidates`) saves
    a scan of every entry."""
    vis = _Visible(lore, policy, guild_id)
    reach = last_episode(lore, policy)
    last = reach if last is None else min(last, reach)
    events: dict[int, list[tuple[int, str, Event]]] = {}
    pairs: set[frozenset[str]] = set()
    for slug in candidates if candidates is not None else _event_candidates(lore, guild_id):
        view = vis.view(slug)
        entry = lore.get(slug, guild_id)
        if view is None or entry is None:
            continue
        st = view.status
        # the status the viewer reads (the renderer picks the latest one revealed to them)
        status = None
        if st is not None:
            status = next(
                (
                    x
                    for x in entry.statuses()
                    if x.episode == st.episode and status_text(x.state, x.note, x.episode) == st.text
                ),
                None,
            )
        if status is not None and status.state is LifeState.DECEASED and status.episode >= 1:
            note = re.sub(rf"\s+(in|of) episode {status.episode}\b", "", status.note or "").rstrip(". ")
            note = note[:1].lower() + note[1:]
            if not note:
                text = f"{view.title} dies"
            elif note.startswith(("dies", "died")):
                text = f"{view.title} {note}"
            else:
                text = f"{view.title}: {note}"
            events.setdefault(status.episode, []).append((0, view.title.casefold(), Event("death", text)))
        for item in view.relations:
            if item.target is None or item.label != RelationType.IDENTITY_OF.label:
                continue
            other = vis.view(item.target)
            pair = frozenset((slug, item.target))
            if other is None or pair in pairs or item.episode < 1:
                continue
            pairs.add(pair)
            # the one known first is the mask: "Jill is Flash Silvia"
            a, b = sorted(((view.introduced, view.title), (other.introduced, other.title)), key=_known_first)
            text = f"{a[1]} is {b[1]}"
            events.setdefault(item.episode, []).append((1, a[1].casefold(), Event("reveal", text)))
    rows = []
    for number in range(max(1, first), last + 1):
        ep = lore.episode(number, policy, guild_id)
        if ep is None or ep.episode is None:
            continue
        info = ep.episode
        evs = tuple(e for _, _, e in sorted(events.get(number, []), key=lambda t: (t[0], t[1], t[2].text)))
        rows.append(
            EpisodeRow(
                number=number,
                title=str(info.get("title") or ep.title),
                title_ja=info.get("title_ja"),
                air_date=info.get("air_date"),
                events=evs,
            )
        )
    return Timeline(tuple(rows))


event_candidates = _event_candidates

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "Edge",
    "EpisodeRow",
    "Event",
    "Node",
    "RelationGraph",
    "Timeline",
    "event_candidates",
    "last_episode",
    "relation_graph",
    "timeline",
]
