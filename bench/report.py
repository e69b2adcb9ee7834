"""The results table and the targets it is held to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = tuple[str, Callable[[dict[str, Any]], str]]


def _get(fig: dict[str, Any], *path: str) -> Any:
    cur: Any = fig
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def _ms(fig: dict[str, Any], *path: str) -> str:
    p50 = _get(fig, *path, "p50_ms")
    p99 = _get(fig, *path, "p99_ms")
    if p50 is None:
        return "—"
    return f"{p50:.2f} / {p99:.2f}"


def _num(v: Any, fmt: str, suffix: str = "") -> str:
    return "—" if v is None else f"{v:{fmt}}{suffix}"


def _answer_split(fig: dict[str, Any], field: str, fmt: str) -> str:
    """``45% / 55% / 0%``: one figure of each kind of /character answer (sequential, end to end)."""
    split = _get(fig, "e2e", "sequential", "character_by_answer")
    if not split:
        return "—"
    return " / ".join("—" if k not in split else f"{split[k][field]:{fmt}}" for k in ("card", "pick", "text"))


def _share_ms(fig: dict[str, Any], *path: str) -> str:
    """``64%, 0.05``: the share of answers of one kind and their median. The share of the
    engine's cards is the parent figure's ``answered_share``; an answer kind's is its own."""
    part = _get(fig, *path)
    if part is None:
        return "—"
    share = part.get("share", _get(fig, *path[:-1], "answered_share"))
    return f"{share:.0%}, {part['p50_ms']:.2f}" if share is not None and part.get("n") else "—"


ROWS: list[Row] = [
    ("Autocomplete, engine (ms p50 / p99)", lambda f: _ms(f, "autocomplete")),
    ("Resolve + render embed (ms p50 / p99)", lambda f: _ms(f, "resolve_render")),
    ("  … answers with a card: share, ms p50", lambda f: _share_ms(f, "resolve_render", "card")),
    ("  … answers without one: ms p50", lambda f: _num(_get(f, "resolve_render", "no_card", "p50_ms"), ".2f")),
    ("E2E /ping, sequential (ms p50 / p99)", lambda f: _ms(f, "e2e", "sequential", "ping")),
    ("E2E /character, sequential (ms p50 / p99)", lambda f: _ms(f, "e2e", "sequential", "character")),
    ("  /character median ÷ /ping median", lambda f: _num(_get(f, "e2e", "sequential", "character_ratio"), ".2f", "×")),
    (
        "  … card / did you mean / sentence: share",
        lambda f: _answer_split(f, "share", ".0%"),
    ),
    (
        "  … card / did you mean / sentence: ms p50",
        lambda f: _answer_split(f, "p50_ms", ".2f"),
    ),
    ("E2E autocomplete, sequential (ms p50 / p99)", lambda f: _ms(f, "e2e", "sequential", "autocomplete")),
    (
        "  autocomplete median ÷ /ping median",
        lambda f: _num(_get(f, "e2e", "sequential", "autocomplete_ratio"), ".2f", "×"),
    ),
    ("E2E /character, 50 concurrent (ms p50 / p99)", lambda f: _ms(f, "e2e", "concurrent", "character")),
    (
        "  /character median ÷ /ping median",
        lambda f: _num(_get(f, "e2e", "concurrent", "character_ratio"), ".2f", "×"),
    ),
    (
        "Throughput /ping, /character (interactions/s)",
        lambda f: (
            "—"
            if _get(f, "e2e", "concurrent", "ping", "per_second") is None
            else f"{_get(f, 'e2e', 'concurrent', 'ping', 'per_second'):.0f}, "
            f"{_get(f, 'e2e', 'concurrent', 'character', 'per_second'):.0f}"
        ),
    ),
    ("  /character ÷ /ping throughput", lambda f: _num(_get(f, "e2e", "concurrent", "throughput_ratio"), ".0%")),
    (
        "Bot CPU per answer /ping, /character (ms)",
        lambda f: (
            "—"
            if _get(f, "e2e", "concurrent", "ping", "bot_cpu_ms") is None
            else f"{_get(f, 'e2e', 'concurrent', 'ping', 'bot_cpu_ms'):.2f}, "
            f"{_get(f, 'e2e', 'concurrent', 'character', 'bot_cpu_ms'):.2f}"
        ),
    ),
    (
        "  /character ÷ /ping capacity (by bot CPU)",
        lambda f: _num(_get(f, "e2e", "concurrent", "capacity_ratio"), ".0%"),
    ),
    ("Start-up to first answer, warm (s)", lambda f: _num(_get(f, "startup", "warm_seconds"), ".2f")),
    (
        "  … index rebuilt, no snapshot (s)",
        lambda f: _num(_get(f, "startup", "rebuild", "seconds"), ".2f"),
    ),
    ("Start-up to first answer, first fill (s)", lambda f: _num(_get(f, "startup", "first_fill_seconds"), ".2f")),
    ("Resident memory after start-up (MB)", lambda f: _num(_get(f, "startup", "rss_mb"), ".0f")),
    ("  … index rebuilt, no snapshot (MB)", lambda f: _num(_get(f, "startup", "rebuild", "rss_mb"), ".0f")),
    ("Resident memory after the load (MB)", lambda f: _num(_get(f, "e2e", "rss_after_load_mb"), ".0f")),
    ("Top-1 accuracy, ours", lambda f: _num(_get(f, "baselines", "ours", "top1"), ".1%")),
    ("Top-1 accuracy, difflib", lambda f: _num(_get(f, "baselines", "difflib", "top1"), ".1%")),
    ("Top-1 accuracy, SQLite LIKE", lambda f: _num(_get(f, "baselines", "like", "top1"), ".1%")),
    ("Typo lookup, ours (ms p50 / p99)", lambda f: _ms(f, "baselines", "ours")),
    ("  difflib ÷ ours (median latency)", lambda f: _num(_get(f, "baselines", "difflib", "ratio_p50"), ".1f", "×")),
    ("  LIKE ÷ ours (median latency)", lambda f: _num(_get(f, "baselines", "like", "ratio_p50"), ".1f", "×")),
]

#: (figure path, size, limit, comparison, description)
TARGETS: list[tuple[tuple[str, ...], str, float, str, str]] = [
    (("autocomplete", "p99_ms"), "canon", 1.0, "<=", "autocomplete p99 ≤ 1 ms at canon size"),
    (("autocomplete", "p99_ms"), "10k", 2.0, "<=", "autocomplete p99 ≤ 2 ms at 10,000 entries"),
    (("autocomplete", "p99_ms"), "100k", 10.0, "<=", "autocomplete p99 ≤ 10 ms at 100,000 entries"),
    (("resolve_render", "p99_ms"), "10k", 2.0, "<=", "resolve + render p99 ≤ 2 ms at 10,000 entries"),
    (("e2e", "sequential", "character_ratio"), "canon", 1.5, "<=", "/character median ≤ 1.5× /ping at canon size"),
    (("e2e", "sequential", "character_ratio"), "10k", 2.0, "<=", "/character median ≤ 2× /ping at 10,000 entries"),
    (("e2e", "concurrent", "throughput_ratio"), "canon", 0.6, ">=", "/character throughput ≥ 60% of /ping (canon)"),
    (("e2e", "concurrent", "throughput_ratio"), "10k", 0.6, ">=", "/character throughput ≥ 60% of /ping (10k)"),
    (("startup", "warm_seconds"), "canon", 1.5, "<=", "start-up to first answer ≤ 1.5 s at canon size"),
    (("startup", "warm_seconds"), "100k", 4.0, "<=", "start-up to first answer ≤ 4 s at 100,000 entries"),
    (("startup", "rss_mb"), "canon", 120.0, "<=", "resident memory ≤ 120 MB at canon size"),
    (("startup", "rss_mb"), "100k", 400.0, "<=", "resident memory ≤ 400 MB at 100,000 entries"),
]


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    figures = results.get("figures", {})
    for path, size, limit, op, text in TARGETS:
        if size not in figures:
            continue
        value = _get(figures[size], *path)
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        out.append({"target": text, "size": size, "value": value, "limit": limit, "met": met})
    for size, fig in figures.items():
        b = fig.get("baselines")
        if not b:
            continue
        ours = b["ours"]["top1"]
        ahead = ours > b["like"]["top1"] and b["ours"]["top1_on_difflib_subset"] > b["difflib"]["top1"]
        out.append(
            {
                "target": "top-1 accuracy ≥ 97% on the typo set, ahead of difflib and LIKE",
                "size": size,
                "value": ours,
                "limit": 0.97,
                "met": ours >= 0.97 and ahead,
            }
        )
    return out


def table(results: dict[str, Any]) -> str:
    sizes = list(results["figures"])
    head = ["Figure"] + [
        f"{s} ({results['sizes'][s]['entries']:,} entries)" if s in results["sizes"] else s for s in sizes
    ]
    rows = [head]
    for label, fn in ROWS:
        cells = [fn(results["figures"][s]) for s in sizes]
        if all(c == "—" for c in cells):
            continue
        rows.append([label, *cells])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out = ["\n".join(lines), ""]
    tgts = results.get("targets", [])
    if tgts:
        out.append("Targets:")
        for t in tgts:
            mark = "met" if t["met"] else ("MISSED" if t["met"] is not None else "n/a")
            value = t["value"]
            shown = "—" if value is None else (f"{value:.1%}" if t["limit"] < 1 else f"{value:.2f}")
            out.append(f"  [{mark:6}] {t['target']} ({t['size']}: {shown})")
    m = results.get("machine", {})
    out.append("")
    out.append(
        f"{results['mode']} run, {results['date']}, Python {m.get('python')}, {m.get('cpus')} CPUs "
        f"({m.get('cpu', '?')}), discord.py {m.get('discord.py')}, rapidfuzz {m.get('rapidfuzz')}, "
        f"commit {m.get('commit', '?')}"
    )
    for note in results.get("notes", []):
        out.append(f"Note: {note}")
    return "\n".join(out)
