"""Fuzzy matching of names: the score adjustment every match gets, and the word vocabulary that
lets a large index score only a few hundred candidates for a typo instead of every name."""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby, islice, pairwise
from typing import Any

from rapidfuzz import fuzz, process

#: At most this many pruned candidates are scored in full.
PRUNED_CANDIDATES = 400
#: Per query word, this many vocabulary words at least this similar (``fuzz.ratio``) lead to candidates.
WORD_MATCHES = 12
WORD_CUTOFF = 60.0
#: A query word with no vocabulary word this close is looked for under its second letter too.
CLOSE_WORD = 90.0
#: A word shared by more names than this (a surname of a large family, "city") brings only this many.
WORD_POSTINGS = 300

#: At most this many query words' close words are kept (a few MB at most).
CLOSE_CACHE = 4096

#: Word ids of one bucket of the vocabulary (first letter, or second and third letters), with their words.
Bucket = tuple[list[str], "array[int]"]


def boost(q: str, key: str, score: float) -> float:
    """Adjust a raw WRatio score: whole-name and word-prefix hits first, and no credit for a
    short name that merely occurs inside a longer query ("ash" in "flash silvia"), nor for one that
    explains only some of the query's words ("nuta" for "nuta mairrkmann")."""
    if key != q and len(key) < len(q):
        alike = max(fuzz.ratio(q, key), fuzz.token_sort_ratio(q, key))
        if key.count(" ") >= q.count(" "):  # as many words as the query: a subset is a fair match
            alike = max(alike, fuzz.token_set_ratio(q, key))
        score = min(score, alike)
    return _floored(q, key, score)


def boosted(q: str, keys: list[str], scores: list[float]) -> list[float]:
    """:func:`boost` of each (key, score) pair, with each similarity scorer run once over all the
    keys shorter than ``q`` rather than once per key (the same scores)."""
    out = list(scores)
    short = [i for i, key in enumerate(keys) if len(key) < len(q)]
    if short:
        texts = [keys[i] for i in short]
        alike = [0.0] * len(texts)
        spaces = q.count(" ")
        fair = [j for j, text in enumerate(texts) if text.count(" ") >= spaces]
        every: Sequence[int] = range(len(texts))
        passes = [(fuzz.ratio, every), (fuzz.token_sort_ratio, every)]
        if fair:
            passes.append((fuzz.token_set_ratio, fair))
        for scorer, which in passes:
            subset = [texts[j] for j in which]
            for _, score, j in process.extract(q, subset, scorer=scorer, processor=None, limit=None):
                alike[which[j]] = max(alike[which[j]], score)
        for j, i in enumerate(short):
            out[i] = min(out[i], alike[j])
    return [_floored(q, key, score) for key, score in zip(keys, out, strict=True)]


def _floored(q: str, key: str, score: float) -> float:
    """``score`` raised to the floor of a whole-name, prefix or word-prefix hit of ``q`` on ``key``."""
    if key == q:
        return 100.0
    if key.startswith(q):
        if len(key) > len(q) and key[len(q)] == " ":  # the query is the key's whole first word
            return max(score, 96.0 + 3.0 * len(q) / len(key))
        return max(score, 92.0 + 6.0 * len(q) / len(key))
    if f" {q}" in f" {key}":
        return max(score, 90.0 + 6.0 * len(q) / len(key))
    return score


def _arr(typecode: str, raw: bytes) -> array[int]:
    a = array(typecode)
    a.frombytes(raw)
    return a


class Vocabulary:
    """The distinct words of an index's keys, for pruning fuzzy candidates.

    It reads the index's sorted word-start suffixes (``prefix_text``/``prefix_key``): every word
    starts a suffix, and the sorted suffixes whose first word is ``w`` form one block ("w",
    "w ...", before "wa"), so the keys holding word ``w`` are read off that block and nothing per
    word is stored but its id. A query's words are matched against the words that begin (or whose
    second letter is) the same, and only keys holding a close word are scored in full. That keeps
    a typo lookup near a millisecond at 100,000 entries, where scoring every name costs 150 ms.
    """

    def __init__(
        self,
        words: list[str],
        word_start: array[int],
        word_episode: array[int],
        by_first: dict[str, Bucket],
        by_inner: dict[str, Bucket],
        *,
        keys: list[str],
        prefix_key: array[int],
        key_episode: array[int],
    ):
        self.words, self.word_start, self.word_episode = words, word_start, word_episode
        self.by_first, self.by_inner = by_first, by_inner
        self.keys, self.prefix_key, self.key_episode = keys, prefix_key, key_episode
        self._last_pool: tuple[tuple[str, int], dict[int, float]] | None = None
        self._bucket_cache: dict[tuple[int, str, int], Bucket | None] = {}
        self._visible_postings: dict[tuple[int, int], int] = {}
        self._close_cache: dict[tuple[str, int], dict[int, float]] = {}

    @classmethod
    def build(
        cls, prefix_text: list[str], prefix_key: array[int], key_episode: array[int], keys: list[str]
    ) -> Vocabulary:
        """The distinct words of the keys, sorted, and by first letter (and by their 2nd-3rd
        letters, for a slip on the first one), as word ids."""
        firsts = [t.partition(" ")[0] for t in prefix_text]
        starts = [0, *(i for i, (a, b) in enumerate(pairwise(firsts), 1) if a != b)] if firsts else []
        words = [firsts[i] for i in starts]
        del firsts
        word_start = array("i", [*starts, len(prefix_text)])
        # the earliest episode at which some key holding the word is known: a word no visible key
        # holds is not in the viewer's vocabulary (it must not take a close word's place)
        suffix_episode = [key_episode[k] for k in prefix_key]
        word_episode = array("i", [min(suffix_episode[a:b]) for a, b in pairwise(word_start)])
        del starts, suffix_episode

        def buckets(ids: Iterable[int], key: Callable[[int], str]) -> dict[str, Bucket]:
            out = {}
            for c, group in groupby(ids, key):
                vs = array("i", group)
                out[c] = ([words[v] for v in vs], vs)
            return out

        by_first = buckets(range(len(words)), lambda v: words[v][0])
        inner = [v for v in range(len(words)) if len(words[v]) > 2]
        inner.sort(key=lambda v: words[v][1:3])
        by_inner = buckets(inner, lambda v: words[v][1:3])
        return cls(
            words,
            word_start,
            word_episode,
            by_first,
            by_inner,
            keys=keys,
            prefix_key=prefix_key,
            key_episode=key_episode,
        )

    # -- snapshots ---------------------------------------------------------------------------
    def state(self) -> tuple[Any, ...]:
        """The vocabulary in plain containers (``marshal`` can write them), for :meth:`from_state`."""

        def buckets(table: dict[str, Bucket]) -> dict[str, tuple[list[str], bytes]]:
            return {c: (ws, ids.tobytes()) for c, (ws, ids) in table.items()}

        return (
            self.words,
            self.word_start.tobytes(),
            self.word_episode.tobytes(),
            buckets(self.by_first),
            buckets(self.by_inner),
        )

    @classmethod
    def from_state(
        cls, state: tuple[Any, ...], *, keys: list[str], prefix_key: array[int], key_episode: array[int]
    ) -> Vocabulary:
        words, word_start, word_episode, by_first, by_inner = state

        def buckets(raw: dict[str, tuple[list[str], bytes]]) -> dict[str, Bucket]:
            return {c: (ws, _arr("i", ids)) for c, (ws, ids) in raw.items()}

        return cls(
            words,
            _arr("i", word_start),
            _arr("i", word_episode),
            buckets(by_first),
            buckets(by_inner),
            keys=keys,
            prefix_key=prefix_key,
            key_episode=key_episode,
        )

    # -- candidates --------------------------------------------------------------------------
    def candidates(self, q: str, bound: int, ok: Callable[[int], object] | None, prefixed: Iterable[int]) -> list[int]:
        """Keys worth scoring in full for ``q`` at ``bound``: those whose words cover the query's
        words best (at most :data:`PRUNED_CANDIDATES` passing ``ok``), then the ``prefixed`` keys
        that pass ``ok`` (every key passes when ``ok`` is None). ``prefixed`` keys must be
        visible at ``bound``."""
        matched = self.word_pool(q, bound)
        if len(matched) > PRUNED_CANDIDATES:
            ranked: Iterable[int] = [k for k, _ in sorted(matched.items(), key=lambda kv: -kv[1])]
        else:
            ranked = matched
        kept = ranked if ok is None else (k for k in ranked if ok(k))
        pool = list(islice(kept, PRUNED_CANDIDATES))
        in_pool = set(pool)
        for k in prefixed:
            if k not in in_pool and (ok is None or ok(k)):
                pool.append(k)
                in_pool.add(k)
        return pool

    def leading_words(self, w: str, bound: int) -> list[str]:
        """Words known at ``bound`` that ``w`` starts with: "jetblacknoir" (typed solid) -> "jet"."""
        out = []
        words = self.words
        for n in range(2, min(len(w), 24)):
            head = w[:n]
            i = bisect.bisect_left(words, head)
            if i == len(words) or not words[i].startswith(head):
                break
            if words[i] == head and self.word_episode[i] <= bound:
                out.append(head)
        return out

    def bucket(self, table: int, c: str, bound: int) -> Bucket | None:
        """The words of a first-letter (``table`` 0) or inner-letters (1) bucket known at ``bound``."""
        ck = (table, c, bound)
        if ck in self._bucket_cache:
            return self._bucket_cache[ck]
        bucket = (self.by_first if table == 0 else self.by_inner).get(c)
        if bucket is not None:
            words, ids = bucket
            episode = self.word_episode
            if any(episode[v] > bound for v in ids):
                keep = [i for i, v in enumerate(ids) if episode[v] <= bound]
                bucket = ([words[i] for i in keep], array("i", [ids[i] for i in keep])) if keep else None
        if len(self._bucket_cache) > 4096:
            self._bucket_cache.clear()
        self._bucket_cache[ck] = bucket
        return bucket

    def postings_at(self, v: int, bound: int) -> int:
        """How many keys visible at ``bound`` hold word ``v``."""
        ck = (v, bound)
        n = self._visible_postings.get(ck)
        if n is None:
            key_episode = self.key_episode
            lo, hi = self.word_start[v], self.word_start[v + 1]
            n = sum(1 for k in self.prefix_key[lo:hi] if key_episode[k] <= bound)
            if len(self._visible_postings) > 65536:
                self._visible_postings.clear()
            self._visible_postings[ck] = n
        return n

    @staticmethod
    def close_words(w: str, bucket: Bucket | None, into: dict[int, float], limit: int) -> None:
        """Add to ``into`` the ids of the bucket's words closest to ``w``, with their similarity."""
        if not bucket:
            return
        words, ids = bucket
        hits = process.extract(w, words, scorer=fuzz.ratio, processor=None, limit=limit, score_cutoff=WORD_CUTOFF)
        for _, score, i in hits:
            v = ids[i]
            if score > into.get(v, 0.0):
                into[v] = score

    def probes(self, q: str, bound: int) -> list[dict[int, float]]:
        """For each word of the query, the vocabulary words (ids) known at ``bound`` close to it,
        with their similarity."""
        words = list(dict.fromkeys(q.split()))  # in order: the pool (and ties) must not depend on hashing
        if len(words) == 1:  # perhaps a name typed without its spaces: "jetblacknoir" -> "jet", "blacknoir"
            w = words[0]
            heads = [h for h in self.leading_words(w, bound) if len(w) - len(h) >= 2]
            if heads:
                words = [w, heads[-1], w[len(heads[-1]) :]]
        return [self.close_to(w, bound) for w in words]

    def close_to(self, w: str, bound: int) -> dict[int, float]:
        """The vocabulary words (ids) known at ``bound`` close to the word ``w``, with their
        similarity (cached per word and bound: the words of a name come back with every keystroke
        and every lookup of it; callers must not change the dict)."""
        ck = (w, bound)
        close = self._close_cache.get(ck)
        if close is not None:
            return close
        close = {}
        limit = WORD_MATCHES if len(w) > 4 else 2 * WORD_MATCHES  # short words have many equals
        self.close_words(w, self.bucket(0, w[0], bound), close, limit)
        if len(w) > 2 and max(close.values(), default=0.0) < CLOSE_WORD:
            # perhaps a slip on the first letter ("xaomi"), or the first two swapped ("anomi")
            self.close_words(w, self.bucket(1, w[1:3], bound), close, limit)
            if max(close.values(), default=0.0) < CLOSE_WORD:
                self.close_words(w, self.bucket(0, w[1], bound), close, limit)
        if len(self._close_cache) >= CLOSE_CACHE:
            self._close_cache.clear()
        self._close_cache[ck] = close
        return close

    def word_pool(self, q: str, bound: int) -> dict[int, float]:
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
        prefix_key, word_start, key_episode = self.prefix_key, self.word_start, self.key_episode
        for close in self.probes(q, bound):
            best: dict[int, float] = {}
            frequent: dict[int, float] = {}
            for v, score in close.items():
                lo, hi = word_start[v], word_start[v + 1]
                if hi - lo > WORD_POSTINGS and self.postings_at(v, bound) > WORD_POSTINGS:
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
                by_word = {self.words[v]: score for v, score in frequent.items()}
                for k in list(scores):
                    bonus = max([by_word.get(x, 0.0) for x in self.keys[k].split()])
                    if bonus:
                        scores[k] += bonus
        self._last_pool = ((q, bound), scores)
        return scores
