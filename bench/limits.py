"""``python -m bench.limits``: what the rate limits, quotas and metrics cost per interaction.

Each check is timed on its own, as the tree runs it, with a stand-in interaction (the attributes
the checks read; no Discord connection): the token bucket with the sentinel scan
(``check_interaction``), the same with the limits off, the /search cooldown (per server and
member), the metrics recording of one command, and the quota counts a server write makes inside
its transaction (servers of 1,000 and 5,000 entries). Figures: median and p99, in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord

from bot.ratelimit import Limits, check_interaction, heavy
from lore.quotas import Quotas
from lore.service import LoreService

BATCH = 1000


def _interaction(user_id: int, limits: Limits, metrics: Any = None) -> Any:
    return SimpleNamespace(
        data={"type": 1, "name": "character", "options": [{"name": "name", "type": 3, "value": "rouge"}]},
        type=discord.InteractionType.application_command,
        user=SimpleNamespace(id=user_id),
        guild_id=1234,
        client=SimpleNamespace(limits=limits, metrics=metrics),
        created_at=datetime.datetime.now(datetime.UTC),
        command=SimpleNamespace(qualified_name="character"),
        extras={},
    )


async def _per_call_us(call: Callable[[int], Awaitable[object]], batches: int) -> dict[str, float]:
    samples = []
    for b in range(batches):
        t0 = time.perf_counter_ns()
        for i in range(BATCH):
            await call(b * BATCH + i)
        samples.append((time.perf_counter_ns() - t0) / BATCH / 1000)
    samples.sort()
    return {"p50_us": round(statistics.median(samples), 2), "p99_us": round(samples[int(len(samples) * 0.99)], 2)}


async def checks(batches: int) -> dict[str, dict[str, float]]:
    on, off = Limits(burst=10**9, per_second=1.0), Limits.off()  # never refusing: time the check itself
    users = 10_000  # a table of 10,000 active users
    ons = [_interaction(u, on) for u in range(users)]
    offs = [_interaction(u, off) for u in range(users)]

    async def bucket(i: int) -> object:
        return await check_interaction(ons[i % users])

    async def bucket_off(i: int) -> object:
        return await check_interaction(offs[i % users])

    predicate = heavy("search")(lambda: None).__discord_app_commands_checks__[0]  # type: ignore[attr-defined]
    cooldown_limits = Limits(cooldowns={"search": (10**9, 30.0)})
    cools = [_interaction(u, cooldown_limits) for u in range(users)]

    async def cooldown(i: int) -> object:
        return predicate(cools[i % users])

    out = {
        "token bucket + placeholder scan (limits on)": await _per_call_us(bucket, batches),
        "the same, limits off": await _per_call_us(bucket_off, batches),
        "/search cooldown (per server and user)": await _per_call_us(cooldown, batches),
    }
    try:
        from bot.metrics import Metrics, observe_interaction

        bot = SimpleNamespace(latency=0.05, guilds=[], shard_count=1, is_ready=lambda: True)
        metrics = Metrics(bot, port=0)  # type: ignore[arg-type]
        recs = [_interaction(u, on, metrics) for u in range(100)]

        async def observe(i: int) -> object:
            observe_interaction(recs[i % 100], None, 0.001)
            return None

        out["metrics: count and time one command"] = await _per_call_us(observe, batches)
    except ImportError:
        pass
    return out


async def quota_writes(n: int) -> dict[str, dict[str, float]]:
    """The quota counts one server write adds to its transaction (before and after the write)."""
    out = {}
    for size in (1000, 5000):
        with tempfile.TemporaryDirectory() as tmp:
            svc = await LoreService.open(Path(tmp) / "q.sqlite3", canon_pack=None, quotas=Quotas.off())
            try:
                await svc.import_pack(_pack(size), guild_id=1, author="bench", filename="pack.json")
                guard = Quotas().guard("guild:1")
                assert guard is not None
                samples = []
                for _ in range(n):
                    async with svc.store.write() as db:
                        t0 = time.perf_counter_ns()
                        await guard.begin(db, 1)
                        await guard.end(db)
                        samples.append((time.perf_counter_ns() - t0) / 1000)
                samples.sort()
                label = "at the default limit: live entries counted" if size >= 5000 else "ordinary"
                out[f"quota counts of one write, {size:,}-entry server ({label})"] = {
                    "p50_us": round(statistics.median(samples), 1),
                    "p99_us": round(samples[int(len(samples) * 0.99)], 1),
                }
            finally:
                await svc.close()
    return out


def _pack(n: int) -> bytes:
    import json

    entries = [{"slug": f"e-{i}", "kind": "concept", "name": f"Entry {i}", "summary": "s"} for i in range(n)]
    return json.dumps({"pack": {"name": "bench"}, "entries": entries}).encode()


async def run(quick: bool) -> dict[str, dict[str, float]]:
    results = await checks(batches=20 if quick else 200)
    results.update(await quota_writes(n=50 if quick else 200))
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.limits", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="fewer samples (a few seconds)")
    args = p.parse_args(argv)
    results = asyncio.run(run(args.quick))
    width = max(len(k) for k in results)
    for name, fig in results.items():
        print(f"{name:<{width}}  p50 {fig['p50_us']:>8.2f} µs   p99 {fig['p99_us']:>8.2f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
