"""What the lore service answers with: a lookup, a roster, full-text hits, an entry's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from lore.model import EPISODE_CEILING, Kind
from lore.render import EntryView
from lore.resolve import LookupResult
from lore.spoilers import Policy
from lore.store import CANON, RevisionInfo


@dataclass(slots=True)
class Answer:
    """A lookup and its rendering under one policy: the same view a Discord reply gives."""

    query: str
    policy: Policy
    result: LookupResult
    view: EntryView | None
    #: Under ``tag``, when there is no card: one spoiler span saying what, if anything, the query
    #: names in later episodes (always there, so that its presence tells nothing).
    note: str | None = None
    #: The franchise's last episode (whether the policy holds anything back).
    last_episode: int = EPISODE_CEILING

    @property
    def found(self) -> bool:
        return self.view is not None

    @property
    def exact(self) -> bool:
        """Whether the match is what the query names in full (a slug, a name or an alias), not a guess."""
        return self.view is not None and self.result.match is not None and self.result.match.score >= 100.0

    @property
    def later(self) -> str | None:
        """The reply's spoiler block under ``tag`` (the card's, else the note), else None."""
        return self.view.later if self.view is not None else self.note

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "match": self.view.to_json() if self.view else None,
            "candidates": [c.to_json() for c in self.result.candidates],
            "ambiguous": self.result.ambiguous,
            "hidden": self.policy.holds_back(self.last_episode),
            "later": self.later,
        }


class History(NamedTuple):
    """An entry's revisions as a guild sees them: its own (``scope`` is the guild's), else the canon's."""

    scope: str
    revisions: list[RevisionInfo]

    @property
    def own(self) -> bool:
        """Whether these are the guild's own revisions (something to revert), not the canon's."""
        return self.scope != CANON


@dataclass(frozen=True, slots=True)
class RosterLine:
    slug: str
    name: str  # plain text
    status: str | None  # final Markdown; only a status the viewer may see


@dataclass(slots=True)
class Roster:
    group: EntryView
    members: list[RosterLine]
    #: Under ``tag``: one spoiler span with later members and fates (always there), else None.
    later: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    slug: str
    name: str  # plain text
    kind: Kind
    snippet: str  # final Markdown: escaped, the matched words in bold
    episode: int


@dataclass(slots=True)
class SearchResults:
    """Full-text hits the viewer may see. Deliberately no count of what was left out: it would
    depend on the viewer's own words, and so tell whether later lore mentions them."""

    query: str
    hits: list[SearchHit] = field(default_factory=list)
