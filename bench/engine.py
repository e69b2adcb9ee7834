"""Engine figures: autocomplete, resolve + render, and the baselines with top-1 accuracy."""

from __future__ import annotations

import difflib
import gc
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from bench.data import Dataset
from bench.queries import SHOW_ALL, Ask, Labelled, Names, autocomplete_workload, labelled_set, resolve_workload
from bench.stats import summary_ms, time_calls
from bot.embeds import entry_pages
from lore.normalize import normalize
from lore.service import LoreService

#: The guild the bot answers in (a server without its own entries: it sees the canon).
GUILD_ID = 4242


@dataclass(slots=True)
class Budget:
    autocomplete_calls: int
    resolve_calls: int
    labelled: int
    difflib_seconds: float


FULL = Budget(autocomplete_calls=4000, resolve_calls=3000, labelled=400, difflib_seconds=30.0)
QUICK = Budget(autocomplete_calls=600, resolve_calls=400, labelled=120, difflib_seconds=4.0)


def autocomplete(svc: LoreService, work: list[Ask], n: int) -> dict[str, Any]:
    def call(a: Ask) -> object:
        return svc.complete(a.text, a.policy, GUILD_ID, a.kinds, 25)

    return summary_ms(time_calls(call, work, n))


def resolve_render(svc: LoreService, work: list[Ask], n: int) -> dict[str, Any]:
    def call(a: Ask) -> object:
        answer = svc.ask(a.text, a.policy, GUILD_ID, a.kinds)
        if answer.view is None:
            return None
        return [e.to_dict() for e in entry_pages(answer.view, svc.franchise)]

    samples = time_calls(call, work, n)
    out = summary_ms(samples)
    # The answers split in two clusters: a card (a slug or name found directly, then rendered) and
    # the rest (no card: a fuzzy search for the closest names). Their shares set the median.
    card = [svc.ask(a.text, a.policy, GUILD_ID, a.kinds).view is not None for a in work]
    out["answered_share"] = sum(card) / len(work)
    out.update(split_by_answer(samples, [card[i % len(work)] for i in range(len(samples))]))
    return out


def split_by_answer(samples: list[int], card: list[bool]) -> dict[str, Any]:
    """The samples' summaries for the answers with a card and for those without one."""
    return {
        "card": summary_ms([t for t, c in zip(samples, card, strict=True) if c]),
        "no_card": summary_ms([t for t, c in zip(samples, card, strict=True) if not c]),
    }


@dataclass(slots=True)
class Workload:
    """Everything the engine figures need from a pack, drawn before the pack is let go (the bot
    does not hold parsed entries, and their objects would slow the garbage collector here)."""

    autocomplete: list[Ask]
    resolve: list[Ask]
    labelled: list[Labelled]
    dropped: int
    keys: list[str]  # every normalised name and alias
    key_slug: list[str]


def prepare(ds: Dataset, budget: Budget) -> Workload:
    names = Names(ds.pack)
    labelled, dropped = labelled_set(ds.pack, budget.labelled)
    return Workload(
        autocomplete=autocomplete_workload(ds.pack, budget.autocomplete_calls),
        resolve=resolve_workload(ds.pack, budget.resolve_calls),
        labelled=labelled,
        dropped=dropped,
        keys=names.keys,
        key_slug=names.key_slug,
    )


class DifflibBaseline:
    """``difflib.get_close_matches`` over every normalised name and alias."""

    def __init__(self, keys: list[str], key_slug: list[str]):
        self.slug_of: dict[str, str] = {}
        for k, s in zip(keys, key_slug, strict=True):
            self.slug_of.setdefault(k, s)
        self.keys = list(self.slug_of)

    def top1(self, query: str) -> str | None:
        hits = difflib.get_close_matches(normalize(query), self.keys, n=1)
        return self.slug_of[hits[0]] if hits else None


class LikeBaseline:
    """SQLite ``LIKE '%query%'`` over every normalised name and alias (shortest name first)."""

    def __init__(self, keys: list[str], key_slug: list[str]):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE TABLE names (key TEXT NOT NULL, slug TEXT NOT NULL)")
        self.db.executemany("INSERT INTO names VALUES (?, ?)", zip(keys, key_slug, strict=True))

    def top1(self, query: str) -> str | None:
        q = normalize(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        row = self.db.execute(
            "SELECT slug FROM names WHERE key LIKE ? ESCAPE '\\' ORDER BY length(key) LIMIT 1", (f"%{q}%",)
        ).fetchone()
        return row[0] if row else None


def _ours_top1(svc: LoreService, query: str) -> tuple[str | None, bool]:
    """(the entry our lookup ranks first, whether the bot answers with it directly)."""
    result = svc.index_for(GUILD_ID).lookup(query, SHOW_ALL)
    if result.match is not None:
        return result.match.slug, True
    return (result.candidates[0].slug if result.candidates else None), False


def _latencies(fn, queries: list[str], reps: int) -> list[int]:
    out: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(reps):
        for q in queries:
            t0 = clock()
            fn(q)
            out.append(clock() - t0)
    return out


def baselines(svc: LoreService, work: Workload, budget: Budget) -> dict[str, Any]:
    """Latency and top-1 accuracy of ours, difflib and SQLite LIKE on the same labelled queries."""
    labelled, dropped = work.labelled, work.dropped
    queries = [q.query for q in labelled]
    like = LikeBaseline(work.keys, work.key_slug)
    diff = DifflibBaseline(work.keys, work.key_slug)

    ours_hits = [_ours_top1(svc, q) for q in queries]
    like_hits = [like.top1(q) for q in queries]
    # difflib is slow on large sets: it runs on as many queries as fit in its time budget.
    diff_hits: list[str | None] = []
    diff_times: list[int] = []
    deadline = time.perf_counter() + budget.difflib_seconds
    for q in queries:
        if len(diff_hits) >= 25 and time.perf_counter() > deadline:
            break
        t0 = time.perf_counter_ns()
        diff_hits.append(diff.top1(q))
        diff_times.append(time.perf_counter_ns() - t0)
    m = len(diff_hits)

    reps = max(1, 3000 // max(1, len(queries)))
    ours_t = _latencies(lambda q: svc.index_for(GUILD_ID).lookup(q, SHOW_ALL), queries, reps)
    ours_sub_t = _latencies(lambda q: svc.index_for(GUILD_ID).lookup(q, SHOW_ALL), queries[:m], reps)
    like_t = _latencies(like.top1, queries, max(1, reps // 10))

    def acc(hits: list[Any], subset: list[Labelled]) -> float:
        got = [h[0] if isinstance(h, tuple) else h for h in hits]
        return sum(1 for h, q in zip(got, subset, strict=True) if h == q.slug) / max(1, len(subset))

    by_cat: dict[str, dict[str, float]] = {}
    for cat in sorted({q.category for q in labelled}):
        idx = [i for i, q in enumerate(labelled) if q.category == cat]
        sub = [labelled[i] for i in idx]
        by_cat[cat] = {
            "n": len(idx),
            "ours": acc([ours_hits[i] for i in idx], sub),
            "like": acc([like_hits[i] for i in idx], sub),
        }
    ours = summary_ms(ours_t)
    ours_sub = summary_ms(ours_sub_t)
    like_s = summary_ms(like_t)
    diff_s = summary_ms(diff_times)
    misses = [
        {"query": q.query, "want": q.slug, "got": h[0], "category": q.category}
        for q, h in zip(labelled, ours_hits, strict=True)
        if h[0] != q.slug
    ]
    return {
        "queries": len(labelled),
        "dropped_ambiguous": dropped,
        "categories": by_cat,
        "ours": {
            **ours,
            "top1": acc(ours_hits, labelled),
            "answered": sum(1 for h in ours_hits if h[1]) / max(1, len(labelled)),
            "answered_right": sum(1 for h, q in zip(ours_hits, labelled, strict=True) if h[1] and h[0] == q.slug)
            / max(1, len(labelled)),
            "top1_on_difflib_subset": acc(ours_hits[:m], labelled[:m]),
        },
        "like": {**like_s, "top1": acc(like_hits, labelled), "ratio_p50": like_s["p50_ms"] / ours["p50_ms"]},
        "difflib": {
            **diff_s,
            "queries": m,
            "top1": acc(diff_hits, labelled[:m]),
            "ratio_p50": diff_s["p50_ms"] / ours_sub["p50_ms"],
        },
        "misses": misses[:20],
    }


async def run_engine(ds: Dataset, work: Workload, budget: Budget, log=print) -> dict[str, Any]:
    gc.collect()
    t0 = time.perf_counter()
    svc = await LoreService.open(ds.db, canon_pack=ds.pack_file)
    load_s = time.perf_counter() - t0
    try:
        out: dict[str, Any] = {"open_seconds": load_s}
        out["autocomplete"] = autocomplete(svc, work.autocomplete, budget.autocomplete_calls)
        ac = out["autocomplete"]
        log(f"    autocomplete      p50 {ac['p50_ms']:.3f} ms  p99 {ac['p99_ms']:.3f} ms  (n={ac['n']})")
        out["resolve_render"] = resolve_render(svc, work.resolve, budget.resolve_calls)
        rr = out["resolve_render"]
        log(f"    resolve + render  p50 {rr['p50_ms']:.3f} ms  p99 {rr['p99_ms']:.3f} ms  (n={rr['n']})")
        log(
            f"      with a card {rr['answered_share']:.0%} (median {rr['card']['p50_ms']:.3f} ms), "
            f"without {1 - rr['answered_share']:.0%} (median {rr['no_card']['p50_ms']:.3f} ms)"
        )
        out["baselines"] = baselines(svc, work, budget)
        b = out["baselines"]
        log(
            f"    top-1 on {b['queries']} typo queries: ours {b['ours']['top1']:.1%}, "
            f"difflib {b['difflib']['top1']:.1%} ({b['difflib']['queries']} q), LIKE {b['like']['top1']:.1%}"
        )
        return out
    finally:
        await svc.close()
