"""The one place that decides what a viewer sees of an entry under a spoiler policy.

``render_entry`` turns an :class:`~lore.model.Entry` and a :class:`~lore.spoilers.Policy` into an
:class:`EntryView`. The rule is the counterfactual one (see :mod:`lore.visible`): outside the
``later`` block, a view under ``tag`` is exactly the view under ``hide``, and a view under
``hide`` is exactly the view of the entry with everything later removed. Under ``tag`` the view
carries one ``later`` block, always, entirely inside one spoiler span, holding every later item
(or saying that nothing more is to come); no span ever sits next to the item it would change.

Every ``text``, ``summary`` and ``later`` in a view is final Markdown: pack and user text is
escaped (:func:`lore.markup.escape`), so it can neither open nor close a span. ``title``, ``name``
and ``label`` are plain text, for places Discord does not read markup in (titles, field names,
footers, choices, buttons).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lore.markup import escape, spoiler_block
from lore.model import EPISODE_CEILING, Entry, Kind, LifeState, Status
from lore.spoilers import Mode, Policy
from lore.visible import title_episode

#: Resolves a relation target slug to (display name, episode it is introduced), or None.
TargetLookup = Callable[[str], tuple[str, int] | None]

#: The later block's size at most: one embed field's value.
LATER_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class Appearance:
    """A character's appearance in episode ``number`` as an episode's cast lists it; ``episode``
    is the cast item's own gate (when the appearance is recognised only later)."""

    number: int
    first: bool = False
    episode: int = 0


@dataclass(frozen=True, slots=True)
class Item:
    """One rendered piece of lore: ``text`` is final Markdown, ``label`` plain text."""

    text: str
    episode: int
    label: str | None = None  # attributes ("Colour") and relations ("member of")
    target: str | None = None  # relation target slug


@dataclass(slots=True)
class EntryView:
    slug: str
    kind: Kind
    title: str  # plain: the entry's name (an episode's number, and its title once revealed)
    name: str  # plain
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
    episode: dict[str, Any] | None = None  # number, air date; titles once revealed (escaped)
    #: Under ``tag``: one spoiler span with every later item, present whether or not there are any.
    later: str | None = None
    #: The colour the pack gives the entry, from what the viewer sees (None: the adapter's default).
    colour: int | None = None

    def to_json(self) -> dict[str, Any]:
        def items(xs: list[Item]) -> list[dict[str, Any]]:
            out = []
            for x in xs:
                d: dict[str, Any] = {"text": x.text, "episode": x.episode}
                if x.label:
                    d["label"] = x.label
                out.append(d)
            return out

        return {
            "slug": self.slug,
            "name": self.name,
            "title": self.title,
            "kind": self.kind.value,
            "introduced": self.introduced,
            "aliases": [a.text for a in self.aliases],
            "summary": self.summary,
            "facts": items(self.facts),
            "attributes": items(self.attributes),
            "relations": items(self.relations),
            "status": None if self.status is None else self.status.text,
            "cast": items(self.cast),
            "appearances": items(self.appearances),
            "episode": self.episode,
            "later": self.later,
            "policy": {"episode": self.policy.episode, "mode": self.policy.mode.value},
        }


def status_text(state: LifeState, note: str | None, episode: int) -> str:
    """A status as plain text (escape it before it goes into Markdown)."""
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


def _ep(episode: int) -> str:
    return f" (ep {episode})" if episode else ""


def render_entry(
    entry: Entry,
    policy: Policy,
    *,
    targets: TargetLookup | None = None,
    appearances: Sequence[Appearance] = (),
) -> EntryView | None:
    """Render ``entry`` for ``policy``; None when the entry itself is introduced after the policy's
    episode (under ``hide`` and ``tag`` alike: it does not exist for this viewer).

    A later summary or status replaces the earlier one from its own episode on; the viewer reads
    the latest one revealed by the policy's episode (later ones go to the ``later`` block).
    ``appearances`` are the episodes whose cast lists the entry.
    """
    if not policy.reveals(entry.introduced):
        return None
    later: list[str] = []  # escaped lines of the later block
    seen_up_to = policy.reach(EPISODE_CEILING)  # under show: every later summary and status

    def shown(episode: int) -> bool:
        return policy.reveals(episode)

    view = EntryView(
        slug=entry.slug,
        kind=entry.kind,
        title=entry.name,
        name=entry.name,
        introduced=entry.introduced,
        policy=policy,
        summary=escape(entry.summary_at(seen_up_to)),
    )
    for summary in entry.later_summaries:
        if not shown(summary.episode):
            later.append(f"• Later summary: {escape(summary.text)}{_ep(summary.episode)}")
    for alias in entry.aliases:
        episode = max(alias.episode, entry.introduced)
        if shown(episode):
            view.aliases.append(Item(escape(alias.name), episode))
        else:
            later.append(f"• Also known as {escape(alias.name)}{_ep(episode)}")
    if entry.status is not None:
        current = _latest(entry.statuses(), seen_up_to)
        for st in entry.statuses():
            text = escape(status_text(st.state, st.note, st.episode))
            if st is current:
                view.status = Item(text, st.episode)
            elif not shown(st.episode):
                later.append(f"• Status: {text}{_ep(st.episode)}")
    for attr in entry.attributes:
        if shown(attr.episode):
            view.attributes.append(Item(escape(attr.value), attr.episode, label=attr.label))
        else:
            later.append(f"• {escape(attr.label)}: {escape(attr.value)}{_ep(attr.episode)}")
    for rel in entry.relations:
        target = targets(rel.target) if targets else None
        if target is None:
            continue  # a relation to an entry this scope does not have is not shown
        target_name, target_introduced = target
        episode = max(rel.episode, target_introduced)
        text = f"{rel.type.label} {escape(target_name)}" + (f" ({escape(rel.note)})" if rel.note else "")
        if shown(episode):
            view.relations.append(Item(text, episode, label=rel.type.label, target=rel.target))
        else:
            later.append(f"• {text}{_ep(episode)}")
    for fact in entry.facts:
        if shown(fact.episode):
            view.facts.append(Item(escape(fact.text), fact.episode))
        else:
            later.append(f"• {escape(fact.text)}{_ep(fact.episode)}")
    for app in sorted(appearances, key=lambda a: a.number):
        label = f"{app.number}" + (" (first)" if app.first else "")
        episode = max(app.number, app.episode, entry.introduced)
        if shown(episode):
            view.appearances.append(Item(label, episode))
        else:
            later.append(f"• Appears in episode {label}")
    if entry.episode is not None:
        info = entry.episode
        for member in info.cast:
            target = targets(member.character) if targets else None
            if target is None:
                continue  # someone this scope does not have is not listed
            target_name, target_introduced = target
            text = escape(target_name) + (" (first appearance)" if member.first else "")
            text += f" — {escape(member.note)}" if member.note else ""
            episode = max(info.number, target_introduced, member.episode)
            if shown(episode):
                view.cast.append(Item(text, episode, target=member.character))
            else:
                later.append(f"• Cast: {text}{_ep(episode)}")
        view.episode = {
            "number": info.number,
            "air_date": info.air_date.isoformat() if info.air_date else None,
            "air_date_computed": info.air_date_computed,
        }
        at = title_episode(entry) or 0
        if shown(at):
            view.episode.update(
                title=escape(info.title),
                title_ja=escape(info.title_ja) if info.title_ja else None,
                alt_titles=[escape(t) for t in info.alt_titles],
            )
            if info.title and info.title.casefold() != entry.name.casefold():
                view.title = f"{entry.name}: {info.title}"
        else:
            titles = [info.title, *([info.title_ja] if info.title_ja else []), *info.alt_titles]
            titles = [t for t in titles if t.casefold() != entry.name.casefold()]
            if titles:
                later.insert(0, f"• Title: {' / '.join(escape(t) for t in titles)}{_ep(at)}")
    if policy.mode is Mode.TAG:
        view.later = spoiler_block(later, LATER_LIMIT)
    return view
