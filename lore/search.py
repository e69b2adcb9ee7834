"""Spoiler-aware name search over entries' names and aliases, held entirely in memory.

Resolution order (what users of lookup bots expect): slug → exact name → exact alias → prefix /
whole word → fuzzy with a cutoff and a margin over the runner-up; otherwise report ambiguity or
offer suggestions. Every stage only considers names the viewer may see under the policy; under
``tag`` an exact name or alias beyond the viewer's episode still resolves, marked ``masked``.

An index is immutable: a change builds a new one (cheap for a guild's own handful of entries), so
readers never see a half-updated index and a lookup never touches the database.
"""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from lore.model import Entry, Kind
from lore.normalize import normalize
from lore.spoilers import Mode, Policy

#: A fuzzy hit this good, clear of the runner-up by MARGIN, is taken as the answer.
STRONG = 80.0
MARGIN = 6.0
#: A runner-up this good is worth listing next to a match.
RELATED = 70.0
#: Below this a hit is not worth suggesting.
SUGGEST_FLOOR = 45.0
#: Indexes with more keys than this prune fuzzy candidates with trigram buckets.
BRUTE_FORCE_LIMIT = 4000
PRUNED_CANDIDATES = 600
SHOW_ALL = 10**6  # episode bound used for ``show``


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
        if normalize(self.matched) == normalize(self.name):
            return self.name
        return f"{self.name} ({self.matched})"

    def to_json(self) -> dict[str, object]:
        return {"slug": self.slug, "name": self.name, "kind": self.kind.value, "score": round(self.score, 1)}


@dataclass(slots=True)
class LookupResult:
    query: str
    match: Candidate | None = None
    masked: bool = False  # the match is beyond the viewer's episode (tag mode, exact name only)
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


def _grams(s: str) -> set[str]:
    p = f" {s} "
    return {p[i : i + 3] for i in range(len(p) - 2)}


class NameIndex:
    """Names and aliases of one scope, normalised once, in flat arrays."""

    def __init__(self, records: Iterable[IndexRecord]):
        self.slugs: list[str] = []
        self.names: list[str] = []
        self.kinds = array("b")
        self.introduced = array("b")
        self.by_slug: dict[str, int] = {}
        # keys (one per name or alias)
        self.keys: list[str] = []
        self.key_text: list[str] = []
        self.key_entry = array("i")
        self.key_episode = array("b")
        self.key_is_name = array("b")
        self.exact: dict[str, list[int]] = {}
        for rec in records:
            e = len(self.slugs)
            self.slugs.append(rec.slug)
            self.names.append(rec.name)
            self.kinds.append(_KIND_CODES[rec.kind])
            self.introduced.append(rec.introduced)
            self.by_slug[rec.slug] = e
            seen: set[str] = set()
            for pos, (text, episode) in enumerate(rec.names):
                norm = normalize(text)
                if not norm or norm in seen:
                    continue
                seen.add(norm)
                k = len(self.keys)
                self.keys.append(norm)
                self.key_text.append(text)
                self.key_entry.append(e)
                self.key_episode.append(max(episode, rec.introduced))
                self.key_is_name.append(1 if pos == 0 else 0)
                self.exact.setdefault(norm, []).append(k)
        # Word-start suffixes, sorted, for prefix search: "phantom verde" is found by "verde".
        pairs: list[tuple[str, int]] = []
        for k, norm in enumerate(self.keys):
            pairs.append((norm, k))
            for i, ch in enumerate(norm):
                if ch == " ":
                    pairs.append((norm[i + 1 :], k))
        pairs.sort()
        self._prefix_text = [p[0] for p in pairs]
        self._prefix_key = array("i", (p[1] for p in pairs))
        self._grams: dict[str, array] | None = None
        self._visible_cache: dict[tuple[int, frozenset[Kind] | None], tuple[list[str], list[int]]] = {}

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

    def prefix_keys(self, q: str, limit: int) -> list[int]:
        """Keys with a word starting with ``q`` (at most ``limit`` raw hits, in sorted order)."""
        out: list[int] = []
        i = bisect.bisect_left(self._prefix_text, q)
        texts = self._prefix_text
        n = len(texts)
        while i < n and len(out) < limit and texts[i].startswith(q):
            out.append(self._prefix_key[i])
            i += 1
        return out

    def _gram_index(self) -> dict[str, array]:
        if self._grams is None:
            grams: dict[str, array] = {}
            for k, norm in enumerate(self.keys):
                for g in _grams(norm):
                    arr = grams.get(g)
                    if arr is None:
                        arr = grams[g] = array("i")
                    arr.append(k)
            self._grams = grams
        return self._grams

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
        if len(self.keys) <= BRUTE_FORCE_LIMIT:
            choices, idx = self.visible_keys(bound, kinds)
            hits = process.extract(q, choices, scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=cutoff)
            out = [(idx[i], score) for _, score, i in hits]
            if exclude:
                out = [(k, s) for k, s in out if self.slugs[self.key_entry[k]] not in exclude]
            return out
        # Large index: candidates are the keys sharing the most trigrams with the query.
        grams = self._gram_index()
        counts: Counter[int] = Counter()
        for g in _grams(q):
            arr = grams.get(g)
            if arr is not None and len(arr) < len(self.keys) // 4:
                counts.update(arr)
        pool = [k for k, _ in counts.most_common(PRUNED_CANDIDATES * 2) if self.key_ok(k, bound, kinds, exclude)]
        pool = pool[:PRUNED_CANDIDATES]
        for k in self.prefix_keys(q, 50):
            if self.key_ok(k, bound, kinds, exclude):
                pool.append(k)
        if not pool:
            return []
        hits = process.extract(
            q, [self.keys[k] for k in pool], scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=cutoff
        )
        return [(pool[i], score) for _, score, i in hits]


def _boost(q: str, key: str, score: float) -> float:
    """Adjust a raw WRatio score: whole-name and word-prefix hits first, and no credit for a
    short name that merely occurs inside a longer query ("ash" in "flash silvia")."""
    if key == q:
        return 100.0
    if len(key) < len(q):
        score = min(score, max(fuzz.ratio(q, key), fuzz.token_sort_ratio(q, key), fuzz.token_set_ratio(q, key)))
    if key.startswith(q):
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
        return sum(len(ix) - len(ex) for ix, ex in self.layers)

    @staticmethod
    def _bound(policy: Policy) -> int:
        return SHOW_ALL if policy.mode is Mode.SHOW else policy.episode

    def _fuzzy(self, q: str, policy: Policy, kinds: frozenset[Kind] | None, limit: int, cutoff: float):
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
        q = normalize(query)
        if not q:
            return result
        bound = self._bound(policy)
        # 1. slug (autocomplete choices carry the slug as their value)
        slug = query.strip()
        rec = self.find(slug)
        if rec is not None and (kinds_f is None or rec[2] in kinds_f):
            s, name, kind, introduced = rec
            cand = Candidate(s, name, kind, 100.0, name, introduced)
            if introduced <= bound:
                result.match = cand
                return result
            if policy.mode is Mode.TAG:
                result.match, result.masked = cand, True
                return result
            return result  # hidden: exactly what a nonsense query gets
        # 2. exact name or alias
        plain: dict[str, Candidate] = {}
        masked: list[Candidate] = []
        for index, exclude in self.layers:
            for k in index.exact.get(q, ()):
                e = index.key_entry[k]
                if index.slugs[e] in exclude:
                    continue
                if kinds_f is not None and _KINDS[index.kinds[e]] not in kinds_f:
                    continue
                cand = index.candidate(k, 100.0)
                if index.key_episode[k] <= bound:
                    old = plain.get(cand.slug)
                    if old is None or index.key_is_name[k]:
                        plain[cand.slug] = cand
                else:
                    masked.append(cand)
        if plain:
            cands = sorted(plain.values(), key=lambda c: (normalize(c.name) != q, c.name))
            named = [c for c in cands if normalize(c.name) == q]
            if len(cands) == 1 or len(named) == 1:
                result.match = cands[0]
                result.candidates = cands[1:]
                return result
            result.ambiguous = True
            result.candidates = cands
            return result
        if masked and policy.mode is Mode.TAG:
            result.match, result.masked = min(masked, key=lambda c: c.episode), True
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

    def complete(
        self, text: str, policy: Policy, kinds: Iterable[Kind] | None = None, limit: int = 25
    ) -> list[Candidate]:
        """Autocomplete: visible entries for what the user has typed so far, best first."""
        kinds_f = frozenset(kinds) if kinds is not None else None
        bound = self._bound(policy)
        q = normalize(text)
        out: dict[str, Candidate] = {}
        if not q:
            for index, exclude in self.layers:
                for e in range(len(index.slugs)):
                    if index.introduced[e] > bound or index.slugs[e] in exclude:
                        continue
                    if kinds_f is not None and _KINDS[index.kinds[e]] not in kinds_f:
                        continue
                    slug, name, kind, introduced = index.record(e)
                    out.setdefault(slug, Candidate(slug, name, kind, 0.0, name, introduced))
            return sorted(out.values(), key=lambda c: c.name.casefold())[:limit]
        ranked: list[tuple[tuple, Candidate]] = []
        for index, exclude in self.layers:
            for k in index.prefix_keys(q, limit * 20):
                if not index.key_ok(k, bound, kinds_f, exclude):
                    continue
                key = index.keys[k]
                rank = (0 if key == q else 1 if key.startswith(q) else 2, 0 if index.key_is_name[k] else 1, len(key))
                ranked.append((rank, index.candidate(k, _boost(q, key, 0.0))))
        ranked.sort(key=lambda rc: rc[0])
        for _, cand in ranked:
            if cand.slug not in out:
                out[cand.slug] = cand
                if len(out) >= limit:
                    return list(out.values())
        if len(q) >= 2:
            for cand in self._fuzzy(q, policy, kinds_f, limit=limit * 2, cutoff=60.0):
                if cand.slug not in out:
                    out[cand.slug] = cand
                    if len(out) >= limit:
                        break
        return list(out.values())
