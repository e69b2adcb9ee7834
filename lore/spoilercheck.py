"""What a message says about the lore: the entries it names ("Look up lore") and whether it gives
away anything revealed after an episode ("Check for spoilers").

Both read the message with :class:`lore.mentions.MentionFinder`. A lookup finds only the names a
viewer may see (the visible world's names), so its answer is the one the world without later lore
would give; under ``tag`` it adds one spoiler block naming the later names it saw. The spoiler
check reads the message against every name of the lore, each with the episode it becomes known:
a mention of a name not yet known at the channel's episode (a later entry, or a later alias of an
entry already there) is a hit, and so is a twist the pack declares by its reveal phrases
(:class:`lore.model.RevealPhrase`). Its whole verdict is one spoiler span.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from lore.markup import escape, spoiler, spoiler_block
from lore.mentions import Mention, MentionFinder, Name, Unit, Word, words
from lore.model import Entry, RevealPhrase
from lore.spoilers import Mode, Policy

if TYPE_CHECKING:
    from lore.service import LoreService

#: How many other words may stand between two items of a reveal phrase ("Afdal is *actually* Verde").
GAP = 2
#: Room for a verdict or a later-names block (a message holds 2000 characters).
VERDICT_LIMIT = 1500
LATER_LIMIT = 1000
#: How much of the message a hit quotes.
QUOTE = 80


# -- reveal phrases ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Item:
    ref: str | None  # an entry slug, or None for a word
    words: frozenset[str]  # the folded alternatives of a word


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled reveal phrase: which entry's twist, of which episode."""

    slug: str
    episode: int
    text: str
    items: tuple[_Item, ...]


_SUFFIXES = ("ing", "ed", "es", "er", "s")


def stem(word: str) -> str:
    """A word without its English ending ("killing", "killed", "kills" -> "kill"), so a phrase's
    word matches its other forms; short words stay as they are ("is", "was", "dies")."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def compile_phrase(slug: str, phrase: RevealPhrase) -> Pattern:
    items = []
    for raw in phrase.text.split():
        if raw.startswith("{"):
            items.append(_Item(raw[1:-1], frozenset()))
        else:
            alts = frozenset(" ".join(stem(w.key) for w in words(alt)) for alt in raw.split("|"))
            items.append(_Item(None, frozenset(a for a in alts if a)))
    return Pattern(slug, phrase.episode, phrase.text, tuple(items))


def match_pattern(units: Sequence[Unit], pattern: Pattern, refs: dict[str, frozenset[str]]) -> tuple[int, int] | None:
    """Where ``pattern`` occurs in ``units`` (first and last unit), or None. ``refs`` maps a slug
    to the folded names that stand for it; up to :data:`GAP` other units may come between items,
    and a word matches its other forms (:func:`stem`)."""

    def fits(item: _Item, unit: Unit) -> bool:
        if item.ref is not None:
            return isinstance(unit, Mention) and unit.key in refs.get(item.ref, frozenset())
        return stem(unit.key) in item.words

    def rest(k: int, pos: int) -> int | None:
        if k == len(pattern.items):
            return pos - 1
        for p in range(pos, min(pos + GAP + 1, len(units))):
            if fits(pattern.items[k], units[p]):
                end = rest(k + 1, p + 1)
                if end is not None:
                    return end
        return None

    for start, unit in enumerate(units):
        if fits(pattern.items[0], unit):
            end = rest(1, start + 1)
            if end is not None:
                return start, end
    return None


# -- the catalogue of one lore -----------------------------------------------------------------
def names_of(entry: Entry) -> list[Name]:
    return [Name(text, entry.slug, episode) for text, episode in entry.all_names()]


class Catalog:
    """The names and reveal phrases of one lore (a server's view of it), with finders per episode."""

    def __init__(self, entries: Iterable[Entry]):
        self.entries = {e.slug: e for e in entries}
        self._names = [n for e in self.entries.values() for n in names_of(e)]
        self.full = MentionFinder(self._names)
        self._at: dict[int, MentionFinder] = {}
        self.patterns = [compile_phrase(e.slug, p) for e in self.entries.values() for p in e.reveal_phrases]
        self._keys: dict[str, list[tuple[str, int]]] = {}
        for n in self._names:
            key = " ".join(w.key for w in words(n.text))
            key = key.replace(" ", "") if _japanese(key) else key  # as the finder keys it
            self._keys.setdefault(n.slug, []).append((key, n.episode))
        self._refs: dict[int, dict[str, frozenset[str]]] = {}

    def finder(self, policy: Policy) -> MentionFinder:
        """The finder of the names a viewer under ``policy`` may see."""
        if policy.mode is Mode.SHOW:
            return self.full
        found = self._at.get(policy.episode)
        if found is None:
            found = self._at[policy.episode] = MentionFinder(n for n in self._names if n.episode <= policy.episode)
        return found

    def refs_before(self, episode: int) -> dict[str, frozenset[str]]:
        """Slug -> the folded names that stand for it in a phrase of ``episode`` (known before it)."""
        out = self._refs.get(episode)
        if out is None:
            out = self._refs[episode] = {
                slug: frozenset(k for k, ep in keys if ep < episode) for slug, keys in self._keys.items()
            }
        return out


def _japanese(key: str) -> bool:
    return any(ord(c) >= 0x3000 for c in key)


_CACHE: weakref.WeakKeyDictionary[LoreService, dict[int | None, tuple[tuple[int, int], Catalog]]] = (
    weakref.WeakKeyDictionary()
)


def catalog_for(lore: LoreService, guild_id: int | None) -> Catalog:
    """The catalogue of the lore a server sees, rebuilt when that lore changes."""
    per = _CACHE.setdefault(lore, {})
    version = lore.scope_version(guild_id)
    cached = per.get(guild_id)
    if cached is None or cached[0] != version:
        cached = per[guild_id] = (version, Catalog(lore.entries(guild_id)))
    return cached[1]


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return escape(flat if len(flat) <= QUOTE else flat[: QUOTE - 1].rstrip() + "…")


# -- "Look up lore" ----------------------------------------------------------------------------
@dataclass(slots=True)
class Lookup:
    """The entries a message names that the viewer may see (slug and the words that named it, in
    the order the message names them) and, under ``tag``, the block of later names it also holds."""

    found: list[tuple[str, str]] = field(default_factory=list)
    later: str | None = None


def lookup_names(catalog: Catalog, text: str, policy: Policy) -> Lookup:
    out = Lookup()
    seen: set[str] = set()
    for m in catalog.finder(policy).find(text):
        for slug in m.slugs:
            if slug not in seen:
                seen.add(slug)
                out.found.append((slug, m.text))
    if policy.mode is Mode.TAG:
        lines = [
            f"• “{_quote(h.said)}” is a name revealed in episode {h.episode}: {escape(h.entry_name)}."
            for h in _later_names(catalog, catalog.full.units(text), policy.episode)
        ]
        out.later = spoiler_block(lines, LATER_LIMIT)
    return out


# -- "Check for spoilers" ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Hit:
    """Something in the message revealed after the channel's episode."""

    kind: Literal["name", "phrase"]
    said: str  # the message's own words
    episode: int  # the episode that reveals it
    slug: str
    entry_name: str
    start: int


@dataclass(slots=True)
class Verdict:
    episode: int  # the channel's episode the message was checked against
    hits: list[Hit] = field(default_factory=list)

    @property
    def spoils(self) -> bool:
        return bool(self.hits)

    def episodes(self) -> list[int]:
        return sorted({h.episode for h in self.hits})


def _later_names(catalog: Catalog, units: Sequence[Unit], episode: int) -> list[Hit]:
    hits: list[Hit] = []
    for m in units:
        if not isinstance(m, Mention) or any(n.episode <= episode for n in m.names):
            continue
        first = min(m.names, key=lambda n: (n.episode, n.slug))
        entry = catalog.entries.get(first.slug)
        hits.append(Hit("name", m.text, first.episode, first.slug, entry.name if entry else first.text, m.start))
    return hits


def check_spoilers(catalog: Catalog, text: str, episode: int) -> Verdict:
    """Whether ``text`` gives away lore revealed after ``episode``, and what."""
    units = catalog.full.units(text)
    hits = _later_names(catalog, units, episode)
    for pattern in catalog.patterns:
        if pattern.episode <= episode:
            continue
        span = match_pattern(units, pattern, catalog.refs_before(pattern.episode))
        if span is None:
            continue
        start, end = units[span[0]].start, units[span[1]].end
        entry = catalog.entries.get(pattern.slug)
        hits.append(
            Hit("phrase", text[start:end], pattern.episode, pattern.slug, entry.name if entry else pattern.slug, start)
        )
    unique: dict[tuple[str, str, int], Hit] = {}
    for h in sorted(hits, key=lambda h: (h.start, h.kind)):
        key = (h.kind, h.slug if h.kind == "phrase" else " ".join(w.key for w in words(h.said)), h.episode)
        unique.setdefault(key, h)
    return Verdict(episode, sorted(unique.values(), key=lambda h: (h.episode, h.start)))


def verdict_text(verdict: Verdict) -> str:
    """The verdict as one spoiler span (its words are shown only to whoever opens it)."""
    if not verdict.spoils:
        lines = [f"No: nothing in this message is revealed after episode {verdict.episode}, as far as this lore knows."]
    else:
        lines = [f"Yes: this message gives away lore revealed after episode {verdict.episode}."]
        for h in verdict.hits:
            what = "a name first heard in" if h.kind == "name" else "a twist of"
            lines.append(f"• “{_quote(h.said)}”: {what} episode {h.episode} ({escape(h.entry_name)})")
    return spoiler_block(lines, VERDICT_LIMIT)


def spoiler_tagged(text: str) -> str:
    """``text`` shown inside a spoiler span, its own markup escaped so the span cannot break."""
    return spoiler(escape(text))


__all__ = [
    "Catalog",
    "Hit",
    "Lookup",
    "Pattern",
    "Verdict",
    "Word",
    "catalog_for",
    "check_spoilers",
    "compile_phrase",
    "lookup_names",
    "match_pattern",
    "spoiler_tagged",
    "verdict_text",
]
