"""Resolution policy: what a lookup or an autocomplete answers, over a guild's layered indexes.

Resolution order (what users of lookup bots expect): slug → exact name → exact alias → prefix /
whole word → fuzzy with a cutoff and a margin over the runner-up; otherwise report ambiguity or
offer suggestions. Every stage only considers names the viewer may see under the policy, under
``tag`` exactly as under ``hide`` (a later name is only reported, by ``later_names``, for the
reply's spoiler block). A ``kinds`` or ``within`` (slugs) filter applies inside every stage, so a
filtered answer ranks only what it may show.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from lore.fuzzy import boost, boosted
from lore.model import Kind
from lore.nameindex import KINDS, SHOW_ALL, Candidate, EntryRef, NameIndex, browse_key
from lore.normalize import name_key
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


@dataclass(slots=True)
class LookupResult:
    query: str
    match: Candidate | None = None
    candidates: list[Candidate] = field(default_factory=list)
    ambiguous: bool = False


def _kinds(kinds: Iterable[Kind] | None) -> frozenset[Kind] | None:
    return frozenset(kinds) if kinds is not None else None


class LayeredIndex:
    """A guild's view: its own entries over the canon, minus canon entries it overrides or removed."""

    def __init__(self, layers: Sequence[tuple[NameIndex, frozenset[str]]]):
        self.layers = list(layers)

    def find(self, slug: str) -> EntryRef | None:
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
        self,
        q: str,
        policy: Policy,
        kinds: frozenset[Kind] | None,
        limit: int,
        cutoff: float,
        within: Collection[str] | None = None,
    ) -> list[Candidate]:
        bound = self._bound(policy)
        # per slug: (score, whether the entry's own name matched), layer, key; a Candidate is
        # made only for each slug's best key
        best: dict[str, tuple[tuple[float, bool], NameIndex, int]] = {}
        for index, exclude in self.layers:
            hits = index.fuzzy(q, bound, kinds, exclude, limit, cutoff, within)
            if not hits:
                continue
            keys, key_text, key_entry, slugs, names = (
                index.keys,
                index.key_text,
                index.key_entry,
                index.slugs,
                index.names,
            )
            ids = [k for k, _ in hits]
            scores = boosted(q, [keys[k] for k in ids], [score for _, score in hits])
            for k, score in zip(ids, scores, strict=True):
                e = key_entry[k]
                rank = (score, key_text[k] == names[e])
                slug = slugs[e]
                old = best.get(slug)
                if old is None or rank > old[0]:
                    best[slug] = (rank, index, k)
        cands = [index.candidate(k, rank[0]) for rank, index, k in best.values()]
        return sorted(cands, key=lambda c: (-c.score, len(c.name), c.name))

    def lookup(
        self,
        query: str,
        policy: Policy,
        kinds: Iterable[Kind] | None = None,
        within: Collection[str] | None = None,
    ) -> LookupResult:
        """Resolve ``query`` among the visible entries of ``kinds`` (and with a slug in ``within``)."""
        kinds_f = _kinds(kinds)
        result = LookupResult(query=query)
        q = name_key(query)
        if not q:
            return result
        bound = self._bound(policy)
        # 1. slug (autocomplete choices carry the slug as their value). The slug of an entry the
        # viewer may not see is just text: it goes on to the name matching like any other miss.
        slug = query.strip()
        rec = self.find(slug)
        if (
            rec is not None
            and (kinds_f is None or rec.kind in kinds_f)
            and (within is None or rec.slug in within)
            and rec.introduced <= bound
        ):
            result.match = Candidate(rec.slug, rec.name, rec.kind, 100.0, rec.name, rec.introduced)
            return result
        # 2. exact name or alias the viewer may see (under tag as under hide: what is outside the
        # spoiler spans of a reply must not depend on later lore, and a match is outside them)
        plain: dict[str, Candidate] = {}
        for index, exclude in self.layers:
            for k in index.exact_keys(q):
                e = index.key_entry[k]
                if index.slugs[e] in exclude or (within is not None and index.slugs[e] not in within):
                    continue
                if kinds_f is not None and KINDS[index.kinds[e]] not in kinds_f:
                    continue
                if index.key_episode[k] > bound:
                    continue
                cand = index.candidate(k, 100.0)
                old = plain.get(cand.slug)
                if old is None or index.key_is_name[k]:
                    plain[cand.slug] = cand
        if plain:
            cands = sorted(plain.values(), key=lambda c: (name_key(c.name) != q, c.name))
            named = [c for c in cands if name_key(c.name) == q]
            if len(cands) == 1 or len(named) == 1:
                result.match = cands[0]
                result.candidates = cands[1:]
                return result
            result.ambiguous = True
            result.candidates = cands
            return result
        # 3. prefix, word and fuzzy matching over what the viewer may see
        cands = self._fuzzy(q, policy, kinds_f, 40, SUGGEST_FLOOR, within)
        if not cands:
            # Nothing close: still offer the closest visible names, as suggestions only.
            result.candidates = self._fuzzy(q, policy, kinds_f, 3, 0.0, within)
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
        kinds_f = _kinds(kinds)
        q = name_key(query)
        bound = self._bound(policy)
        out: dict[str, Candidate] = {}
        if not q:
            return []
        for index, exclude in self.layers:
            for k in index.exact_keys(q):
                e = index.key_entry[k]
                if index.slugs[e] in exclude or index.key_episode[k] <= bound:
                    continue
                if kinds_f is not None and KINDS[index.kinds[e]] not in kinds_f:
                    continue
                cand = index.candidate(k, 100.0)
                if cand.slug not in out or cand.episode < out[cand.slug].episode:
                    out[cand.slug] = cand
        return sorted(out.values(), key=lambda c: (c.episode, c.name))

    def _visible_entry(self, li: int, e: int, bound: int, kinds: frozenset[Kind] | None) -> bool:
        index, exclude = self.layers[li]
        if index.introduced[e] > bound or index.slugs[e] in exclude:
            return False
        return kinds is None or KINDS[index.kinds[e]] in kinds

    def _first_by_name(
        self, bound: int, kinds: frozenset[Kind] | None, limit: int, within: Collection[str] | None
    ) -> list[Candidate]:
        """The first ``limit`` visible entries in browsing order (what an empty autocomplete shows)."""
        if within is not None:  # a few entries: the ones the guild sees under those slugs, sorted
            found = []
            for slug in within:
                for li, (index, exclude) in enumerate(self.layers):
                    e = index.by_slug.get(slug) if slug not in exclude else None
                    if e is not None:
                        if self._visible_entry(li, e, bound, kinds):
                            found.append((browse_key(index.names[e], index.kind(e)), li, e))
                        break
            found.sort()
            return [self._browse_candidate(li, e) for _, li, e in found[:limit]]

        def stream(li: int) -> Iterator[tuple[str, int, int]]:
            index = self.layers[li][0]
            for e in index.by_name():
                if self._visible_entry(li, e, bound, kinds):
                    yield browse_key(index.names[e], index.kind(e)), li, e

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
            out[slug] = self._browse_candidate(li, e)
            if len(out) >= limit:
                break
        return list(out.values())

    def _browse_candidate(self, li: int, e: int) -> Candidate:
        rec = self.layers[li][0].record(e)
        return Candidate(rec.slug, rec.name, rec.kind, 0.0, rec.name, rec.introduced)

    def _prefixed(
        self, q: str, bound: int, kinds: frozenset[Kind] | None, limit: int, within: Collection[str] | None
    ) -> list[tuple[tuple[int, int, int], int, int]]:
        """(rank, layer, key) of the visible keys with a word starting with ``q``, in layer and
        suffix order (a key once per suffix that starts with ``q``)."""
        ranked: list[tuple[tuple[int, int, int], int, int]] = []
        for li, (index, exclude) in enumerate(self.layers):
            keys, key_entry, key_episode, is_name = index.keys, index.key_entry, index.key_episode, index.key_is_name
            kind_codes, slugs = index.kinds, index.slugs
            if within is not None:  # every visible key of the few entries, in suffix order
                spot = f" {q}"
                hits = []
                for e in index.entries_of(within, exclude):
                    for k in index.keys_of(e):
                        if index.key_ok(k, bound, kinds, exclude):
                            spaced = f" {keys[k]}"
                            at = spaced.find(spot)
                            while at >= 0:
                                hits.append((spaced[at + 1 :], k))
                                at = spaced.find(spot, at + 1)
                hits.sort()
                ks: Iterable[int] = [k for _, k in hits]
                cap = None
            else:
                r = index.prefix_range(q, len(index.prefix_text))
                ks = index.prefix_key[r.start : r.stop]
                cap = limit * 20
            seen = 0  # the first limit * 20 keys known at the bound (later ones never use up the cap)
            for k in ks:
                if key_episode[k] > bound:
                    continue
                seen += 1
                if cap is not None and seen > cap:
                    break
                e = key_entry[k]
                if kinds is not None and KINDS[kind_codes[e]] not in kinds:
                    continue
                if exclude and slugs[e] in exclude:
                    continue
                key = keys[k]
                rank = (0 if key == q else 1 if key.startswith(q) else 2, 0 if is_name[k] else 1, len(key))
                ranked.append((rank, li, k))
        ranked.sort(key=itemgetter(0))
        return ranked

    def complete(
        self,
        text: str,
        policy: Policy,
        kinds: Iterable[Kind] | None = None,
        limit: int = 25,
        within: Collection[str] | None = None,
    ) -> list[Candidate]:
        """Autocomplete: visible entries for what the user has typed so far, best first (only
        entries of ``kinds`` and with a slug in ``within``, when given)."""
        kinds_f = _kinds(kinds)
        bound = self._bound(policy)
        q = name_key(text)
        if not q:
            return self._first_by_name(bound, kinds_f, limit, within)
        out: dict[str, Candidate] = {}
        for _, li, k in self._prefixed(q, bound, kinds_f, limit, within):
            index = self.layers[li][0]
            slug = index.slugs[index.key_entry[k]]
            if slug not in out:
                out[slug] = index.candidate(k, boost(q, index.keys[k], 0.0))
                if len(out) >= limit:
                    return list(out.values())
        if len(q) >= 2:
            # Typo-tolerant fill: only close guesses, and only those near the best one, so that a
            # few letters do not drag in every name that shares two of them.
            fuzzy = self._fuzzy(q, policy, kinds_f, limit * 2, AUTOCOMPLETE_FUZZY_FLOOR, within)
            floor = fuzzy[0].score - AUTOCOMPLETE_FUZZY_SPREAD if fuzzy else 0.0
            for cand in fuzzy:
                if cand.score < floor:
                    break
                if cand.slug not in out:
                    out[cand.slug] = cand
                    if len(out) >= limit:
                        break
        return list(out.values())
