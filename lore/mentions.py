"""Finding the lore names a piece of text mentions (a Discord message, say).

The rule, in order:

1. **Words, not letters.** Text and names are cut into words and folded as for search
   (:func:`lore.normalize.normalize`: case, accents, width, hiragana = katakana); a Latin name
   matches whole words only, so "Ash" is not found in "crash" nor "Rion" in "Orion". A name in
   Japanese script matches inside a run of Japanese text (which has no spaces), ignoring the
   punctuation between its parts ("ゼ・ノア" = "ゼノア").
2. **Longest wins.** Where several names start at the same place the longest is taken ("Flash
   Silvia" rather than "Silvia"), and mentions never overlap: the text is read left to right.
3. **No tiny-word hits.** A name of one or two letters, or written in capitals as an acronym
   ("ID", "WPD"), matches only as the pack writes it; a name that is an everyday English word
   ("Opera", "Alter", "The First", "Reactor") matches only when the message capitalises it. A
   name made only of digits never matches.

:class:`MentionFinder` is built from the names to look for (each with the entry it names and the
episode it becomes known) and answers :meth:`MentionFinder.find` (the mentions) and
:meth:`MentionFinder.units` (the text as a sequence of mentions and plain words, for phrases).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from lore.normalize import normalize

#: A run of word characters in the original text, Latin (and other alphabets) apart from Japanese
#: script, so that "Rougeとナオミ" is "Rouge" then "とナオミ" ("ー" lengthens a kana word).
_RUN_RE = re.compile(r"(?:(?![\u3000-\uffff])\w)+|(?:(?=[\u3000-\uffff])[\wー])+")
#: Words that do not make a name distinctive ("The First" is as common as "first").
FUNCTION_WORDS = frozenset({"the", "a", "an", "of", "and", "to", "in", "on", "for", "with", "s", "my", "our"})
#: Everyday English words that are also names in the lore. Written in lower case in a message they
#: are taken as the word, not the name ("I love opera" mentions no one).
COMMON_WORDS = frozenset(
    {
        "ace", "alter", "alters", "ash", "bird", "carnival", "cyan", "deform", "eden", "first", "gene",
        "gladiator", "gladiators", "grandmother", "human", "humans", "ice", "liner", "nectar", "noir",
        "opera", "panacea", "reactor", "red", "scarlet", "settlement", "smith", "viola", "visitors",
        "usurpers", "war", "machine", "machines", "figure", "ending", "opening", "theme", "song",
        "devil", "crimson", "black", "library", "memory", "house", "nowhere",
        "family", "portrait", "target", "planet", "mask", "masked", "graveyard", "guest", "nameless",
        "gear", "appropriate", "freedom", "phantoms", "city", "marginal", "labyrinth", "dawn", "sound",
        "sister", "brother", "doctor", "chief", "director", "investigator", "administrator", "core",
        "ones", "who", "visited", "lost", "memories", "dances", "wander",
    }
)  # fmt: skip


class Rule(IntEnum):
    """How strictly a name must be written to count (the least strict spelling of a key wins)."""

    ANY_CASE = 0
    CAPITALISED = 1  # an everyday word: the message must capitalise it
    EXACT = 2  # a tiny word or an acronym: exactly as the pack writes it


@dataclass(frozen=True, slots=True)
class Name:
    """A name to look for: ``text`` as the pack writes it, the entry it names, when it is known."""

    text: str
    slug: str
    episode: int = 0


@dataclass(frozen=True, slots=True)
class Word:
    """One word of the text: its folded form, the original run it comes from and where that is."""

    key: str
    original: str
    start: int
    end: int

    @property
    def japanese(self) -> bool:
        return _is_japanese(self.key)


@dataclass(frozen=True, slots=True)
class Mention:
    """A name found in the text: the span (``start``..``end`` of the original), its text there, the
    folded key, and every name of the finder with that key (an alias may name several entries)."""

    start: int
    end: int
    text: str
    key: str
    names: tuple[Name, ...]

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n.slug for n in self.names))


Unit = Mention | Word


def _is_japanese(key: str) -> bool:
    return any(ord(c) >= 0x3000 for c in key)


def words(text: str) -> list[Word]:
    """The words of ``text``: each run of word characters, folded (one run may fold to several)."""
    out: list[Word] = []
    for m in _RUN_RE.finditer(text):
        for part in normalize(m.group()).split():
            out.append(Word(part, m.group(), m.start(), m.end()))
    return out


def _rule(text: str, parts: list[Word]) -> Rule | None:
    """The rule a name is held to, or None when it can never be matched."""
    key = " ".join(p.key for p in parts)
    if not key or key.replace(" ", "").isdigit():
        return None
    if _is_japanese(key):
        return Rule.ANY_CASE if len(key.replace(" ", "")) >= 2 else None
    letters = [c for c in text if c.isalpha()]
    if len(key.replace(" ", "")) <= 2:
        return Rule.EXACT if len(key.replace(" ", "")) == 2 else None
    if len(parts) == 1 and len(letters) >= 2 and all(c.isupper() for c in letters) and len(letters) <= 5:
        return Rule.EXACT
    significant = [p for p in parts if p.key not in FUNCTION_WORDS]
    if not significant:
        return None
    if all(p.key in COMMON_WORDS for p in significant):
        return Rule.CAPITALISED
    return Rule.ANY_CASE


@dataclass(slots=True)
class _Key:
    """Every name sharing one folded key, and how it must be written."""

    key: str
    tokens: tuple[str, ...]
    rule: Rule
    names: list[Name] = field(default_factory=list)
    #: EXACT: the spellings (runs of the original) that count.
    spellings: set[tuple[str, ...]] = field(default_factory=set)


class MentionFinder:
    def __init__(self, names: Iterable[Name]):
        keys: dict[str, _Key] = {}
        for name in names:
            parts = words(name.text)
            rule = _rule(name.text, parts)
            if rule is None:
                continue
            key = " ".join(p.key for p in parts)
            japanese = _is_japanese(key)
            if japanese:
                key = key.replace(" ", "")
            k = keys.get(key)
            if k is None:
                k = keys[key] = _Key(key, (key,) if japanese else tuple(p.key for p in parts), rule)
            elif rule < k.rule:
                k.rule = rule
            k.names.append(name)
            k.spellings.add(tuple(p.original for p in parts))
        self._latin: dict[str, list[_Key]] = {}
        japanese_keys: list[_Key] = []
        for k in keys.values():
            if _is_japanese(k.key):
                japanese_keys.append(k)
            else:
                self._latin.setdefault(k.tokens[0], []).append(k)
        for group in self._latin.values():
            group.sort(key=lambda k: (-len(k.tokens), -len(k.key)))
        japanese_keys.sort(key=lambda k: (-len(k.key), k.key))
        self._japanese = {k.key: k for k in japanese_keys}
        self._japanese_re = re.compile("|".join(re.escape(k.key) for k in japanese_keys)) if japanese_keys else None

    def find(self, text: str) -> list[Mention]:
        """The mentions in ``text``, left to right."""
        return [u for u in self.units(text) if isinstance(u, Mention)]

    def units(self, text: str) -> list[Unit]:
        """``text`` as mentions and the plain words between them, left to right."""
        ws = words(text)
        out: list[Unit] = []
        i = 0
        while i < len(ws):
            if ws[i].japanese:
                j = i
                while j < len(ws) and ws[j].japanese:
                    j += 1
                out.extend(self._japanese_units(text, ws[i:j]))
                i = j
                continue
            hit = self._latin_at(ws, i)
            if hit is None:
                out.append(ws[i])
                i += 1
                continue
            k, n = hit
            start, end = ws[i].start, ws[i + n - 1].end
            out.append(Mention(start, end, text[start:end], k.key, tuple(k.names)))
            i += n
        return out

    def _latin_at(self, ws: list[Word], i: int) -> tuple[_Key, int] | None:
        for k in self._latin.get(ws[i].key, ()):
            n = len(k.tokens)
            if i + n > len(ws) or tuple(w.key for w in ws[i : i + n]) != k.tokens:
                continue
            seen = ws[i : i + n]
            if k.rule is Rule.EXACT and tuple(w.original for w in seen) not in k.spellings:
                continue
            if k.rule is Rule.CAPITALISED and not any(
                w.original[:1].isupper() for w in seen if w.key not in FUNCTION_WORDS
            ):
                continue
            return k, n
        return None

    def _japanese_units(self, text: str, run: list[Word]) -> list[Unit]:
        """Mentions inside a run of Japanese words, joined without their separators (Japanese has
        no spaces: a name is found anywhere in it), and the words no mention touches."""
        if self._japanese_re is None:
            return list(run)
        joined = "".join(w.key for w in run)
        where: list[tuple[int, int | None]] = []  # per character: its word, its place in the original
        for idx, w in enumerate(run):
            exact = len(w.key) == len(w.original) == w.end - w.start
            where.extend((idx, w.start + off if exact else None) for off in range(len(w.key)))
        mentions: list[tuple[int, int, Mention]] = []
        for m in self._japanese_re.finditer(joined):
            (w0, s), (w1, e) = where[m.start()], where[m.end() - 1]
            start = s if s is not None else run[w0].start
            end = e + 1 if e is not None else run[w1].end
            k = self._japanese[m.group()]
            mentions.append((w0, w1, Mention(start, end, text[start:end], k.key, tuple(k.names))))
        touched = {i for w0, w1, _ in mentions for i in range(w0, w1 + 1)}
        out: list[tuple[int, Unit]] = [(w.start, w) for i, w in enumerate(run) if i not in touched]
        out.extend((m.start, m) for _, _, m in mentions)
        out.sort(key=lambda x: x[0])
        return [u for _, u in out]
