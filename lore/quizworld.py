"""The visible world a quiz draws from: the entries as :func:`lore.render.render_entry` renders them
under ``hide`` at the viewer's episode, so that only plain items are used (no spoiler span, no entry
introduced later, no later alias, relation, status or attribute), and the relations and identities
among them. Nothing here decides visibility; it only reads what the renderer kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lore.model import Entry, Kind, LifeState
from lore.render import EntryView
from lore.spoilers import Mode, Policy

if TYPE_CHECKING:
    from lore.service import LoreService


@dataclass(slots=True)
class VisibleEntry:
    """An entry as the renderer lets the viewer see it (plain items only), plus its structured
    status when the renderer shows the status."""

    view: EntryView
    state: LifeState | None

    @property
    def slug(self) -> str:
        return self.view.slug or ""

    @property
    def name(self) -> str:
        return self.view.title


def quiz_policy(policy: Policy, last_episode: int) -> Policy:
    """The policy questions are drawn under: only what the viewer sees plainly. Under ``tag`` a
    spoiler span is not "seen", so it is left out as under ``hide``; ``show`` shows everything
    (up to ``last_episode``, the franchise's finale)."""
    return Policy(episode=policy.reach(last_episode), mode=Mode.HIDE, source=policy.source)


def visible_entries(rendered: Iterable[tuple[Entry, EntryView | None]]) -> list[VisibleEntry]:
    """The visible world from entries rendered under :func:`quiz_policy` (sorted by slug)."""
    out = []
    for entry, view in rendered:
        if view is None or not view.slug:
            continue
        state = entry.status.state if (entry.status is not None and view.status is not None) else None
        out.append(VisibleEntry(view, state))
    out.sort(key=lambda v: v.slug)
    return out


def world_for(service: LoreService, policy: Policy, guild_id: int | None) -> tuple[list[VisibleEntry], int]:
    """The visible world of a guild's lore under ``policy`` (and the episode it stops at)."""
    p = quiz_policy(policy, service.franchise.last)
    rendered = ((e, service.render(e, p, guild_id)) for e in service.entries(guild_id))
    return visible_entries(rendered), p.episode


#: The label of the same relation seen from its target ("A killed B" is "B killed by A").
_INVERSE = {
    "killed": "killed by",
    "killed by": "killed",
    "parent of": "child of",
    "child of": "parent of",
    "created": "created by",
    "created by": "created",
    "sibling of": "sibling of",
    "allied with": "allied with",
    "fought": "fought",
    "same person as": "same person as",
    "opposes": "opposes",
}


class World:
    """The visible entries by slug, with their plain relations (both ways) and identities."""

    def __init__(self, entries: Sequence[VisibleEntry], episode: int):
        self.entries = list(entries)
        self.episode = episode
        self.by_slug = {e.slug: e for e in self.entries}
        # (subject, label) -> targets, and identity groups, from plain relations only
        self.rel: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.same: dict[str, set[str]] = defaultdict(set)
        for e in self.entries:
            for r in e.view.relations:
                if r.target is None or r.label is None or r.target not in self.by_slug:
                    continue
                self.rel[(e.slug, r.label)].add(r.target)
                inverse = _INVERSE.get(r.label)
                if inverse:
                    self.rel[(r.target, inverse)].add(e.slug)
                if r.label == "same person as":
                    self.same[e.slug].add(r.target)
                    self.same[r.target].add(e.slug)

    def closure(self, slugs: Iterable[str], labels: set[str]) -> set[str]:
        """``slugs`` and everything they are (transitively) ``labels`` of: what is part of Ochrona
        is also in what Ochrona is part of; what is in Canal City is also on Mars."""
        seen, todo = set(slugs), list(slugs)
        while todo:
            s = todo.pop()
            for lab in labels:
                for t in self.rel.get((s, lab), ()):
                    if t not in seen:
                        seen.add(t)
                        todo.append(t)
        return seen

    def people(self, slug: str) -> set[str]:
        """``slug`` and every entry the viewer knows to be the same person."""
        seen, todo = {slug}, [slug]
        while todo:
            for other in self.same.get(todo.pop(), ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return seen

    def expand(self, slugs: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for s in slugs:
            out |= self.people(s)
        return out

    def of_kind(self, kind: Kind) -> list[VisibleEntry]:
        return [e for e in self.entries if e.view.kind is kind]

    def names(self, slugs: Iterable[str]) -> tuple[str, ...]:
        return tuple(self.by_slug[s].name for s in sorted(slugs) if s in self.by_slug)
