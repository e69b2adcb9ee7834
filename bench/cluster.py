"""``python -m bench.cluster [--quick]``: sharding and the PostgreSQL backend.

1. **Start-up of a sharded bot**: 1,000 and 10,000 guilds over 4 shards, in one process (shards
   0-3) and in two (0-1 and 2-3, one SQLite database), against the fake Discord with Discord's
   identify rules (``max_concurrency`` 1: one IDENTIFY per 5 s). Measured from starting the
   process(es) until every shard serves (a ``/ping`` sent after its last GUILD_CREATE is answered)
   and until discord.py's ``on_ready`` (which waits ``guild_ready_timeout``, 2 s, after the last
   GUILD_CREATE). Target: all guilds ready within the pacing Discord allows (3 x 5 s for 4 shards
   in one bucket) plus 2 s. Resident memory per process, and per guild: the difference between
   10,000 and 1,000 guilds over the 9,000 guilds (target <= 3 KB).
2. **The two backends in one run** (the canon pack, one process): lookup (resolve + render) and
   autocomplete latency on a service over SQLite and over PostgreSQL (both memory-served: target
   within 10%); write latency of ``/progress set`` and ``/lore-admin fact`` (p50/p99); propagation:
   the delay until a second service on the same database sees a write (p50/p99; SQLite by the
   feed's polling, PostgreSQL by NOTIFY; target p99 <= 1 s).

Results go to ``bench/results.json`` under ``"cluster"``; ``--quick`` shortens the identify
interval to 1 s and takes fewer samples (its start-up figures are not Discord's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.data import ROOT
from bench.e2e import BenchFake
from bench.stats import rss_mb, summary_ms

SHARDS = 4


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _guild_id(shard: int, n: int) -> int:
    return (((500_000 + n) * SHARDS + shard) << 22) | 4242


# ------------------------------------------------------------------------------- start-up
async def _startup(guilds: int, layout: list[str], interval: float, workdir: Path) -> dict[str, Any]:
    from lore.packs import CANON_PACK_PATH

    db = workdir / f"startup-{guilds}-{len(layout)}.sqlite3"
    fake = BenchFake(max_concurrency=1, identify_interval=interval, timeout=30.0)
    await fake.start()
    procs: list[tuple[subprocess.Popen[bytes], Any]] = []
    try:
        by_shard: dict[int, Any] = {}
        for n in range(guilds // SHARDS):
            for s in range(SHARDS):
                g = fake.add_guild(f"G{s}-{n}", channels=["general"], id=_guild_id(s, n))
                by_shard.setdefault(s, g)
        viewers = {s: fake.add_member(g, f"Viewer {s}") for s, g in by_shard.items()}
        # the database exists before the bots start, as an operator's `lorebot db upgrade` leaves it
        prep = subprocess.run(
            [sys.executable, "-m", "bot.cli", "--db", str(db), "db", "upgrade"],
            cwd=ROOT.parent,
            capture_output=True,
            check=False,
        )
        if prep.returncode != 0:
            raise RuntimeError(prep.stderr.decode(errors="replace"))
        started = time.monotonic()
        for ids in layout:
            log = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
            cmd = [sys.executable, "-m", "bench.botproc", "--db", str(db), "--pack", str(CANON_PACK_PATH)]
            cmd += ["--api-base", fake.api_base, "--gateway", fake.gateway_url, "--sync", "--log-level", "INFO"]
            cmd += ["--shard-count", str(SHARDS), "--shard-ids", ids, "--identify-interval", str(interval)]
            procs.append((subprocess.Popen(cmd, cwd=ROOT.parent, stdout=log, stderr=subprocess.STDOUT), log))
        serving: dict[int, float] = {}
        ready_at: dict[int, float] = {}
        deadline = started + 6 * interval * SHARDS + 120
        while len(serving) < SHARDS or len(ready_at) < len(procs):
            if time.monotonic() > deadline:
                raise RuntimeError("the shards did not come up:\n" + _outputs(procs))
            for p, _ in procs:
                if p.poll() is not None:
                    raise RuntimeError(f"a bot process exited ({p.returncode}):\n" + _outputs(procs))
            for s in range(SHARDS):
                session = fake.shards.by_shard.get(s)
                if s in serving or session is None or session.connection is None:
                    continue
                if session.seq < 1 + guilds // SHARDS:  # READY and every GUILD_CREATE sent
                    continue
                r = await fake.slash(
                    "ping", user=viewers[s], channel=by_shard[s].channels["general"], timeout=2, require_response=False
                )
                if r.responded:
                    serving[s] = time.monotonic() - started
            for i, (_p, log) in enumerate(procs):
                if i not in ready_at and b" ready as " in _read(log):
                    ready_at[i] = time.monotonic() - started
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        memory = [rss_mb(p.pid)["rss_mb"] for p, _ in procs]
        floor = (SHARDS - 1) * interval  # one bucket: 4 IDENTIFYs, `interval` apart
        first_identify = min(t for t, _, _ in fake.shards.identifies) - started
        return {
            "guilds": guilds,
            "processes": len(procs),
            "layout": layout,
            "identify_interval_s": interval,
            "pacing_floor_s": floor,
            "first_identify_s": round(first_identify, 2),
            "all_serving_s": round(max(serving.values()), 2),
            "serving_after_first_identify_s": round(max(serving.values()) - first_identify, 2),
            "all_ready_s": round(max(ready_at.values()), 2),
            "per_shard_serving_s": {str(k): round(v, 2) for k, v in sorted(serving.items())},
            "rss_mb": [round(m, 1) for m in memory],
            "rss_mb_total": round(sum(memory), 1),
            "violations": [str(v) for v in fake.take_violations()],
        }
    finally:
        for p, _ in procs:
            if p.poll() is None:
                p.terminate()
        for p, log in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(10)
            if p.poll() is None:
                p.kill()
            log.close()
        await fake.stop()


def _read(log: Any) -> bytes:
    log.seek(0)
    return bytes(log.read())


def _outputs(procs: list[tuple[subprocess.Popen[bytes], Any]]) -> str:
    return "\n---\n".join(_read(log).decode(errors="replace")[-3000:] for _, log in procs)


# ------------------------------------------------------------------------------- backends
async def _open_pair(target: str) -> tuple[Any, Any]:
    from lore.packs import CANON_PACK_PATH
    from lore.service import LoreService

    svc = await LoreService.open(target, canon_pack=CANON_PACK_PATH)
    other = await LoreService.open(target, canon_pack=None)
    other.start_watching()  # as a bot process does: polls the feed every 0.2 s (and NOTIFY on PostgreSQL)
    return svc, other


def _memory_figures(pairs: dict[str, tuple[Any, Any]], samples: int) -> dict[str, dict[str, list[int]]]:
    """Lookups and autocompletes, the backends interleaved block by block (same machine state)."""
    from lore.spoilers import Mode, Policy

    policy = Policy(13, Mode.TAG)
    any_svc = next(iter(pairs.values()))[0]
    names = [e.name for e in any_svc.entries()]
    queries = [n.lower() for n in names] + [n[:-1] for n in names if len(n) > 4]
    prefixes = [n[: max(2, len(n) // 3)] for n in names]
    out: dict[str, dict[str, list[int]]] = {b: {"lookup": [], "autocomplete": []} for b in pairs}
    clock = time.perf_counter_ns
    for block in range(10):
        for backend, (svc, _) in pairs.items():
            for i in range(samples // 2):
                q = queries[(block * samples + i) % len(queries)]
                t0 = clock()
                svc.ask(q, policy, 1)
                out[backend]["lookup"].append(clock() - t0)
                p = prefixes[(block * samples + i) % len(prefixes)]
                t0 = clock()
                svc.complete(p, policy, 1)
                out[backend]["autocomplete"].append(clock() - t0)
    return out


async def _write_figures(svc: Any, other: Any, samples: int) -> dict[str, Any]:
    progress, facts, seen = [], [], []
    clock = time.perf_counter_ns
    for i in range(samples):
        t0 = clock()
        await svc.set_progress(10_000 + i, i % 14)
        progress.append(clock() - t0)
    for i in range(samples // 2):
        t0 = clock()
        await svc.add_fact(7, "rouge-redstar", f"Benchmark note {i}.", 0, "bench")
        facts.append(clock() - t0)
    for i in range(samples // 2):
        uid, ep = 20_000 + i, 1 + i % 13
        await asyncio.sleep(0.003 * (i % 7))  # writes at no fixed phase of the other's polling
        t0 = clock()  # from the start of the write until the other service shows it
        await svc.set_progress(uid, ep)
        while other.progress(uid) != ep:
            if clock() - t0 > 5e9:
                break
            await asyncio.sleep(0.0005)
        seen.append(clock() - t0)
    return {
        "write_progress": summary_ms(progress),
        "write_fact": summary_ms(facts),
        "propagation": summary_ms(seen),
    }


async def _backends(workdir: Path, samples: int, pg_url: str | None) -> list[dict[str, Any]]:
    targets = {"sqlite": str(workdir / "backend.sqlite3")}
    server_cm: Any = None
    if pg_url:
        targets["postgresql"] = pg_url
    else:
        sys.path.insert(0, str(ROOT.parent))
        from tests.postgres import PostgresUnavailable, postgres_server

        try:
            server_cm = postgres_server()
            targets["postgresql"] = server_cm.__enter__().new_database("lorebot_bench")
        except PostgresUnavailable as e:
            _log(f"PostgreSQL figures skipped: {e}")
            server_cm = None
    pairs = {b: await _open_pair(t) for b, t in targets.items()}
    try:
        memory = _memory_figures(pairs, samples)
        out = []
        for backend, (svc, other) in pairs.items():
            fig: dict[str, Any] = {"backend": backend}
            fig.update({k: summary_ms(v) for k, v in memory[backend].items()})
            fig.update(await _write_figures(svc, other, samples))
            out.append(fig)
        return out
    finally:
        for svc, other in pairs.values():
            await other.close()
            await svc.close()
        if server_cm is not None:
            server_cm.__exit__(None, None, None)


# ------------------------------------------------------------------------------- report
def table(res: dict[str, Any]) -> str:
    interval = res["startup"][0]["identify_interval_s"]
    lines = [f"Start-up of 4 shards (max_concurrency 1, one IDENTIFY per {interval:g} s)"]
    lines.append(
        "| guilds | processes | first IDENTIFY (s) | all shards serving (s) | … after the first IDENTIFY (s) "
        "| all on_ready (s) | pacing + 2 s (s) | RSS per process (MB) |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in res["startup"]:
        lines.append(
            f"| {r['guilds']:,} | {r['processes']} | {r['first_identify_s']} | {r['all_serving_s']} | "
            f"{r['serving_after_first_identify_s']} | {r['all_ready_s']} | "
            f"{r['pacing_floor_s'] + 2:g} | {', '.join(str(m) for m in r['rss_mb'])} |"
        )
    for k, v in res.get("per_guild_kb", {}).items():
        lines.append(f"Resident memory per guild ({k}): {v:.2f} KB")
    lines.append("")
    lines.append("| figure (ms p50 / p99) | " + " | ".join(b["backend"] for b in res["backends"]) + " |")
    lines.append("|---|" + "---|" * len(res["backends"]))
    for key, label in (
        ("lookup", "lookup (resolve + render)"),
        ("autocomplete", "autocomplete"),
        ("write_progress", "write: /progress set"),
        ("write_fact", "write: /lore-admin fact"),
        ("propagation", "a write, until a second service shows it"),
    ):
        cells = [f"{b[key]['p50_ms']:.2f} / {b[key]['p99_ms']:.2f}" for b in res["backends"]]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pg", help="a postgresql:// URL to use instead of starting a server")
    ap.add_argument("--out", type=Path, default=ROOT / "results.json")
    args = ap.parse_args(argv)
    interval = 1.0 if args.quick else 5.0
    samples = 100 if args.quick else 400
    res: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": "quick" if args.quick else "full",
    }
    with tempfile.TemporaryDirectory(prefix="lorebot-bench-cluster-") as tmp:
        work = Path(tmp)
        res["startup"] = []
        for guilds in (1000, 10000):
            for layout in (["0-3"], ["0-1", "2-3"]):
                _log(f"start-up: {guilds} guilds, {len(layout)} process(es)")
                res["startup"].append(asyncio.run(_startup(guilds, layout, interval, work)))
        by = {(r["guilds"], r["processes"]): r for r in res["startup"]}
        res["per_guild_kb"] = {
            f"{p} process(es)": (by[(10000, p)]["rss_mb_total"] - by[(1000, p)]["rss_mb_total"]) * 1024 / 9000
            for p in (1, 2)
        }
        _log("backends: lookups, writes, propagation")
        res["backends"] = asyncio.run(_backends(work, samples, args.pg))
    if len(res["backends"]) == 2:
        s, p = res["backends"]
        res["lookup_pg_vs_sqlite"] = p["lookup"]["p50_ms"] / s["lookup"]["p50_ms"]
        res["autocomplete_pg_vs_sqlite"] = p["autocomplete"]["p50_ms"] / s["autocomplete"]["p50_ms"]
    res["table"] = table(res)
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    results["cluster"] = res
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(res["table"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
