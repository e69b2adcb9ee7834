"""Spoiler-aware name search over entries' names and aliases, held entirely in memory.

Resolution order (what users of lookup bots expect): slug → exact name → exact alias → prefix /
whole word → fuzzy with a cutoff and a margin over the runner-up; otherwise report ambiguity or
offer suggestions. Every stage only considers names the viewer may see under the policy, under
``tag`` exactly as under ``hide`` (a later name is only reported, by ``later_names``, for the
reply's spoiler block).

An index is immutable: a change builds a new one (cheap for a guild's own handful of entries), so
readers never see a half-updated index and a lookup never touches the database.
"""

from __future__ import annotations

import bisect
import heapq
import logging
import re
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, groupby, pairwise
from operator import itemgetter
from typing import Any, cast

from rapidfuzz import fuzz, process

from lore.model import Entry, Kind
from lore.normalize import _KEEP, _fold_char, normalize
from lore.spoilers import Mode, Policy

#: A fuzzy hit this good, clear of the runner-up by MARGIN, is taken as the answer.
STRONG = 80.0
MARGIN = 6.0
#: A runner-up this good is worth listing next to a match.
RELATED = 70.0
#: Below this a hit is not worth suggesting.
SUGGEST_FLOOR = 45.0
#: Autocomplete's typo-tolerant fill: a guess must score this much, and be within the spread of the best guess.
AUTOCOMPLETE_FUZZY_FLOOR = 70.0
AUTOCOMPLETE_FUZZY_SPREAD = 15.0
#: Indexes with more keys than this prune fuzzy candidates through their word vocabulary.
BRUTE_FORCE_LIMIT = 2000
#: At most this many pruned candidates are scored in full.
PRUNED_CANDIDATES = 400
#: Per query word, this many vocabulary words at least this similar (``fuzz.ratio``) lead to candidates.
WORD_MATCHES = 12
WORD_CUTOFF = 60.0
#: A query word with no vocabulary word this close is looked for under its second letter too.
CLOSE_WORD = 90.0
#: A word shared by more names than this (a surname of a large family, "city") brings only this many.
WORD_POSTINGS = 300
SHOW_ALL = 10**6  # episode bound used for ``show``
#: What a :meth:`NameIndex.state` snapshot holds; bumped whenever that changes.
INDEX_FORMAT = 4  # bump when what a snapshot stores changes meaning

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Candidate:
    slug: str
    name: str
    kind: Kind
    score: float
    matched: str  # the name or alias that matched (visible under the policy)
    episode: int  # the episode at which that name or alias is known

    @property
    def label(self) -> str:
        """A safe, readable label: the entry's name, plus the alias that matched if different."""
        if self.matched == self.name or _norm(self.matched) == _norm(self.name):
            return self.name
        return f"{self.name} ({self.matched})"

    def to_json(self) -> dict[str, object]:
        return {"slug": self.slug, "name": self.name, "kind": self.kind.value, "score": round(self.score, 1)}


@dataclass(slots=True)
class LookupResult:
    query: str
    match: Candidate | None = None
    candidates: list[Candidate] = field(default_factory=list)
    ambiguous: bool = False


@dataclass(frozen=True, slots=True)
class IndexRecord:
    slug: str
    name: str
    kind: Kind
    introduced: int
    names: tuple[tuple[str, int], ...]  # (name or alias, episode known), the name first

    @classmethod
    def of(cls, entry: Entry) -> IndexRecord:
        return cls(entry.slug, entry.name, entry.kind, entry.introduced, tuple(entry.all_names()))


_KIND_CODES = {k: i for i, k in enumerate(Kind)}
_KINDS = list(Kind)


class _FoldTable(dict[int, str]):
    """Code point -> what :func:`normalize` makes of it between its two NFKC passes, memoised.

    ``normalize`` folds one character at a time, so the same mapping applied with
    ``str.translate`` gives the same keys at C speed (checked against ``normalize`` as keys are
    built; a difference switches back to ``normalize``).
    """

    def __missing__(self, code: int) -> str:
        out = []
        for c in _fold_char(chr(code)):
            cat = unicodedata.category(c)
            out.append(c if c in _KEEP or cat[0] in "LN" or cat == "Mn" or cat == "Mc" else " ")
        self[code] = folded = "".join(out)
        return folded


_FOLD = _FoldTable()


#: What an empty autocomplete lists first: the cast, then groups, ideas, places, episodes, the series.
_BROWSE_ORDER = {
    Kind.CHARACTER: "0",
    Kind.FACTION: "1",
    Kind.CONCEPT: "2",
    Kind.LOCATION: "3",
    Kind.EPISODE: "4",
    Kind.SERIES: "5",
}
_DIGITS = re.compile(r"\d+")


def browse_key(name: str, kind: Kind) -> str:
    """Sort key for browsing: by kind, then by name with numbers in numeric order (episode 2 before 10)."""
    return _BROWSE_ORDER.get(kind, "9") + _DIGITS.sub(lambda m: m.group().zfill(8), name.casefold())


def _normalize_fast(text: str) -> str:
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    return " ".join(unicodedata.normalize("NFKC", s).split())


_CHECKS = (
    "  Naomi   ORTHMANN! ", "Café Rouge", "ＲＯＵＧＥ", "ﾙｼﾞｭ", "るじゅ", "ナオミ・オルトマン", "Double-Headed Aerkos",
    "ǅemal ﬁre Ⅻ ß İstanbul", "か\u3099 ゛ ー ｰ", "Ａ\u0308ｂ ½ ㍿ Ω ℃", "\t\n\x00 e\u0301 \U0001f600",
)  # fmt: skip
#: True while the fast fold gives exactly what ``normalize`` gives (re-checked as indexes are built).
_fast_keys = all(_normalize_fast(t) == normalize(t) for t in _CHECKS)


def _norm(text: str) -> str:
    """``normalize(text)``, through the memoised fold when it is known to agree."""
    return _normalize_fast(text) if _fast_keys else normalize(text)


#: Joins texts normalised in one pass: a private-use starter that never composes, so normalising
#: the joined text gives the normalised texts joined by it (it folds to itself, not to a space).
_SEP = "\ue000"
_FOLD_JOINED = _FoldTable()
_FOLD_JOINED[ord(_SEP)] = _SEP


def normalize_all(texts: Sequence[str]) -> list[str]:
    """``[normalize(t) for t in texts]``, fast: 300,000 names in a fifth of a second."""
    global _fast_keys
    if not texts:
        return []
    if _fast_keys:
        joined = _SEP.join(texts)
        if joined.count(_SEP) == len(texts) - 1:  # no text holds the separator itself
            s = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", joined).casefold().translate(_FOLD_JOINED))
            out = [" ".join(part.split()) for part in s.split(_SEP)]
        else:
            out = [_normalize_fast(t) for t in texts]
        if len(out) == len(texts) and all(out[i] == normalize(texts[i]) for i in range(0, len(texts), 127)):
            return out
        _fast_keys = False
        log.warning("fast name normalisation differs from lore.normalize; using normalize() for index keys")
    return [normalize(t) for t in texts]


class NameIndex:
    """Names and aliases of one scope, normalised once, in flat arrays.

    Besides the exact-name map and the sorted word-start suffixes (prefix search), a large index
    keeps a word vocabulary for fuzzy search: a query's words are matched against the words that
    begin (or whose second letter is) the same, and only names containing a close word are scored
    in full. That keeps a typo lookup near a millisecond at 100,000 entries, where scoring every
    name costs 150 ms.
    """

    def __init__(self, records: Iterable[IndexRecord]):
        recs = list(records)
        self._build(
            [r.slug for r in recs],
            [r.name for r in recs],
            [_KIND_CODES[r.kind] for r in recs],
            [r.introduced for r in recs],
            [r.names for r in recs],
        )

    @classmethod
    def from_columns(
        cls,
        slugs: Sequence[str],
        names: Sequence[str],
        kinds: Sequence[Kind],
        introduced: Sequence[int],
        name_lists: Sequence[Sequence[tuple[str, int]]],
    ) -> NameIndex:
        """The index of ``IndexRecord(slugs[i], names[i], kinds[i], introduced[i], name_lists[i])``
        for every ``i``, built from the columns (no record objects: 100,000 entries load faster)."""
        self = cls.__new__(cls)
        self._build(slugs, names, [_KIND_CODES[k] for k in kinds], introduced, name_lists)
        return self

    def _build(
        self,
        slugs: Sequence[str],
        names: Sequence[str],
        kind_codes: Sequence[int],
        introduced: Sequence[int],
        name_lists: Sequence[Sequence[tuple[str, int]]],
    ) -> None:
        self.slugs: list[str] = list(slugs)
        self.names: list[str] = list(names)
        self.kinds = array("b", kind_codes)
        self.introduced = array("b", introduced)
        self.by_slug: dict[str, int] = dict(zip(self.slugs, range(len(self.slugs)), strict=True))
        # keys: one per distinct normalised name or alias of an entry, the name first
        texts = [t for ns in name_lists for t, _ in ns]
        raw_entry = [e for e, ns in enumerate(name_lists) for _ in ns]
        raw_episode = [
            ep if ep > intro else intro for ns, intro in zip(name_lists, introduced, strict=True) for _, ep in ns
        ]
        raw_is_name = [1 if i == 0 else 0 for ns in name_lists for i in range(len(ns))]
        norms = normalize_all(texts)
        # An entry may list a name twice (an alias that differs from the name only in case), or one
        # that normalises to nothing: keep the first of each (found per entry, only where needed).
        ends = list(accumulate(len(ns) for ns in name_lists))
        starts = [0, *ends[:-1]] if ends else []
        doubled = [e for e, (a, b) in enumerate(zip(starts, ends, strict=True)) if len(set(norms[a:b])) < b - a]
        if doubled or "" in norms:
            seen: set[tuple[int, str]] = set()
            pairs = zip(raw_entry, norms, strict=True)
            keep: list[int] = []
            for i, en in enumerate(pairs):
                if en[1] and en not in seen:
                    seen.add(en)
                    keep.append(i)
            del seen
            self.keys: list[str] = [norms[i] for i in keep]
            self.key_text: list[str] = [texts[i] for i in keep]
            raw_entry = [raw_entry[i] for i in keep]
            raw_episode = [raw_episode[i] for i in keep]
            raw_is_name = [raw_is_name[i] for i in keep]
        else:
            self.keys = norms
            self.key_text = texts
        self.key_entry = array("i", raw_entry)
        self.key_episode = array("b", raw_episode)
        self.key_is_name = array("b", raw_is_name)
        del texts, norms, raw_entry, raw_episode, raw_is_name, starts, ends
        keys = self.keys
        #: normalised name -> key id, or a tuple of key ids when several names normalise alike
        exact: dict[str, int | tuple[int, ...]] = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
        if len(exact) < len(keys):
            first = exact.copy()
            shared: dict[str, list[int]] = {}
            for k in [k for k, norm in enumerate(keys) if first[norm] != k]:
                norm = keys[k]
                group = shared.get(norm)
                if group is None:
                    shared[norm] = [cast(int, first[norm]), k]
                else:
                    group.append(k)
            for norm, ks in shared.items():
                exact[norm] = tuple(ks)
            del first, shared
        self.exact = exact
        # Word-start suffixes, sorted, for prefix search: "phantom verde" is found by "verde".
        texts = list(keys)
        owners = list(range(len(keys)))
        interned: dict[str, str] = {}
        intern = interned.setdefault
        rest = [(k, norm) for k, norm in enumerate(keys) if " " in norm]
        while rest:  # the part after the 1st space, then after the 2nd, ...
            rest = [(k, norm.partition(" ")[2]) for k, norm in rest]
            texts += [intern(suffix, suffix) for _, suffix in rest]
            owners += [k for k, _ in rest]
            rest = [kn for kn in rest if " " in kn[1]]
        del interned, rest
        order = sorted(range(len(texts)), key=owners.__getitem__)  # a few ascending runs: cheap
        order.sort(key=texts.__getitem__)  # stable: equal suffixes stay in key order, as (text, key)
        self._prefix_text = list(map(texts.__getitem__, order))
        self._prefix_key = array("i", map(owners.__getitem__, order))
        del texts, owners, order
        # Entries in browsing order, for the empty autocomplete.
        folded = [browse_key(n, _KINDS[c]) for n, c in zip(self.names, self.kinds, strict=True)]
        self._by_name = array("i", sorted(range(len(folded)), key=folded.__getitem__))
        del folded
        self._visible_cache: dict[tuple[int, frozenset[Kind] | None], tuple[list[str], list[int]]] = {}
        self._last_pool: tuple[tuple[str, int], dict[int, float]] | None = None
        self._bucket_cache: dict[tuple[int, str, int], tuple[list[str], array[int]] | None] = {}
        self._visible_postings: dict[tuple[int, int], int] = {}
        self._vocab_built = False
        if len(self.keys) > BRUTE_FORCE_LIMIT:
            self._build_vocabulary()

    # -- snapshots ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything the index holds, in plain containers (``marshal`` can write them), for
        :meth:`from_state`: a large index is loaded from a snapshot 5 times faster than it is built."""
        state: dict[str, Any] = {
            "format": INDEX_FORMAT,
            "slugs": self.slugs,
            "names": self.names,
            "kinds": self.kinds.tobytes(),
            "introduced": self.introduced.tobytes(),
            "by_slug": self.by_slug,
            "keys": self.keys,
            "key_text": self.key_text,
            "key_entry": self.key_entry.tobytes(),
            "key_episode": self.key_episode.tobytes(),
            "key_is_name": self.key_is_name.tobytes(),
            "exact": self.exact,
            "prefix_text": self._prefix_text,
            "prefix_key": self._prefix_key.tobytes(),
            "by_name": self._by_name.tobytes(),
        }
        if self._vocab_built:

            def buckets(table: dict[str, tuple[list[str], array[int]]]) -> dict[str, tuple[list[str], bytes]]:
                return {c: (ws, ids.tobytes()) for c, (ws, ids) in table.items()}

            state["vocabulary"] = (
                self._words,
                self._word_start.tobytes(),
                self._word_episode.tobytes(),
                buckets(self._by_first),
                buckets(self._by_inner),
            )
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> NameIndex:
        """The index :meth:`state` describes (``ValueError`` if it is of another format)."""
        if state.get("format") != INDEX_FORMAT:
            raise ValueError("index snapshot of another format")

        def arr(typecode: str, raw: bytes) -> array[int]:
            a = array(typecode)
            a.frombytes(raw)
            return a

        self = cls.__new__(cls)
        self.slugs, self.names, self.by_slug = state["slugs"], state["names"], state["by_slug"]
        self.kinds, self.introduced = arr("b", state["kinds"]), arr("b", state["introduced"])
        self.keys, self.key_text, self.exact = state["keys"], state["key_text"], state["exact"]
        self.key_entry = arr("i", state["key_entry"])
        self.key_episode = arr("b", state["key_episode"])
        self.key_is_name = arr("b", state["key_is_name"])
        self._prefix_text, self._prefix_key = state["prefix_text"], arr("i", state["prefix_key"])
        self._by_name = arr("i", state["by_name"])
        self._visible_cache = {}
        self._last_pool = None
        self._bucket_cache = {}
        self._visible_postings = {}
        self._vocab_built = "vocabulary" in state
        if self._vocab_built:
            words, word_start, word_episode, by_first, by_inner = state["vocabulary"]
            self._words, self._word_start = words, arr("i", word_start)
            self._word_episode = arr("i", word_episode)

            def buckets(raw: dict[str, tuple[list[str], bytes]]) -> dict[str, tuple[list[str], array[int]]]:
                return {c: (ws, arr("i", ids)) for c, (ws, ids) in raw.items()}

            self._by_first, self._by_inner = buckets(by_first), buckets(by_inner)
        return self

    def __len__(self) -> int:
        return len(self.slugs)

    # -- helpers -----------------------------------------------------------------------------
    def record(self, e: int) -> tuple[str, str, Kind, int]:
        return self.slugs[e], self.names[e], _KINDS[self.kinds[e]], self.introduced[e]

    def candidate(self, k: int, score: float) -> Candidate:
        e = self.key_entry[k]
        return Candidate(
            self.slugs[e], self.names[e], _KINDS[self.kinds[e]], score, self.key_text[k], self.key_episode[k]
        )

    def exact_keys(self, q: str) -> tuple[int, ...]:
        """Ids of the keys equal to the normalised text ``q``."""
        hit = self.exact.get(q)
        if hit is None:
            return ()
        return (hit,) if isinstance(hit, int) else hit

    def key_ok(self, k: int, bound: int, kinds: frozenset[Kind] | None, exclude: frozenset[str]) -> bool:
        if self.key_episode[k] > bound:
            return False
        e = self.key_entry[k]
        if kinds is not None and _KINDS[self.kinds[e]] not in kinds:
            return False
        return not (exclude and self.slugs[e] in exclude)

    def visible_keys(self, bound: int, kinds: frozenset[Kind] | None) -> tuple[list[str], list[int]]:
        """Keys visible at ``bound`` (cached per bound and kind filter; indexes are immutable)."""
        ck = (bound, kinds)
        hit = self._visible_cache.get(ck)
        if hit is None:
            idx = [k for k in range(len(self.keys)) if self.key_ok(k, bound, kinds, frozenset())]
            hit = ([self.keys[k] for k in idx], idx)
            if len(self._visible_cache) > 64:
                self._visible_cache.clear()
            self._visible_cache[ck] = hit
        return hit

    def _prefix_range(self, q: str, limit: int) -> range:
        """Positions, in the sorted suffixes, of the first ``limit`` suffixes starting with ``q``."""
        texts = self._prefix_text
        lo = bisect.bisect_left(texts, q)
        cap = min(len(texts), lo + limit)
        if not q:
            return range(lo, cap)
        last = ord(q[-1])
        if last < 0x10FFFF:  # the strings starting with q are exactly those in [q, q with its last char + 1)
            return range(lo, bisect.bisect_left(texts, q[:-1] + chr(last + 1), lo, cap))
        hi = lo
        while hi < cap and texts[hi].startswith(q):
            hi += 1
        return range(lo, hi)

    def prefix_keys(self, q: str, limit: int, bound: int = SHOW_ALL) -> list[int]:
        """The first ``limit`` keys visible at ``bound`` with a word starting with ``q``, in sorted
        order. Keys beyond ``bound`` are skipped, never counted: what later lore exists must not
        change which visible keys make the cut."""
        r = self._prefix_range(q, len(self._prefix_text))
        out: list[int] = []
        key_episode = self.key_episode
        for k in self._prefix_key[r.start : r.stop]:
            if key_episode[k] <= bound:
                out.append(k)
                if len(out) >= limit:
                    break
        return out

    def by_name(self) -> array[int]:
        """Entry ids in browsing order (:func:`browse_key`; ties in entry order)."""
        return self._by_name

    # -- fuzzy -------------------------------------------------------------------------------
    def _build_vocabulary(self) -> None:
        """The distinct words of the keys, sorted, and by first letter (and by their 2nd-3rd
        letters, for a slip on the first one), as word ids. Every word starts a suffix, and the
        sorted suffixes whose first word is ``w`` form one block ("w", "w ...", before "wa"): the
        keys holding word ``w`` are read off that block, so nothing per word is built but its id."""
        texts = self._prefix_text
        firsts = [t.partition(" ")[0] for t in texts]
        starts = [0, *(i for i, (a, b) in enumerate(pairwise(firsts), 1) if a != b)] if firsts else []
        words = [firsts[i] for i in starts]
        del firsts
        self._words = words
        self._word_start = array("i", [*starts, len(texts)])
        # the earliest episode at which some key holding the word is known: a word no visible key
        # holds is not in the viewer's vocabulary (it must not take a close word's place)
        suffix_episode = [self.key_episode[k] for k in self._prefix_key]
        self._word_episode = array("i", [min(suffix_episode[a:b]) for a, b in pairwise(self._word_start)])
        del starts, suffix_episode

        def buckets(ids: Iterable[int], key: Callable[[int], str]) -> dict[str, tuple[list[str], array[int]]]:
            out = {}
            for c, group in groupby(ids, key):
                vs = array("i", group)
                out[c] = ([words[v] for v in vs], vs)
            return out

        self._by_first = buckets(range(len(words)), lambda v: words[v][0])
        inner = [v for v in range(len(words)) if len(words[v]) > 2]
        inner.sort(key=lambda v: words[v][1:3])
        self._by_inner = buckets(inner, lambda v: words[v][1:3])
        self._vocab_built = True

    def _leading_words(self, w: str, bound: int) -> list[str]:
        """Words known at ``bound`` that ``w`` starts with: "jetblacknoir" (typed solid) -> "jet"."""
        out = []
        words = self._words
        for n in range(2, min(len(w), 24)):
            head = w[:n]
            i = bisect.bisect_left(words, head)
            if i == len(words) or not words[i].startswith(head):
                break
            if words[i] == head and self._word_episode[i] <= bound:
                out.append(head)
        return out

    def _bucket(self, table: int, c: str, bound: int) -> tuple[list[str], array[int]] | None:
        """The words of a first-letter (``table`` 0) or inner-letters (1) bucket known at ``bound``."""
        ck = (table, c, bound)
        if ck in self._bucket_cache:
            return self._bucket_cache[ck]
        bucket = (self._by_first if table == 0 else self._by_inner).get(c)
        if bucket is not None:
            words, ids = bucket
            episode = self._word_episode
            if any(episode[v] > bound for v in ids):
                keep = [i for i, v in enumerate(ids) if episode[v] <= bound]
                bucket = ([words[i] for i in keep], array("i", [ids[i] for i in keep])) if keep else None
        if len(self._bucket_cache) > 4096:
            self._bucket_cache.clear()
        self._bucket_cache[ck] = bucket
        return bucket

    def _postings_at(self, v: int, bound: int) -> int:
        """How many keys visible at ``bound`` hold word ``v``."""
        ck = (v, bound)
        n = self._visible_postings.get(ck)
        if n is None:
            key_episode = self.key_episode
            lo, hi = self._word_start[v], self._word_start[v + 1]
            n = sum(1 for k in self._prefix_key[lo:hi] if key_episode[k] <= bound)
            if len(self._visible_postings) > 65536:
                self._visible_postings.clear()
            self._visible_postings[ck] = n
        return n

    def _close_words(
        self, w: str, bucket: tuple[list[str], array[int]] | None, into: dict[int, float], limit: int
    ) -> None:
        """Add to ``into`` the ids of the bucket's words closest to ``w``, with their similarity."""
        if not bucket:
            return
        words, ids = bucket
        hits = process.extract(w, words, scorer=fuzz.ratio, processor=None, limit=limit, score_cutoff=WORD_CUTOFF)
        for _, score, i in hits:
            v = ids[i]
            if score > into.get(v, 0.0):
                into[v] = score

    def _probes(self, q: str, bound: int) -> list[dict[int, float]]:
        """For each word of the query, the vocabulary words (ids) known at ``bound`` close to it,
        with their similarity."""
        words = list(dict.fromkeys(q.split()))  # in order: the pool (and ties) must not depend on hashing
        if len(words) == 1:  # perhaps a name typed without its spaces: "jetblacknoir" -> "jet", "blacknoir"
            w = words[0]
            heads = [h for h in self._leading_words(w, bound) if len(w) - len(h) >= 2]
            if heads:
                words = [w, heads[-1], w[len(heads[-1]) :]]
        out = []
        for w in words:
            close: dict[int, float] = {}
            limit = WORD_MATCHES if len(w) > 4 else 2 * WORD_MATCHES  # short words have many equals
            self._close_words(w, self._bucket(0, w[0], bound), close, limit)
            if len(w) > 2 and max(close.values(), default=0.0) < CLOSE_WORD:
                # perhaps a slip on the first letter ("xaomi"), or the first two swapped ("anomi")
                self._close_words(w, self._bucket(1, w[1:3], bound), close, limit)
                if max(close.values(), default=0.0) < CLOSE_WORD:
                    self._close_words(w, self._bucket(0, w[1], bound), close, limit)
            out.append(close)
        return out

    def _word_pool(self, q: str, bound: int) -> dict[int, float]:
        """Key id (of keys visible at ``bound``) -> how well the key's words cover the query's words
        (summed best similarity).

        Candidates come from the close words that few keys share; a common word ("city", a big
        family's surname) only adds to candidates found otherwise, unless there are none. Words,
        keys and counts are those visible at ``bound`` only: the pool is the one the same index
        without the later lore would give."""
        if self._last_pool is not None and self._last_pool[0] == (q, bound):  # lookup's second pass
            return self._last_pool[1]
        scores: dict[int, float] = {}
        common: list[dict[int, float]] = []
        prefix_key, word_start, key_episode = self._prefix_key, self._word_start, self.key_episode
        for close in self._probes(q, bound):
            best: dict[int, float] = {}
            frequent: dict[int, float] = {}
            for v, score in close.items():
                lo, hi = word_start[v], word_start[v + 1]
                if hi - lo > WORD_POSTINGS and self._postings_at(v, bound) > WORD_POSTINGS:
                    frequent[v] = score
                    continue
                for k in prefix_key[lo:hi]:
                    if score > best.get(k, 0.0) and key_episode[k] <= bound:
                        best[k] = score
            for k, score in best.items():
                scores[k] = scores.get(k, 0.0) + score
            if frequent:
                common.append(frequent)
        if not scores:  # only common words: a slice of each (of its visible keys)
            for frequent in common:
                for v, score in frequent.items():
                    taken = 0
                    for k in prefix_key[word_start[v] : word_start[v + 1]]:
                        if key_episode[k] <= bound:
                            scores[k] = max(scores.get(k, 0.0), score)
                            taken += 1
                            if taken >= WORD_POSTINGS:
                                break
        else:
            for frequent in common:
                by_word = {self._words[v]: score for v, score in frequent.items()}
                for k in list(scores):
                    bonus = max([by_word.get(x, 0.0) for x in self.keys[k].split()])
                    if bonus:
                        scores[k] += bonus
        self._last_pool = ((q, bound), scores)
        return scores

    def fuzzy(
        self,
        q: str,
        bound: int,
        kinds: frozenset[Kind] | None,
        exclude: frozenset[str],
        limit: int,
        cutoff: float,
    ) -> list[tuple[int, float]]:
        """(key, score) pairs for keys visible at ``bound``, best first."""
        if not self._vocab_built:
            choices, idx = self.visible_keys(bound, kinds)
            hits = process.extract(q, choices, scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=cutoff)
            out = [(idx[i], score) for _, score, i in hits]
            if exclude:
                out = [(k, s) for k, s in out if self.slugs[self.key_entry[k]] not in exclude]
            return out
        # Large index: candidates are the keys whose words are closest to the query's words.
        matched = self._word_pool(q, bound)
        ranked = sorted(matched.items(), key=lambda kv: -kv[1]) if len(matched) > PRUNED_CANDIDATES else matched.items()
        pool: list[int] = []
        for k, _ in ranked:
            if self.key_ok(k, bound, kinds, exclude):
                pool.append(k)
                if len(pool) >= PRUNED_CANDIDATES:
                    break
        in_pool = set(pool)
        for k in self.prefix_keys(q, 50, bound):
            if k not in in_pool and self.key_ok(k, bound, kinds, exclude):
                pool.append(k)
                in_pool.add(k)
        if not pool:
            return []
        hits = process.extract(
            q, [self.keys[k] for k in pool], scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=cutoff
        )
        return [(pool[i], score) for _, score, i in hits]


def _boost(q: str, key: str, score: float) -> float:
    """Adjust a raw WRatio score: whole-name and word-prefix hits first, and no credit for a
    short name that merely occurs inside a longer query ("ash" in "flash silvia"), nor for one that
    explains only some of the query's words ("nuta" for "nuta mairrkmann")."""
    if key == q:
        return 100.0
    if len(key) < len(q):
        alike = max(fuzz.ratio(q, key), fuzz.token_sort_ratio(q, key))
        if key.count(" ") >= q.count(" "):  # as many words as the query: a subset is a fair match
            alike = max(alike, fuzz.token_set_ratio(q, key))
        score = min(score, alike)
    if key.startswith(q):
        if len(key) > len(q) and key[len(q)] == " ":  # the query is the key's whole first word
            return max(score, 96.0 + 3.0 * len(q) / len(key))
        return max(score, 92.0 + 6.0 * len(q) / len(key))
    if f" {q}" in f" {key}":
        return max(score, 90.0 + 6.0 * len(q) / len(key))
    return score


class LayeredIndex:
    """A guild's view: its own entries over the canon, minus canon entries it overrides or removed."""

    def __init__(self, layers: Sequence[tuple[NameIndex, frozenset[str]]]):
        self.layers = list(layers)

    def find(self, slug: str) -> tuple[str, str, Kind, int] | None:
        for index, exclude in self.layers:
            if slug in exclude:
                continue
            e = index.by_slug.get(slug)
            if e is not None:
                return index.record(e)
        return None

    def __len__(self) -> int:
        """Entries this scope has: each layer's own, less those a nearer layer overrides or removes."""
        return sum(len(ix) - sum(1 for slug in ex if slug in ix.by_slug) for ix, ex in self.layers)

    def count(self, policy: Policy) -> int:
        """Entries visible under ``policy``: each layer's own, less those a nearer layer shadows."""
        bound = self._bound(policy)
        return sum(
            1
            for li, (index, _) in enumerate(self.layers)
            for e in range(len(index.slugs))
            if self._visible_entry(li, e, bound, None)
        )

    @staticmethod
    def _bound(policy: Policy) -> int:
        return SHOW_ALL if policy.mode is Mode.SHOW else policy.episode

    def _fuzzy(
        self, q: str, policy: Policy, kinds: frozenset[Kind] | None, limit: int, cutoff: float
    ) -> list[Candidate]:
        bound = self._bound(policy)
        best: dict[str, Candidate] = {}
        for index, exclude in self.layers:
            for k, score in index.fuzzy(q, bound, kinds, exclude, limit, cutoff):
                cand = index.candidate(k, _boost(q, index.keys[k], score))
                old = best.get(cand.slug)
                if old is None or (cand.score, cand.matched == cand.name) > (old.score, old.matched == old.name):
                    best[cand.slug] = cand
        return sorted(best.values(), key=lambda c: (-c.score, len(c.name), c.name))

    def lookup(self, query: str, policy: Policy, kinds: Iterable[Kind] | None = None) -> LookupResult:
        kinds_f = frozenset(kinds) if kinds is not None else None
        result = LookupResult(query=query)
        q = _norm(query)
        if not q:
            return result
        bound = self._bound(policy)
        # 1. slug (autocomplete choices carry the slug as their value). The slug of an entry the
        # viewer may not see is just text: it goes on to the name matching like any other miss.
        slug = query.strip()
        rec = self.find(slug)
        if rec is not None and (kinds_f is None or rec[2] in kinds_f) and rec[3] <= bound:
            s, name, kind, introduced = rec
            result.match = Candidate(s, name, kind, 100.0, name, introduced)
            return result
        # 2. exact name or alias the viewer may see (under tag as under hide: what is outside the
        # spoiler spans of a reply must not depend on later lore, and a match is outside them)
        plain: dict[str, Candidate] = {}
        for index, exclude in self.layers:
            for k in index.exact_keys(q):
                e = index.key_entry[k]
                if index.slugs[e] in exclude:
                    continue
                if kinds_f is not None and _KINDS[index.kinds[e]] not in kinds_f:
                    continue
                if index.key_episode[k] > bound:
                    continue
                cand = index.candidate(k, 100.0)
                old = plain.get(cand.slug)
                if old is None or index.key_is_name[k]:
                    plain[cand.slug] = cand
        if plain:
            cands = sorted(plain.values(), key=lambda c: (_norm(c.name) != q, c.name))
            named = [c for c in cands if _norm(c.name) == q]
            if len(cands) == 1 or len(named) == 1:
                result.match = cands[0]
                result.candidates = cands[1:]
                return result
            result.ambiguous = True
            result.candidates = cands
            return result
        # 3. prefix, word and fuzzy matching over what the viewer may see
        cands = self._fuzzy(q, policy, kinds_f, limit=40, cutoff=SUGGEST_FLOOR)
        if not cands:
            # Nothing close: still offer the closest visible names, as suggestions only.
            result.candidates = self._fuzzy(q, policy, kinds_f, limit=3, cutoff=0.0)
            return result
        top = cands[0]
        if top.score >= STRONG:
            rivals = [c for c in cands[1:] if top.score - c.score < MARGIN]
            if not rivals:
                result.match = top
                result.candidates = [c for c in cands[1:6] if c.score >= RELATED]
                return result
            result.ambiguous = True
            result.candidates = [top, *rivals][:25]
            return result
        result.candidates = cands[:5]
        return result

    def later_names(self, query: str, policy: Policy, kinds: Iterable[Kind] | None = None) -> list[Candidate]:
        """Entries that ``query`` names exactly, by a name or alias revealed after the policy's
        episode (for the spoiler block of a reply under ``tag``), earliest reveal first."""
        kinds_f = frozenset(kinds) if kinds is not None else None
        q = _norm(query)
        bound = self._bound(policy)
        out: dict[str, Candidate] = {}
        if not q:
            return []
        for index, exclude in self.layers:
            for k in index.exact_keys(q):
                e = index.key_entry[k]
                if index.slugs[e] in exclude or index.key_episode[k] <= bound:
                    continue
                if kinds_f is not None and _KINDS[index.kinds[e]] not in kinds_f:
                    continue
                cand = index.candidate(k, 100.0)
                if cand.slug not in out or cand.episode < out[cand.slug].episode:
                    out[cand.slug] = cand
        return sorted(out.values(), key=lambda c: (c.episode, c.name))

    def _visible_entry(self, li: int, e: int, bound: int, kinds: frozenset[Kind] | None) -> bool:
        index, exclude = self.layers[li]
        if index.introduced[e] > bound or index.slugs[e] in exclude:
            return False
        return kinds is None or _KINDS[index.kinds[e]] in kinds

    def _first_by_name(self, bound: int, kinds: frozenset[Kind] | None, limit: int) -> list[Candidate]:
        """The first ``limit`` visible entries in browsing order (what an empty autocomplete shows)."""

        def stream(li: int) -> Iterator[tuple[str, int, int]]:
            index = self.layers[li][0]
            for e in index.by_name():
                if self._visible_entry(li, e, bound, kinds):
                    yield browse_key(index.names[e], _KINDS[index.kinds[e]]), li, e

        out: dict[str, Candidate] = {}
        for _, li, e in heapq.merge(*(stream(li) for li in range(len(self.layers)))):
            index = self.layers[li][0]
            slug = index.slugs[e]
            if slug in out:
                continue
            # an entry a nearer layer also shows is listed as that layer has it
            if any(
                (ej := self.layers[lj][0].by_slug.get(slug)) is not None and self._visible_entry(lj, ej, bound, kinds)
                for lj in range(li)
            ):
                continue
            slug, name, kind, introduced = index.record(e)
            out[slug] = Candidate(slug, name, kind, 0.0, name, introduced)
            if len(out) >= limit:
                break
        return list(out.values())

    def complete(
        self, text: str, policy: Policy, kinds: Iterable[Kind] | None = None, limit: int = 25
    ) -> list[Candidate]:
        """Autocomplete: visible entries for what the user has typed so far, best first."""
        kinds_f = frozenset(kinds) if kinds is not None else None
        bound = self._bound(policy)
        q = _norm(text)
        if not q:
            return self._first_by_name(bound, kinds_f, limit)
        out: dict[str, Candidate] = {}
        ranked: list[tuple[tuple[int, int, int], int, int]] = []
        for li, (index, exclude) in enumerate(self.layers):
            keys, key_entry, key_episode, is_name = index.keys, index.key_entry, index.key_episode, index.key_is_name
            kind_codes, slugs = index.kinds, index.slugs
            r = index._prefix_range(q, len(index._prefix_text))
            seen = 0  # the first limit * 20 keys known at the bound (later ones never use up the cap)
            for k in index._prefix_key[r.start : r.stop]:
                if key_episode[k] > bound:
                    continue
                seen += 1
                if seen > limit * 20:
                    break
                e = key_entry[k]
                if kinds_f is not None and _KINDS[kind_codes[e]] not in kinds_f:
                    continue
                if exclude and slugs[e] in exclude:
                    continue
                key = keys[k]
                rank = (0 if key == q else 1 if key.startswith(q) else 2, 0 if is_name[k] else 1, len(key))
                ranked.append((rank, li, k))
        ranked.sort(key=itemgetter(0))
        for _, li, k in ranked:
            index = self.layers[li][0]
            slug = index.slugs[index.key_entry[k]]
            if slug not in out:
                out[slug] = index.candidate(k, _boost(q, index.keys[k], 0.0))
                if len(out) >= limit:
                    return list(out.values())
        if len(q) >= 2:
            # Typo-tolerant fill: only close guesses, and only those near the best one, so that a
            # few letters do not drag in every name that shares two of them.
            fuzzy = self._fuzzy(q, policy, kinds_f, limit=limit * 2, cutoff=AUTOCOMPLETE_FUZZY_FLOOR)
            floor = fuzzy[0].score - AUTOCOMPLETE_FUZZY_SPREAD if fuzzy else 0.0
            for cand in fuzzy:
                if cand.score < floor:
                    break
                if cand.slug not in out:
                    out[cand.slug] = cand
                    if len(out) >= limit:
                        break
        return list(out.values())
