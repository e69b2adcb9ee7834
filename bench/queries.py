"""Generated queries: what users type into autocomplete, what they send, and a labelled typo set.

Everything is drawn from a seeded ``random.Random`` over the pack's own names, so the same pack
always gives the same queries. The labelled set keeps a query only when its right answer is
unambiguous: a misspelling must be strictly closer (Levenshtein, on normalised text) to a name of
the intended entry than to any name of another entry; a partial or swapped query must match the
intended entry's words and nobody else's.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from lore.model import Entry, Kind, Pack
from lore.normalize import normalize
from lore.spoilers import Mode, Policy

#: Policies a server or a user may have: hide or tag at various episodes, and show.
POLICIES: tuple[Policy, ...] = (
    Policy(0, Mode.HIDE),
    Policy(3, Mode.HIDE),
    Policy(7, Mode.HIDE),
    Policy(0, Mode.TAG),
    Policy(5, Mode.TAG),
    Policy(9, Mode.TAG),
    Policy(13, Mode.TAG),
    Policy(13, Mode.SHOW),
)
SHOW_ALL = Policy(13, Mode.SHOW)

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_ROWS):
    for _i, _ch in enumerate(_row):
        near = [_row[j] for j in (_i - 1, _i + 1) if 0 <= j < len(_row)]
        for _dr in (-1, 1):
            if 0 <= _r + _dr < len(_ROWS):
                other = _ROWS[_r + _dr]
                near += [other[j] for j in (_i - 1, _i, _i + 1) if 0 <= j < len(other)]
        NEIGHBOURS[_ch] = "".join(near)


def typo(text: str, rng: random.Random, edits: int = 1) -> str:
    """``edits`` keyboard slips (substitution by a neighbour, deletion, doubling, transposition),
    never on the first letter (people rarely get that wrong)."""
    s = text
    for _ in range(edits):
        positions = [i for i, c in enumerate(s) if i > 0 and c.isalpha() and c.isascii()]
        if not positions:
            break
        i = rng.choice(positions)
        op = rng.random()
        c = s[i]
        if op < 0.35:
            s = s[:i] + rng.choice(NEIGHBOURS.get(c.lower(), "e")) + s[i + 1 :]
        elif op < 0.6:
            s = s[:i] + s[i + 1 :]
        elif op < 0.8:
            s = s[:i] + c + s[i:]
        elif i + 1 < len(s) and s[i + 1].isalpha():
            s = s[:i] + s[i + 1] + c + s[i + 2 :]
        else:
            s = s[:i] + rng.choice(NEIGHBOURS.get(c.lower(), "e")) + s[i + 1 :]
    return s


def to_hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if 0x30A1 <= ord(c) <= 0x30F6 else c for c in text)


def _is_kana(text: str) -> bool:
    return any(0x30A0 <= ord(c) <= 0x30FF for c in text)


@dataclass(frozen=True, slots=True)
class Ask:
    text: str
    policy: Policy
    kinds: tuple[Kind, ...] | None
    slug: str = ""  # the entry the text was drawn from


@dataclass(frozen=True, slots=True)
class Labelled:
    query: str
    slug: str
    category: str  # misspelled, partial, swapped, alias


class Names:
    """Every name and alias of a pack, normalised, with who claims it."""

    def __init__(self, pack: Pack):
        self.entries: list[Entry] = list(pack.entries)
        self.keys: list[str] = []
        self.key_slug: list[str] = []
        self.claims: dict[str, set[str]] = defaultdict(set)
        self.word_claims: dict[str, set[str]] = defaultdict(set)
        self.own: dict[str, list[str]] = defaultdict(list)
        for e in self.entries:
            for text, _ in e.all_names():
                k = normalize(text)
                if not k:
                    continue
                if e.slug not in self.claims[k]:
                    self.keys.append(k)
                    self.key_slug.append(e.slug)
                    self.own[e.slug].append(k)
                self.claims[k].add(e.slug)
                for w in k.split():
                    self.word_claims[w].add(e.slug)
        self.sorted_keys = sorted(zip(self.keys, self.key_slug, strict=True))

    def closest_is(self, query: str, slug: str) -> bool:
        """True when some name of ``slug`` is strictly closer to ``query`` than any other entry's."""
        q = normalize(query)
        if not q:
            return False
        own = min(Levenshtein.distance(q, k) for k in self.own[slug])
        hits = process.extract(q, self.keys, scorer=Levenshtein.distance, score_cutoff=own, limit=None)
        return all(self.key_slug[i] == slug for _, _, i in hits)

    def only_word_of(self, word: str, slug: str) -> bool:
        return self.word_claims.get(normalize(word)) == {slug}

    def prefix_unique(self, query: str, slug: str) -> bool:
        q = normalize(query)
        i = bisect.bisect_left(self.sorted_keys, (q, ""))
        owners = set()
        while i < len(self.sorted_keys) and self.sorted_keys[i][0].startswith(q):
            owners.add(self.sorted_keys[i][1])
            i += 1
        return owners == {slug}


def autocomplete_workload(pack: Pack, n: int, seed: int = 7) -> list[Ask]:
    """What users type into autocomplete: 0..n characters of a name or alias, some with a typo."""
    rng = random.Random(seed)
    entries = list(pack.entries)
    out: list[Ask] = []
    for _ in range(n):
        e = rng.choice(entries)
        r = rng.random()
        aliases = [a.name for a in e.aliases]
        if r < 0.6 or not aliases:
            source = e.name
        elif r < 0.8:
            source = rng.choice([w for w in e.name.split() if w] or [e.name])
        else:
            source = rng.choice(aliases)
        k = rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 10, 12, len(source)))
        text = source[: min(k, len(source))]
        if len(text) >= 4 and rng.random() < 0.2:
            text = typo(text, rng)
        kinds = None if rng.random() < 0.5 else (Kind.CHARACTER,)
        out.append(Ask(text, rng.choice(POLICIES), kinds, e.slug))
    return out


def resolve_workload(pack: Pack, n: int, seed: int = 11) -> list[Ask]:
    """What users send: picked autocomplete values (slugs), typed names and aliases, typos."""
    rng = random.Random(seed)
    entries = list(pack.entries)
    out: list[Ask] = []
    for _ in range(n):
        e = rng.choice(entries)
        r = rng.random()
        if r < 0.35:
            text = e.slug  # an autocomplete choice's value
        elif r < 0.6:
            text = e.name
        elif r < 0.75 and e.aliases:
            text = rng.choice(e.aliases).name
        else:
            text = typo(e.name, rng, 1 if len(e.name) < 10 else rng.choice((1, 2)))
        kinds = (Kind.CHARACTER,) if e.kind is Kind.CHARACTER and rng.random() < 0.7 else None
        out.append(Ask(text, rng.choice(POLICIES), kinds, e.slug))
    return out


def labelled_set(pack: Pack, n: int, seed: int = 13) -> tuple[list[Labelled], int]:
    """Misspelled, partial, swapped-word and alias queries with the one right answer.

    Returns (queries, number of drawn queries dropped because their answer was ambiguous).
    """
    rng = random.Random(seed)
    names = Names(pack)
    entries = list(pack.entries)
    out: list[Labelled] = []
    dropped = 0
    attempts = 0
    per_category = {"misspelled": 0.4, "partial": 0.2, "swapped": 0.15, "alias": 0.25}
    cats = list(per_category)
    weights = list(per_category.values())
    seen: set[tuple[str, str]] = set()
    while len(out) < n and attempts < n * 20:
        attempts += 1
        e = rng.choice(entries)
        cat = rng.choices(cats, weights)[0]
        words = e.name.split()
        query: str | None = None
        ok = False
        if cat == "misspelled":
            query = typo(e.name, rng, 1 if len(e.name) < 10 else rng.choice((1, 1, 2)))
            ok = normalize(query) != normalize(e.name) and names.closest_is(query, e.slug)
        elif cat == "partial":
            long_words = [w for w in words if len(w) >= 4]
            if rng.random() < 0.5 and long_words:
                query = rng.choice(long_words)
                ok = names.only_word_of(query, e.slug)
            elif len(e.name) >= 8:
                query = e.name[: max(4, int(len(e.name) * rng.uniform(0.55, 0.85)))].rstrip()
                ok = names.prefix_unique(query, e.slug) and normalize(query) != normalize(e.name)
        elif cat == "swapped":
            if len(words) >= 2:
                query = " ".join(reversed(words))
                if rng.random() < 0.3:
                    query = typo(query, rng)
                ok = names.closest_is(" ".join(reversed(normalize(query).split())), e.slug)
        else:
            aliases = [a.name for a in e.aliases if len(names.claims[normalize(a.name)]) == 1]
            if aliases:
                alias = rng.choice(aliases)
                if _is_kana(alias):
                    query = to_hiragana(alias) if rng.random() < 0.5 else alias
                    ok = True
                else:
                    query = typo(alias, rng) if len(alias) >= 5 else alias
                    ok = names.closest_is(query, e.slug)
        if query is None:
            continue
        if not ok or (query, e.slug) in seen:
            dropped += 1
            continue
        seen.add((query, e.slug))
        out.append(Labelled(query, e.slug, cat))
    return out, dropped
