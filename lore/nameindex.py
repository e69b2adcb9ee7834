"""The name index of one scope: its entries' names and aliases, normalised once, in flat arrays,
and the snapshot format that saves a built index.

An index is immutable: a change builds a new one (cheap for a guild's own handful of entries), so
readers never see a half-updated index and a lookup never touches the database.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, NamedTuple, cast

from rapidfuzz import fuzz, process

from lore.fuzzy import Vocabulary
from lore.model import Entry, Kind
from lore.normalize import name_key, normalize_all

#: Indexes with more keys than this prune fuzzy candidates through their word vocabulary.
BRUTE_FORCE_LIMIT = 2000
SHOW_ALL = 10**6  # episode bound used for ``show``
#: What a :meth:`NameIndex.state` snapshot holds; bumped whenever that changes.
INDEX_FORMAT = 5  # bump when what a snapshot stores changes meaning


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
        if self.matched == self.name or name_key(self.matched) == name_key(self.name):
            return self.name
        return f"{self.name} ({self.matched})"

    def to_json(self) -> dict[str, object]:
        return {"slug": self.slug, "name": self.name, "kind": self.kind.value, "score": round(self.score, 1)}


class EntryRef(NamedTuple):
    """What an index knows of one entry without its document."""

    slug: str
    name: str
    kind: Kind
    introduced: int


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


KIND_CODES = {k: i for i, k in enumerate(Kind)}
KINDS = list(Kind)

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


def _arr(typecode: str, raw: bytes) -> array[int]:
    a = array(typecode)
    a.frombytes(raw)
    return a


class NameIndex:
    """Names and aliases of one scope, normalised once, in flat arrays.

    Besides the exact-name map and the sorted word-start suffixes (prefix search), a large index
    keeps a word :class:`~lore.fuzzy.Vocabulary` for fuzzy search.
    """

    def __init__(self, records: Iterable[IndexRecord]):
        recs = list(records)
        self._build(
            [r.slug for r in recs],
            [r.name for r in recs],
            [KIND_CODES[r.kind] for r in recs],
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
        self._build(slugs, names, [KIND_CODES[k] for k in kinds], introduced, name_lists)
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
        self.introduced = array("i", introduced)  # episode numbers: 32-bit, as the store's
        self.by_slug: dict[str, int] = dict(zip(self.slugs, range(len(self.slugs)), strict=True))
        # keys: one per distinct normalised name or alias of an entry, the name first
        texts = [t for ns in name_lists for t, _ in ns]
        raw_entry = [e for e, ns in enumerate(name_lists) for _ in ns]
        raw_episode = [
            ep if ep > intro else intro for ns, intro in zip(name_lists, introduced, strict=True) for _, ep in ns
        ]
        raw_is_name = [1 if i == 0 else 0 for ns in name_lists for i in range(len(ns))]
        norms = normalize_all(texts)
        # An entry may list a name twice (an alias that differs from the name only in case, or a
        # server's alias that a later canon alias also has), or one that normalises to nothing: keep
        # the earliest revealed of each, the first among equals (found per entry, only where
        # needed). The earliest, so that a later duplicate never holds back a name already known.
        ends = list(accumulate(len(ns) for ns in name_lists))
        starts = [0, *ends[:-1]] if ends else []
        doubled = [e for e, (a, b) in enumerate(zip(starts, ends, strict=True)) if len(set(norms[a:b])) < b - a]
        if doubled or "" in norms:
            best: dict[tuple[int, str], int] = {}
            for i, en in enumerate(zip(raw_entry, norms, strict=True)):
                if en[1] and (en not in best or raw_episode[i] < raw_episode[best[en]]):
                    best[en] = i
            keep: list[int] = sorted(best.values())
            del best
            self.keys: list[str] = [norms[i] for i in keep]
            self.key_text: list[str] = [texts[i] for i in keep]
            raw_entry = [raw_entry[i] for i in keep]
            raw_episode = [raw_episode[i] for i in keep]
            raw_is_name = [raw_is_name[i] for i in keep]
        else:
            self.keys = norms
            self.key_text = texts
        self.key_entry = array("i", raw_entry)  # ascending: an entry's keys are consecutive
        self.key_episode = array("i", raw_episode)
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
        self.prefix_text = list(map(texts.__getitem__, order))
        self.prefix_key = array("i", map(owners.__getitem__, order))
        del texts, owners, order
        # Entries in browsing order, for the empty autocomplete.
        folded = [browse_key(n, KINDS[c]) for n, c in zip(self.names, self.kinds, strict=True)]
        self._by_name = array("i", sorted(range(len(folded)), key=folded.__getitem__))
        del folded
        self._visible_cache: dict[tuple[int, frozenset[Kind] | None], tuple[list[str], list[int]]] = {}
        self._kind_masks: dict[frozenset[Kind], bytes] = {}
        self.vocabulary: Vocabulary | None = None
        if len(self.keys) > BRUTE_FORCE_LIMIT:
            self.vocabulary = Vocabulary.build(self.prefix_text, self.prefix_key, self.key_episode, self.keys)

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
            "prefix_text": self.prefix_text,
            "prefix_key": self.prefix_key.tobytes(),
            "by_name": self._by_name.tobytes(),
        }
        if self.vocabulary is not None:
            state["vocabulary"] = self.vocabulary.state()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> NameIndex:
        """The index :meth:`state` describes (``ValueError`` if it is of another format)."""
        if state.get("format") != INDEX_FORMAT:
            raise ValueError("index snapshot of another format")
        self = cls.__new__(cls)
        self.slugs, self.names, self.by_slug = state["slugs"], state["names"], state["by_slug"]
        self.kinds, self.introduced = _arr("b", state["kinds"]), _arr("i", state["introduced"])
        self.keys, self.key_text, self.exact = state["keys"], state["key_text"], state["exact"]
        self.key_entry = _arr("i", state["key_entry"])
        self.key_episode = _arr("i", state["key_episode"])
        self.key_is_name = _arr("b", state["key_is_name"])
        self.prefix_text, self.prefix_key = state["prefix_text"], _arr("i", state["prefix_key"])
        self._by_name = _arr("i", state["by_name"])
        self._visible_cache = {}
        self._kind_masks = {}
        self.vocabulary = None
        if "vocabulary" in state:
            self.vocabulary = Vocabulary.from_state(
                state["vocabulary"], keys=self.keys, prefix_key=self.prefix_key, key_episode=self.key_episode
            )
        return self

    def __len__(self) -> int:
        return len(self.slugs)

    # -- helpers -----------------------------------------------------------------------------
    def record(self, e: int) -> EntryRef:
        return EntryRef(self.slugs[e], self.names[e], KINDS[self.kinds[e]], self.introduced[e])

    def kind(self, e: int) -> Kind:
        return KINDS[self.kinds[e]]

    def candidate(self, k: int, score: float) -> Candidate:
        e = self.key_entry[k]
        return Candidate(
            self.slugs[e], self.names[e], KINDS[self.kinds[e]], score, self.key_text[k], self.key_episode[k]
        )

    def exact_keys(self, q: str) -> tuple[int, ...]:
        """Ids of the keys equal to the normalised text ``q``."""
        hit = self.exact.get(q)
        if hit is None:
            return ()
        return (hit,) if isinstance(hit, int) else hit

    def keys_of(self, e: int) -> range:
        """Ids of entry ``e``'s keys (they are consecutive)."""
        return range(bisect.bisect_left(self.key_entry, e), bisect.bisect_right(self.key_entry, e))

    def entries_of(self, slugs: Collection[str], exclude: frozenset[str] = frozenset()) -> list[int]:
        """Ids of the entries with these slugs (not excluded), in entry order."""
        by_slug = self.by_slug
        return sorted(e for s in slugs if s not in exclude and (e := by_slug.get(s)) is not None)

    def key_ok(self, k: int, bound: int, kinds: frozenset[Kind] | None, exclude: frozenset[str]) -> bool:
        if self.key_episode[k] > bound:
            return False
        e = self.key_entry[k]
        if kinds is not None and KINDS[self.kinds[e]] not in kinds:
            return False
        return not (exclude and self.slugs[e] in exclude)

    def kind_mask(self, kinds: frozenset[Kind]) -> bytes:
        """One byte per key: 1 when its entry is of one of ``kinds`` (cached per kind filter)."""
        mask = self._kind_masks.get(kinds)
        if mask is None:
            wanted = bytes(1 if k in kinds else 0 for k in KINDS)
            mask = bytes(wanted[self.kinds[e]] for e in self.key_entry)
            if len(self._kind_masks) > 16:
                self._kind_masks.clear()
            self._kind_masks[kinds] = mask
        return mask

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

    def prefix_range(self, q: str, limit: int) -> range:
        """Positions, in the sorted suffixes, of the first ``limit`` suffixes starting with ``q``."""
        texts = self.prefix_text
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
        r = self.prefix_range(q, len(self.prefix_text))
        out: list[int] = []
        key_episode = self.key_episode
        for k in self.prefix_key[r.start : r.stop]:
            if key_episode[k] <= bound:
                out.append(k)
                if len(out) >= limit:
                    break
        return out

    def by_name(self) -> array[int]:
        """Entry ids in browsing order (:func:`browse_key`; ties in entry order)."""
        return self._by_name

    # -- fuzzy -------------------------------------------------------------------------------
    def fuzzy(
        self,
        q: str,
        bound: int,
        kinds: frozenset[Kind] | None,
        exclude: frozenset[str],
        limit: int,
        cutoff: float,
        within: Collection[str] | None = None,
    ) -> list[tuple[int, float]]:
        """(key, score) pairs for keys visible at ``bound``, best first; only keys of entries
        whose slug is in ``within`` when it is given (all of theirs are scored)."""
        if within is not None:
            pool = [
                k
                for e in self.entries_of(within, exclude)
                for k in self.keys_of(e)
                if self.key_ok(k, bound, kinds, exclude)
            ]
        elif self.vocabulary is None:
            choices, idx = self.visible_keys(bound, kinds)
            hits = process.extract(q, choices, scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=cutoff)
            out = [(idx[i], score) for _, score, i in hits]
            if exclude:
                out = [(k, s) for k, s in out if self.slugs[self.key_entry[k]] not in exclude]
            return out
        else:
            # Large index: candidates are the keys whose words are closest to the query's words.
            # (the vocabulary's keys are those visible at the bound: only a filter is left to check)
            ok: Callable[[int], object] | None = None
            if exclude:
                ok = lambda k: self.key_ok(k, bound, kinds, exclude)  # noqa: E731
            elif kinds is not None:
                ok = self.kind_mask(kinds).__getitem__  # 1 or 0 per key
            pool = self.vocabulary.candidates(q, bound, ok, self.prefix_keys(q, 50, bound))
        if not pool:
            return []
        hits = process.extract(
            q, [self.keys[k] for k in pool], scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=cutoff
        )
        return [(pool[i], score) for _, score, i in hits]
