"""End-to-end figures: the real bot in its own process, the fake Discord in this one.

The bot (``bench.botproc``) connects to the fake over HTTP and a websocket exactly as it would to
Discord; the fake, here, plays the users. Timings are taken on the fake's side: from just before
the interaction is built and sent over the gateway to the moment the bot's callback request
reaches the fake (before the fake reads and checks it). The bot has a core to itself and the fake
the other, as the real Discord would be elsewhere. The fake's OpenAPI schema check is off (it is
the fake's cost, not the bot's); its Discord-rule checks stay on, and any violation is reported.

Figures: sequential latency of ``/ping`` (defined only here), ``/character`` and its autocomplete,
interleaved; latency and throughput with 50 interactions in flight (50 users, each sending the
next as soon as it is answered), with the CPU time each process spent per answer; start-up from process start
to the first answer (warm: database already filled; for a canon large enough to keep an index
snapshot, also once without it; first fill: empty database and the pack file); resident memory of
the bot process after start-up and after the load.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.data import CACHE, Dataset
from bench.queries import typo
from bench.spawn import BotProcess
from bench.stats import percentile, summary_ms
from bot.sharding import paced
from fakediscord import FakeDiscord, InteractionResult
from lore.model import Kind
from lore.packs import MAX_PACK_BYTES

CONCURRENCY = 50


class BenchFake(FakeDiscord):
    """The fake, waiting only for each interaction's callback (no settling afterwards) and noting
    when the callback request reached it (before the fake reads, checks and stores it), per
    calling task."""

    def __init__(self, **kwargs: Any):
        super().__init__(openapi=False, raise_on_violations=False, **kwargs)
        self.done_at: dict[asyncio.Task[Any], int] = {}
        self._arrived: dict[str, int] = {}

    async def _api_handler(self, request: Any) -> Any:
        # The callback's arrival, before the fake reads, parses and checks its body.
        parts = request.path.rsplit("/", 3)
        if len(parts) == 4 and parts[3] == "callback" and "/interactions/" in request.path:
            self._arrived.setdefault(parts[2], time.perf_counter_ns())
        return await super()._api_handler(request)

    async def _settle(self, rec: Any, timeout: float, settle: float, followups: int) -> None:
        try:
            await asyncio.wait_for(rec.attempted.wait(), timeout)
        except TimeoutError:
            rec.timed_out = True
        task = asyncio.current_task()
        if task is not None:
            self.done_at[task] = self._arrived.pop(rec.token, 0) or time.perf_counter_ns()
        # The record keeps every task alive at its start: dropped, so that tasks do not pile up
        # (asyncio.all_tasks(), which the fake calls per interaction, would grow with them).
        rec.tasks_before = set()
        rec.handler_tasks = set()

    def _result(self, rec: Any) -> InteractionResult:
        """What the bot answered, without the deep copies (nothing here mutates it)."""
        msg = self.messages.get(rec.original_id) if rec.original_id is not None else None
        return InteractionResult(
            interaction=rec.payload,
            type=rec.callback_type,
            callback=rec.callback_body,
            message=msg,
            choices=rec.choices,
            violations=rec.violations,
            rejected=rec.rejected,
            errors=rec.errors,
            timed_out=rec.timed_out,
        )


@dataclass(slots=True)
class E2EWork:
    character: list[str]  # /character name values: picked slugs, typed names, typos
    typed: list[str]  # what users type into /character's autocomplete
    first: str  # the first question a freshly started bot answers


def prepare(ds: Dataset, n: int = 400, seed: int = 17) -> E2EWork:
    rng = random.Random(seed)
    chars = [e for e in ds.pack.entries if e.kind is Kind.CHARACTER] or list(ds.pack.entries)
    character: list[str] = []
    typed: list[str] = []
    for _ in range(n):
        e = rng.choice(chars)
        r = rng.random()
        if r < 0.5:
            character.append(e.slug)  # the value of a picked autocomplete choice
        elif r < 0.8:
            character.append(e.name)
        else:
            character.append(typo(e.name, rng))
        k = rng.choice((1, 2, 3, 4, 5, 6, 8))
        text = e.name[:k]
        typed.append(typo(text, rng) if len(text) >= 4 and rng.random() < 0.2 else text)
    return E2EWork(character, typed, chars[0].name)


class Driver:
    def __init__(self, fake: BenchFake):
        self.fake = fake
        self.guild = fake.add_guild("Benchmark Server", channels=["general"])
        self.channel = self.guild.channels["general"]
        self.users = [fake.add_member(self.guild, f"Viewer {i}") for i in range(CONCURRENCY)]
        self.bad: list[str] = []

    async def _timed(self, coro_fn) -> int:
        t0 = time.perf_counter_ns()
        result = await coro_fn()
        done = self.fake.done_at.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
        if getattr(result, "timed_out", False) or getattr(getattr(result, "result", None), "timed_out", False):
            self.bad.append("timed out")
        return (done or time.perf_counter_ns()) - t0

    async def ping(self, user: int = 0) -> int:
        return await self._timed(lambda: self.fake.slash("ping", user=self.users[user], channel=self.channel))

    async def character(self, name: str, user: int = 0) -> int:
        return (await self.character_answer(name, user))[0]

    async def character_answer(self, name: str, user: int = 0) -> tuple[int, str]:
        """The latency of a /character question and what it was answered with: ``card`` (an
        embed), ``pick`` (a "did you mean" select) or ``text`` (a sentence: no close name)."""
        result: list[InteractionResult] = []

        async def ask() -> InteractionResult:
            r = await self.fake.slash("character", {"name": name}, user=self.users[user], channel=self.channel)
            result.append(r)
            return r

        ns = await self._timed(ask)
        data = (result[0].callback or {}).get("data") or {}
        return ns, "card" if data.get("embeds") else ("pick" if data.get("components") else "text")

    async def autocomplete(self, text: str, user: int = 0) -> int:
        return await self._timed(
            lambda: self.fake.autocomplete(
                "character", {"name": text}, focused="name", user=self.users[user], channel=self.channel
            )
        )


async def _sequential(d: Driver, work: E2EWork, rounds: int) -> dict[str, Any]:
    ping: list[int] = []
    char: list[int] = []
    answered: list[str] = []
    ac: list[int] = []
    for i in range(10):  # warm-up
        await d.ping()
        await d.character(work.character[i % len(work.character)])
        await d.autocomplete(work.typed[i % len(work.typed)])
    for i in range(rounds):  # interleaved, so that any drift touches all three alike
        ping.append(await d.ping())
        ns, kind = await d.character_answer(work.character[i % len(work.character)])
        char.append(ns)
        answered.append(kind)
        ac.append(await d.autocomplete(work.typed[i % len(work.typed)]))
    out = {"ping": summary_ms(ping), "character": summary_ms(char), "autocomplete": summary_ms(ac)}
    # Which answers the questions got, and the latency of each kind: the shares set the median
    # (a question naming a later entry under ``tag`` is answered as if the entry did not exist).
    out["character_by_answer"] = {
        kind: {
            "share": answered.count(kind) / len(answered),
            **summary_ms([t for t, k in zip(char, answered, strict=True) if k == kind]),
        }
        for kind in ("card", "pick", "text")
        if kind in answered
    }
    out["character_ratio"] = out["character"]["p50_ms"] / out["ping"]["p50_ms"]
    out["autocomplete_ratio"] = out["autocomplete"]["p50_ms"] / out["ping"]["p50_ms"]
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc, in clock ticks of 10 ms)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _closed_loop(d: Driver, bot: BotProcess, make, n: int) -> dict[str, Any]:
    """``n`` interactions by CONCURRENCY users, each sending its next one as soon as it is answered."""
    assert bot.proc is not None
    todo = iter(range(n))
    lat: list[int] = []

    async def user(u: int) -> None:
        for i in todo:  # shared: each interaction is taken by one user
            lat.append(await make(i, u))

    cpu0, own0, t0 = _cpu_seconds(bot.proc.pid), _own_cpu_seconds(), time.perf_counter_ns()
    await asyncio.gather(*(user(u) for u in range(CONCURRENCY)))
    elapsed = (time.perf_counter_ns() - t0) / 1e9
    cpu, own = _cpu_seconds(bot.proc.pid) - cpu0, _own_cpu_seconds() - own0
    return {"lat": lat, "seconds": elapsed, "bot_cpu": cpu, "fake_cpu": own}


async def _concurrent(d: Driver, bot: BotProcess, work: E2EWork, n: int) -> dict[str, Any]:
    names = work.character

    def ping(_: int, u: int):
        return d.ping(u)

    def char(i: int, u: int):
        return d.character(names[i % len(names)], u)

    await _closed_loop(d, bot, ping, CONCURRENCY)  # warm-up
    await _closed_loop(d, bot, char, CONCURRENCY)
    runs: dict[str, list[dict[str, Any]]] = {"ping": [], "character": []}
    for _ in range(2):  # alternating, so that any drift touches both alike
        runs["ping"].append(await _closed_loop(d, bot, ping, n))
        runs["character"].append(await _closed_loop(d, bot, char, n))

    def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
        count = sum(len(p["lat"]) for p in parts)
        seconds = sum(p["seconds"] for p in parts)
        out = summary_ms([x for p in parts for x in p["lat"]])
        out["per_second"] = count / seconds
        out["bot_cpu_ms"] = 1000 * sum(p["bot_cpu"] for p in parts) / count
        out["fake_cpu_ms"] = 1000 * sum(p["fake_cpu"] for p in parts) / count
        out["bot_busy"] = sum(p["bot_cpu"] for p in parts) / seconds
        out["fake_busy"] = sum(p["fake_cpu"] for p in parts) / seconds
        return out

    out: dict[str, Any] = {"concurrency": CONCURRENCY}
    out["ping"], out["character"] = merge(runs["ping"]), merge(runs["character"])
    out["character_ratio"] = out["character"]["p50_ms"] / out["ping"]["p50_ms"]
    out["throughput_ratio"] = out["character"]["per_second"] / out["ping"]["per_second"]
    # What the bot itself could sustain: CPU per answer (the fake, on the other core, may be the
    # slower of the two for /ping, which then flatters the throughput ratio).
    out["capacity_ratio"] = out["ping"]["bot_cpu_ms"] / out["character"]["bot_cpu_ms"]
    return out


async def _identify_bucket_free(fake: BenchFake) -> None:
    """Wait (untimed) until Discord would take the next IDENTIFY: one per bucket every 5 s. A bot
    started sooner waits for its turn (the bots of one database claim the bucket together), and
    that wait is Discord's rate limit, not the bot's start-up."""
    if fake.shards.identifies:
        last = fake.shards.identifies[-1][0]
        await asyncio.sleep(max(0.0, last + paced(fake.shards.identify_interval) + 0.05 - time.monotonic()))


async def _start_and_answer(fake: BenchFake, d: Driver, db: Path, pack: Path | None, question: str) -> dict[str, Any]:
    """Start a bot process once the identify bucket is free; time process start -> gateway
    ready -> first answer."""
    await _identify_bucket_free(fake)
    bot = BotProcess(fake, db, pack, sync=False)
    bot.start()
    try:
        await bot.connected()
        ready_ns = time.perf_counter_ns()
        await d.character(question)
        answered_ns = time.perf_counter_ns()
        mem = bot.memory()
        return {
            "seconds": (answered_ns - bot.started_ns) / 1e9,
            "connected_seconds": (ready_ns - bot.started_ns) / 1e9,
            **mem,
            "bot": bot,
        }
    except BaseException:
        await bot.stop()
        raise


async def _run(ds: Dataset, work: E2EWork, quick: bool, log) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with BenchFake(timeout=30.0, callback_deadline=None) as fake:
        d = Driver(fake)
        # Register the commands with this fake (the database remembers an earlier sync).
        primer = BotProcess(fake, ds.db, ds.pack_file, sync=True)
        primer.start()
        try:
            await primer.connected()
            await d.ping()
        finally:
            await primer.stop()
        # A large canon keeps a snapshot of its built index next to the database: start once
        # without it (the index is rebuilt, and the snapshot written again), then warm.
        snapshot = Path(f"{ds.db}-canon-index")
        if snapshot.exists():
            snapshot.unlink()
            r = await _start_and_answer(fake, d, ds.db, ds.pack_file, work.first)
            await r.pop("bot").stop()
            out["startup_rebuild"] = {"seconds": r["seconds"], "rss_mb": r["rss_mb"], "peak_mb": r["peak_mb"]}
            log(f"    start-up with the index rebuilt (no snapshot) {r['seconds']:.2f} s, RSS {r['rss_mb']:.0f} MB")
        starts = 2 if quick else 5
        runs = []
        bot = None
        for i in range(starts):
            r = await _start_and_answer(fake, d, ds.db, ds.pack_file, work.first)
            runs.append(r)
            if i < starts - 1:
                await r.pop("bot").stop()
            else:
                bot = r.pop("bot")
        assert bot is not None
        secs = sorted(r["seconds"] for r in runs)
        out["startup"] = {
            **({"rebuild": out.pop("startup_rebuild")} if "startup_rebuild" in out else {}),
            "warm_seconds": percentile(secs, 50),
            "warm_runs": [round(s, 3) for s in secs],
            "connected_seconds": percentile(sorted(r["connected_seconds"] for r in runs), 50),
            "rss_mb": percentile(sorted(r["rss_mb"] for r in runs), 50),
            "peak_mb": percentile(sorted(r["peak_mb"] for r in runs), 50),
        }
        log(
            f"    start-up to first answer {out['startup']['warm_seconds']:.2f} s (warm, median of {starts}), "
            f"RSS {out['startup']['rss_mb']:.0f} MB"
        )
        try:
            seq = await _sequential(d, work, 60 if quick else 300)
            log(
                f"    sequential: /ping {seq['ping']['p50_ms']:.2f} ms, /character {seq['character']['p50_ms']:.2f} ms "
                f"({seq['character_ratio']:.2f}×), autocomplete {seq['autocomplete']['p50_ms']:.2f} ms "
                f"({seq['autocomplete_ratio']:.2f}×)"
            )
            log(
                "    /character answered with: "
                + ", ".join(
                    f"{kind} {f['share']:.0%} (median {f['p50_ms']:.2f} ms)"
                    for kind, f in seq["character_by_answer"].items()
                )
            )
            conc = await _concurrent(d, bot, work, 300 if quick else 1000)
            log(
                f"    {CONCURRENCY} concurrent: /ping {conc['ping']['per_second']:.0f}/s, "
                f"/character {conc['character']['per_second']:.0f}/s ({conc['throughput_ratio']:.0%}); "
                f"median {conc['ping']['p50_ms']:.1f} vs {conc['character']['p50_ms']:.1f} ms; bot CPU per answer "
                f"{conc['ping']['bot_cpu_ms']:.2f} vs {conc['character']['bot_cpu_ms']:.2f} ms "
                f"({conc['capacity_ratio']:.0%}); fake busy {conc['ping']['fake_busy']:.0%}"
            )
            out["e2e"] = {"sequential": seq, "concurrent": conc, "rss_after_load_mb": bot.memory()["rss_mb"]}
        finally:
            await bot.stop()
        # First fill: an empty database and the pack file, timed for packs within the 5 MB an upload
        # may weigh (a larger canon is filled once, at install: minutes it would add to every run).
        if ds.pack_file.stat().st_size <= MAX_PACK_BYTES:
            fills = []
            for _ in range(1 if quick else 3):
                with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
                    r = await _start_and_answer(fake, d, Path(tmp) / "first.sqlite3", ds.pack_file, work.first)
                    await r.pop("bot").stop()
                fills.append(r["seconds"])
            out["startup"]["first_fill_seconds"] = percentile(sorted(fills), 50)
            log(f"    first fill to first answer {out['startup']['first_fill_seconds']:.2f} s")
        violations = fake.take_violations()
        out.setdefault("e2e", {})["violations"] = [str(v) for v in violations[:5]]
        out["e2e"]["violation_count"] = len(violations)
        out["e2e"]["problems"] = d.bad[:5]
    return out


def run(ds: Dataset, work: E2EWork, *, quick: bool, log=print) -> dict[str, Any]:
    return asyncio.run(_run(ds, work, quick, log))
