"""The franchise a canon pack defines: its episode list (optionally in seasons), its series entry,
how the bot presents itself, its colours and its featured rosters.

Everything that used to be a constant of one show is read from here: the episode count bounds
every range check, option and stored value; the adapters register and word their commands from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from lore.errors import LoreError
from lore.model import (
    BotCard,
    Colours,
    Entry,
    EpisodeList,
    FeaturedRoster,
    Kind,
    Pack,
    PackMeta,
    RelationType,
)

#: Relations by which an entry wears a group's colour.
AFFILIATION_LABELS = frozenset(
    t.label for t in (RelationType.MEMBER_OF, RelationType.WORKS_FOR, RelationType.LEADS, RelationType.PART_OF)
)

#: ``15``, ``ep 15``, ``episode 15``; ``s2e3``, ``S02E03``, ``s2 e3``, ``season 2 episode 3``, ``2x3``.
_NUMBER = re.compile(r"(?:e|ep|episode)?\s*(\d{1,6})", re.IGNORECASE)
_SEASONED = re.compile(
    r"(?:s|season)\s*(\d{1,6})\s*[-,.:/]?\s*(?:e|ep|episode)\s*(\d{1,6})|(\d{1,6})\s*x\s*(\d{1,6})",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class SeasonSpan:
    number: int  # 1-based
    label: str
    first: int  # the first episode's position in the whole list
    last: int


class EpisodeError(LoreError):
    """Text that names no episode of the franchise (the message says which ones there are)."""


@dataclass(frozen=True)
class Franchise:
    """The canon pack's metadata, read as the franchise it defines."""

    meta: PackMeta
    episodes: EpisodeList

    @classmethod
    def of(cls, meta: PackMeta, pack: Pack | None = None) -> Franchise:
        """The franchise of ``meta``; a pack that declares no episode list has as many episodes as
        the highest one it names (``pack``, when given), at least one."""
        if meta.episodes is not None:
            return cls(meta, meta.episodes)
        count = max(highest_episode(pack), 1) if pack is not None else 1
        return cls(meta, EpisodeList(count=count))

    # -- episodes ----------------------------------------------------------------------------
    @property
    def last(self) -> int:
        """The last episode (the count): every episode number lies in 0..last."""
        return self.episodes.count

    @cached_property
    def seasons(self) -> tuple[SeasonSpan, ...]:
        spans, first = [], 1
        for i, season in enumerate(self.episodes.seasons, start=1):
            last = first + season.episodes - 1
            spans.append(SeasonSpan(i, season.label or f"Season {i}", first, last))
            first = last + 1
        return tuple(spans)

    def season_of(self, episode: int) -> tuple[SeasonSpan, int] | None:
        """The season holding ``episode`` and its number within it (None: no seasons, or episode 0)."""
        for span in self.seasons:
            if span.first <= episode <= span.last:
                return span, episode - span.first + 1
        return None

    def code(self, episode: int) -> str | None:
        """``S2E3`` for a franchise with seasons, else None."""
        found = self.season_of(episode)
        return f"S{found[0].number}E{found[1]}" if found else None

    def label(self, episode: int, *, capital: bool = False) -> str:
        """How a reply names an episode: ``episode 15``, or ``episode 15 (S2E3)`` with seasons
        (``Episode 15 (S2E3)`` with ``capital``: to begin a sentence, a heading or a field)."""
        code = self.code(episode)
        return f"{'Episode' if capital else 'episode'} {episode}" + (f" ({code})" if code else "")

    def span_label(self, first: int, last: int, *, capital: bool = False) -> str:
        """How a reply names a run of episodes: ``episodes 13–24``, or ``episodes 13–24 (S2E1–S2E12)``
        with seasons (one episode: its :meth:`label`)."""
        if first == last:
            return self.label(first, capital=capital)
        codes = self.code(first), self.code(last)
        text = f"{'Episodes' if capital else 'episodes'} {first}–{last}"
        return text + (f" ({codes[0]}–{codes[1]})" if codes[0] and codes[1] else "")

    def range_text(self, first: int = 0) -> str:
        """``0 to 24`` (and how to type it by season, when there are seasons)."""
        text = f"{first} to {self.last}"
        return text + (f", or s1e1 to {self.code(self.last)}".lower() if self.seasons else "")

    def parse_episode(self, text: str, *, first: int = 0, what: str = "episode") -> int:
        """The episode ``text`` names: a number (``15``) or, with seasons, ``s2e3`` (``2x3``,
        ``season 2 episode 3``). Raises :class:`EpisodeError` with a sentence saying what to type."""
        raw = text.strip()
        if m := _NUMBER.fullmatch(raw):
            n = int(m.group(1))
            if first <= n <= self.last:
                return n
            raise EpisodeError(f"The {what} must be {self._expected(first)}.")
        if m := _SEASONED.fullmatch(raw):
            season, number = (int(g) for g in (m.group(1) or m.group(3), m.group(2) or m.group(4)))
            if not self.seasons:
                raise EpisodeError(
                    f"This series has no seasons: the {what} must be a number from {first} to {self.last}."
                )
            if not 1 <= season <= len(self.seasons):
                raise EpisodeError(f"There is no season {season}: the series has {len(self.seasons)} seasons.")
            span = self.seasons[season - 1]
            if not 1 <= number <= span.last - span.first + 1:
                raise EpisodeError(f"{span.label} has episodes 1 to {span.last - span.first + 1}.")
            return span.first + number - 1
        raise EpisodeError(f"“{raw[:40]}” is not an episode: the {what} must be {self._expected(first)}.")

    def _expected(self, first: int) -> str:
        text = f"a number from {first} to {self.last}"
        if self.seasons:
            text += f", or a season and episode such as s{len(self.seasons)}e1 (s1e1 to {self.code(self.last)})".lower()
        return text

    def check_episode(self, episode: int, *, first: int = 0, what: str = "episode") -> int:
        """``episode`` if it lies in ``first..last``, else :class:`EpisodeError`."""
        if not first <= episode <= self.last:
            raise EpisodeError(f"The {what} must be between {first} and {self.last}.")
        return episode

    # -- presentation ------------------------------------------------------------------------
    @property
    def series(self) -> str | None:
        return self.meta.series

    @property
    def bot(self) -> BotCard:
        return self.meta.bot

    @property
    def colours(self) -> Colours:
        return self.meta.colours

    @property
    def rosters(self) -> list[FeaturedRoster]:
        return self.meta.rosters

    def roster(self, command: str) -> FeaturedRoster | None:
        return next((r for r in self.meta.rosters if r.command == command), None)

    def kind_colour(self, kind: Kind) -> int | None:
        return self.meta.colours.kinds.get(kind)

    def entry_colour(self, slug: str) -> int | None:
        return self.meta.colours.entries.get(slug)

    def colour_for(self, slug: str, kind: Kind, relations: Iterable[tuple[str | None, str | None]]) -> int | None:
        """The colour an entry wears: its own, else that of the first group it belongs to (among
        ``relations``, the (label, target) pairs the viewer sees), else its kind's (None: the pack
        gives none)."""
        colours = self.meta.colours.entries
        if slug in colours:
            return colours[slug]
        for label, target in relations:
            if target in colours and label in AFFILIATION_LABELS:
                return colours[target]
        return self.meta.colours.kinds.get(kind)


#: An entry's lists whose every item carries the episode that reveals it.
EPISODE_GROUPS = (
    "aliases",
    "facts",
    "attributes",
    "relations",
    "later_summaries",
    "later_statuses",
    "reveal_phrases",
)


def highest_episode(pack: Pack | None) -> int:
    """The highest episode number ``pack`` names anywhere (0 for none)."""
    if pack is None:
        return 0
    return max((n for entry in pack.entries for n in episode_numbers(entry)), default=0)


def episode_numbers(entry: Entry) -> Iterator[int]:
    """Every episode number an entry holds (where it is introduced, each item's reveal, its own number)."""
    yield entry.introduced
    for group in EPISODE_GROUPS:
        for item in getattr(entry, group):
            yield item.episode
    if entry.status is not None:
        yield entry.status.episode
    if entry.episode is not None:
        yield entry.episode.number
        for member in entry.episode.cast:
            yield member.episode
