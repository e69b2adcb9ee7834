"""The one place that decides what a viewer sees of an entry under a spoiler policy.

``render_entry`` turns an :class:`~lore.model.Entry` and a :class:`~lore.spoilers.Policy` into an
:class:`EntryView`: every text in the view is final (spoiler-tagged where the policy says so), and
every field marked *safe* (``title``, labels) never carries a later reveal. Adapters (Discord
embeds, the CLI's JSON) only lay the view out; they never decide visibility.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lore.model import MAX_EPISODE, Entry, Kind, LifeState, Status
from lore.spoilers import Mode, Policy, spoiler

#: Resolves a relation target slug to (display name, episode it is introduced), or None.
TargetLookup = Callable[[str], tuple[str, int] | None]


@dataclass(frozen=True, slots=True)
class Appearance:
    """A character's appearance in episode ``number`` as an episode's cast lists it; ``episode``
    is the cast item's own gate (when the appearance is recognised only later)."""

    number: int
    first: bool = False
    episode: int = 0


@dataclass(frozen=True, slots=True)
class Item:
    """One rendered piece of lore. ``text`` is final: already wrapped when ``spoiler``."""

    text: str
    episode: int
    spoiler: bool = False
    label: str | None = None  # safe label for attributes ("Colour") and relations ("member of")
    target: str | None = None  # relation target slug, only when the relation is plain


@dataclass(slots=True)
class EntryView:
    slug: str | None  # None when masked: the slug would name the entry
    kind: Kind
    title: str  # safe: never a later reveal
    name: str  # the name as the viewer may see it (tagged when masked)
    masked: bool
    introduced: int
    policy: Policy
    summary: str = ""
    aliases: list[Item] = field(default_factory=list)
    facts: list[Item] = field(default_factory=list)
    attributes: list[Item] = field(default_factory=list)
    relations: list[Item] = field(default_factory=list)
    status: Item | None = None
    cast: list[Item] = field(default_factory=list)  # an episode's cast ("Rouge Redstar (first appearance)")
    appearances: list[Item] = field(default_factory=list)  # a character's episodes ("3 (first)")
    episode: dict[str, Any] | None = None  # number, title, title_ja, alt_titles, air_date, computed
    hidden: int = 0  # items held back under ``hide``

    def to_json(self) -> dict[str, Any]:
        def items(xs: list[Item]) -> list[dict[str, Any]]:
            out = []
            for x in xs:
                d: dict[str, Any] = {"text": x.text, "episode": x.episode}
                if x.label:
                    d["label"] = x.label
                if x.spoiler:
                    d["spoiler"] = True
                out.append(d)
            return out

        return {
            "slug": self.slug,
            "name": self.name,
            "title": self.title,
            "kind": self.kind.value,
            "introduced": self.introduced,
            "masked": self.masked,
            "aliases": [a.text for a in self.aliases],
            "summary": self.summary,
            "facts": items(self.facts),
            "attributes": items(self.attributes),
            "relations": items(self.relations),
            "status": None if self.status is None else self.status.text,
            "cast": items(self.cast),
            "appearances": items(self.appearances),
            "episode": self.episode,
            "hidden": self.hidden,
            "policy": {"episode": self.policy.episode, "mode": self.policy.mode.value},
        }


def status_text(state: LifeState, note: str | None, episode: int) -> str:
    if state is LifeState.DECEASED:
        base = f"Deceased (episode {episode})" if episode else "Deceased"
    elif state is LifeState.ALIVE:
        base = "Alive"
    else:
        base = "Unknown"
    return f"{base} — {note}" if note else base


def _latest(statuses: Sequence[Status], episode: int) -> Status | None:
    """The last status revealed by ``episode``."""
    out = None
    for st in statuses:
        if st.episode <= episode:
            out = st
    return out


def render_entry(
    entry: Entry,
    policy: Policy,
    *,
    reached_at: int | None = None,
    targets: TargetLookup | None = None,
    appearances: Sequence[Appearance] = (),
) -> EntryView | None:
    """Render ``entry`` for ``policy``.

    ``reached_at`` is the episode of the name or alias through which the viewer reached the entry
    (default: the entry's own ``introduced``). When that lies beyond the policy's episode the entry
    does not exist under ``hide`` (returns ``None``) and is *masked* under ``tag``: a neutral title
    and every piece of content in spoiler tags, since even linking the name to the entry is a reveal.

    A later summary or status replaces the earlier one from its own episode on; the viewer reads
    the latest one revealed by the policy's episode. Later ones are neither shown nor counted (the
    facts carry each reveal), so what is shown depends only on what the viewer may see.
    ``appearances`` are the episodes whose cast lists the entry.
    """
    gate = max(entry.introduced, reached_at if reached_at is not None else entry.introduced)
    plain_entry = policy.reveals(gate)
    if not plain_entry and policy.mode is Mode.HIDE:
        return None
    masked = not plain_entry  # only reachable under tag

    hidden = 0

    def gated(text: str, episode: int) -> Item | None:
        nonlocal hidden
        if masked:
            return Item(spoiler(text), episode, True)
        if policy.reveals(episode):
            return Item(text, episode)
        if policy.mode is Mode.TAG:
            return Item(spoiler(text), episode, True)
        hidden += 1
        return None

    title = f"Spoiler: episode {gate}" if masked else entry.name
    name = spoiler(entry.name) if masked else entry.name
    # The episode whose summary and status the viewer reads (under tag, a masked entry's own).
    seen_up_to = gate if masked else (MAX_EPISODE if policy.mode is Mode.SHOW else policy.episode)
    summary = entry.summary_at(seen_up_to)
    view = EntryView(
        slug=None if masked else entry.slug,
        kind=entry.kind,
        title=title,
        name=name,
        masked=masked,
        introduced=entry.introduced,
        policy=policy,
        summary=(spoiler(summary) if masked and summary else summary),
    )
    if masked:
        view.aliases.append(Item(name, gate, True))

    for alias in entry.aliases:
        item = gated(alias.name, max(alias.episode, entry.introduced))
        if item:
            view.aliases.append(item)
    for fact in entry.facts:
        item = gated(fact.text, fact.episode)
        if item:
            view.facts.append(item)
    for attr in entry.attributes:
        # A plain attribute's label becomes a field name. A tagged one keeps its label inside the
        # tags: "Species: ||...||" on a card would already say there is something to know.
        tagged = masked or (policy.mode is Mode.TAG and not policy.reveals(attr.episode))
        item = gated(f"{attr.label}: {attr.value}" if tagged else attr.value, attr.episode)
        if item:
            view.attributes.append(Item(item.text, item.episode, item.spoiler, label=None if tagged else attr.label))
    for rel in entry.relations:
        target = targets(rel.target) if targets else None
        if target is None:
            continue  # a relation to an entry this scope does not have is not shown
        target_name, target_introduced = target
        episode = max(rel.episode, target_introduced)
        text = f"{rel.type.label} {target_name}" + (f" ({rel.note})" if rel.note else "")
        item = gated(text, episode)
        if item:
            view.relations.append(
                Item(
                    item.text,
                    item.episode,
                    item.spoiler,
                    label=rel.type.label,
                    target=None if item.spoiler else rel.target,
                )
            )
    if entry.status is not None:
        st = _latest(entry.statuses(), seen_up_to) or entry.status
        view.status = gated(status_text(st.state, st.note, st.episode), st.episode)
    for app in sorted(appearances, key=lambda a: a.number):
        label = f"{app.number}" + (" (first)" if app.first else "")
        item = gated(label, max(app.number, app.episode, entry.introduced))
        if item:
            view.appearances.append(item)
    if entry.episode is not None:
        info = entry.episode
        for member in info.cast:
            target = targets(member.character) if targets else None
            if target is None:
                continue  # someone this scope does not have is not listed
            target_name, target_introduced = target
            text = target_name + (" (first appearance)" if member.first else "")
            text += f" — {member.note}" if member.note else ""
            item = gated(text, max(info.number, target_introduced, member.episode))
            if item:
                view.cast.append(
                    Item(item.text, item.episode, item.spoiler, target=None if item.spoiler else member.character)
                )
        view.episode = {
            "number": info.number,
            "title": info.title,
            "title_ja": info.title_ja,
            "alt_titles": list(info.alt_titles),
            "air_date": info.air_date.isoformat() if info.air_date else None,
            "air_date_computed": info.air_date_computed,
        }
        if masked:
            view.episode = {"number": info.number}
    view.hidden = hidden
    return view
