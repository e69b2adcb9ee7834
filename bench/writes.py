"""``python -m bench.writes [--quick]``: the write path as users meet it.

Two bot processes (``bench.botproc``: the production serving loop) share one database, each behind
a fake Discord of its own (one application, the same server and users on both, as Discord would
route them to two shards or to an old and a new process during a restart). The users are played
here; every write goes through the real discord.py client, is deferred by the bot and is done when
its answer fills the deferred message: a write's time runs from just before the interaction is sent
over the gateway to the moment that answer reaches the fake (before the fake reads it).

1. **Throughput and latency** of ``/lore-admin fact`` (admins adding facts, spread over the canon's
   entries) and ``/progress set`` (members), with 1, 10 and 50 users writing at once, each sending
   their next write as soon as the last is answered (closed loop): writes per second and p50/p99.
2. **Propagation**: from the start of ``/progress set`` in process A until process B answers
   ``/progress show`` with the new episode (B is asked continuously; the writes start at random
   phases of its polling), and the same from A's acknowledgement.
3. **A 1 MB import beside small writes**: one server imports a 1 MB pack (some 4,900 entries) while
   another server's admin and member keep running ``/spoilers episode`` and ``/progress set``;
   each of those writes' latency during the import, and how long the import took to answer.

On SQLite, and on PostgreSQL when a server can be started (``tests/postgres.py``) or ``--pg`` gives
one. Results go to ``bench/results.json`` under ``"writes"``; ``python -m bench`` keeps them. The
machine is shared and noisy: compare medians and ratios of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.data import ROOT
from bench.e2e import BenchFake
from bench.generate import megabyte_pack
from bench.spawn import BotProcess
from bench.stats import summary_ms

LEVELS = (1, 10, 50)
#: The canon's last episode (the progress and spoiler values below cycle through 0..13).
LAST_EPISODE = 13
WRITERS = max(LEVELS)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class WriteFake(BenchFake):
    """A fake for deferred answers: an interaction is done when the answer that fills its deferred
    message reaches the fake (or, for an immediate answer, when its callback does)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._filled_at: dict[str, int] = {}
        self._filled: dict[str, asyncio.Event] = {}

    def _event(self, token: str) -> asyncio.Event:
        return self._filled.setdefault(token, asyncio.Event())

    async def _api_handler(self, request: Any) -> Any:
        _, hook, rest = request.path.partition("/webhooks/")
        token = rest.split("/")[1] if hook and rest.count("/") >= 1 else None
        if token is not None:
            self._filled_at.setdefault(token, time.perf_counter_ns())
        try:
            return await super()._api_handler(request)
        finally:
            if token is not None:
                self._event(token).set()

    async def _settle(self, rec: Any, timeout: float, settle: float, followups: int) -> None:
        await super()._settle(rec, timeout, settle, followups)
        task = asyncio.current_task()
        if rec.callback_type == 5 and not rec.timed_out:  # deferred: wait for the answer itself
            try:
                await asyncio.wait_for(self._event(rec.token).wait(), timeout)
            except TimeoutError:
                rec.timed_out = True
            if task is not None and rec.token in self._filled_at:
                self.done_at[task] = self._filled_at[rec.token]
        self._filled.pop(rec.token, None)
        self._filled_at.pop(rec.token, None)


class Side:
    """One process's view: its fake, the shared servers and users as that fake knows them.

    Each concurrency level writes its facts into a server of its own, so that every level starts
    from the same state (a server's own lore grows with every fact, and each write rebuilds it)."""

    def __init__(self, fake: WriteFake, ids: dict[str, Any]):
        self.fake = fake
        self.guild = fake.add_guild("Benchmark Server", channels=["general"], id=ids["guild"])
        self.other = fake.add_guild("Other Server", channels=["general"], id=ids["other"])
        self.level_guilds = {
            n: fake.add_guild(f"Level {n}", channels=["general"], id=gid) for n, gid in ids["levels"].items()
        }
        self.channel = self.guild.channels["general"]
        users = [fake.add_user(f"Admin {i}", id=uid) for i, uid in enumerate(ids["admins"])]
        self.admins = [fake.add_member(self.guild, user=u, manage_guild=True) for u in users]
        for g in self.level_guilds.values():
            for u in users:
                fake.add_member(g, user=u, manage_guild=True)
        self.members = [self._member(self.guild, f"Member {i}", uid, False) for i, uid in enumerate(ids["members"])]
        self.other_admin = self._member(self.other, "Other Admin", ids["other_admin"], True)
        self.other_member = self._member(self.other, "Other Member", ids["other_member"], False)
        self.problems: list[str] = []

    def _member(self, guild: Any, name: str, uid: int, admin: bool) -> Any:
        user = self.fake.add_user(name, id=uid)
        return self.fake.add_member(guild, user=user, manage_guild=admin)

    async def timed(self, command: str, options: dict[str, Any], user: Any, expect: str, **kw: Any) -> tuple[int, Any]:
        """(nanoseconds until the answer, the result) of one command; a wrong answer is noted."""
        t0 = time.perf_counter_ns()
        r = await self.fake.slash(command, options, user=user, channel=kw.pop("channel", self.channel), **kw)
        done = self.fake.done_at.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
        if r.timed_out or expect not in r.content:
            self.problems.append(f"/{command}: {r.content[:120]!r}" + (" (timed out)" if r.timed_out else ""))
        return (done or time.perf_counter_ns()) - t0, r


def _ids() -> dict[str, Any]:
    from fakediscord.models import snowflake

    return {
        "app": snowflake(),
        "guild": snowflake(),
        "other": snowflake(),
        "levels": {n: snowflake() for n in LEVELS},
        "admins": [snowflake() for _ in range(WRITERS)],
        "members": [snowflake() for _ in range(WRITERS)],
        "other_admin": snowflake(),
        "other_member": snowflake(),
        "watcher": snowflake(),
    }


def _canon_slugs() -> list[str]:
    from lore.model import Kind
    from lore.packs import CANON_PACK_PATH, parse_text, read_pack_bytes, validate

    pack = validate(parse_text(read_pack_bytes(CANON_PACK_PATH), name=CANON_PACK_PATH.name))
    return [e.slug for e in pack.entries if e.kind is not Kind.EPISODE]


async def _closed_loop(n_users: int, total: int, write: Callable[[int, int], Awaitable[int]]) -> dict[str, Any]:
    """``total`` writes by ``n_users`` users, each sending the next as soon as one is answered."""
    todo = iter(range(total))
    lat: list[int] = []

    async def user(u: int) -> None:
        for i in todo:  # shared: each write is taken by one user
            lat.append(await write(i, u))

    t0 = time.perf_counter()
    await asyncio.gather(*(user(u) for u in range(n_users)))
    seconds = time.perf_counter() - t0
    out = summary_ms(lat)
    out["per_second"] = len(lat) / seconds
    out["writers"] = n_users
    return out


async def _throughput(a: Side, slugs: list[str], quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    counter = iter(range(10**9))

    def fact_in(guild: Any) -> Callable[[int, int], Awaitable[int]]:
        channel = guild.channels["general"]

        async def fact(i: int, u: int) -> int:
            slug = slugs[(u + i * 7) % len(slugs)]
            text = f"Benchmark note {next(counter)} from a busy evening."
            ns, _ = await a.timed(
                "lore-admin fact",
                {"name": slug, "text": text, "episode": 0},
                a.admins[u],
                "Added a fact to",
                channel=channel,
            )
            return ns

        return fact

    async def progress(i: int, u: int) -> int:
        ep = (i + u) % 14
        ns, _ = await a.timed("progress set", {"episode": ep}, a.members[u], f"up to episode **{ep}**")
        return ns

    await _closed_loop(10, 20, fact_in(a.guild))  # warm-up
    await _closed_loop(10, 20, progress)
    total = 100 if quick else 400  # the same at every level: facts in a server of their own (see Side)
    out: dict[str, Any] = {"fact": {}, "progress": {}, "writes_per_level": total}
    for n in LEVELS:
        for key, fn in (("fact", fact_in(a.level_guilds[n])), ("progress", progress)):
            fig = await _closed_loop(n, total, fn)
            out[key][str(n)] = fig
            log(
                f"    {key:8} {n:2} writer(s): {fig['per_second']:6.0f}/s, "
                f"p50 {fig['p50_ms']:.1f} ms, p99 {fig['p99_ms']:.1f} ms"
            )
    for key in ("fact", "progress"):
        one = out[key]["1"]
        out[key]["throughput_50_vs_1"] = out[key]["50"]["per_second"] / one["per_second"]
        out[key]["p50_50_vs_1"] = out[key]["50"]["p50_ms"] / one["p50_ms"]
    return out


async def _propagation(a: Side, b: Side, samples: int, watcher_a: Any, watcher_b: Any) -> dict[str, Any]:
    rng = random.Random(7)
    from_start: list[int] = []
    from_ack: list[int] = []
    for i in range(samples):
        ep = 1 + i % 13
        await asyncio.sleep(rng.uniform(0, 0.25))  # no fixed phase of the other process's polling
        t0 = time.perf_counter_ns()
        ack, _ = await a.timed("progress set", {"episode": ep}, watcher_a, f"up to episode **{ep}**")
        while True:
            t = time.perf_counter_ns()
            r = await b.fake.slash("progress show", user=watcher_b, channel=b.channel)
            seen = b.fake.done_at.pop(asyncio.current_task(), None) or time.perf_counter_ns()  # type: ignore[arg-type]
            if f"episode **{ep}**" in r.content:
                break
            if t - t0 > 10e9:
                b.problems.append(f"progress {ep} not seen by the other process within 10 s")
                break
        from_start.append(seen - t0)
        from_ack.append(max(0, seen - (t0 + ack)))
    return {"from_write_start": summary_ms(from_start), "from_acknowledgement": summary_ms(from_ack)}


async def _import_beside_writes(a: Side) -> dict[str, Any]:
    data, entries = megabyte_pack()
    att = a.fake.attachment("big.yaml", data)
    importing = asyncio.create_task(
        a.timed("lore-admin import", {"file": att}, a.admins[0], f"{entries} created", timeout=120)
    )
    await asyncio.sleep(0.05)  # the import is under way
    lat: list[int] = []
    ep = 0
    other = a.other.channels["general"]
    while not importing.done():
        ep = (ep + 1) % 14
        ns, _ = await a.timed(
            "spoilers episode", {"number": ep}, a.other_admin, f"up to episode **{ep}**", channel=other
        )
        lat.append(ns)
        ns, _ = await a.timed("progress set", {"episode": ep}, a.other_member, f"up to episode **{ep}**", channel=other)
        lat.append(ns)
    took, _ = await importing
    out = summary_ms(lat)
    out["import_seconds"] = took / 1e9
    out["import_bytes"] = len(data)
    out["import_entries"] = entries
    return out


async def _backend(name: str, db: str, quick: bool, parts: list[str], log: Callable[[str], None]) -> dict[str, Any]:
    from lore.packs import CANON_PACK_PATH

    ids = _ids()
    slugs = _canon_slugs()
    async with WriteFake(application_id=ids["app"], timeout=60.0) as fa, WriteFake(application_id=ids["app"]) as fb:
        a, b = Side(fa, ids), Side(fb, ids)
        watcher_a = fa.add_member(a.guild, user=fa.add_user("Watcher", id=ids["watcher"]))
        watcher_b = fb.add_member(b.guild, user=fb.add_user("Watcher", id=ids["watcher"]))
        # a path or a postgresql:// URL, passed on as it is (a Path would fold the URL's "//")
        one = BotProcess(fa, db, CANON_PACK_PATH, sync=True)
        two = BotProcess(fb, db, CANON_PACK_PATH, sync=True)
        try:
            one.start()
            await one.connected()
            two.start()  # after the first has created the schema and filled the canon
            await two.connected()
            # admins see every entry: the server's spoiler setting at the last episode
            for g in (a.guild, *a.level_guilds.values()):
                last = {"number": LAST_EPISODE}
                await a.timed("spoilers episode", last, a.admins[0], "up to episode", channel=g.channels["general"])
            out: dict[str, Any] = {"backend": name}
            if "throughput" in parts:
                log(f"  [{name}] throughput and latency, {LEVELS} writers")
                out.update(await _throughput(a, slugs, quick, log))
            if "propagation" in parts:
                log(f"  [{name}] propagation to the second process")
                out["propagation"] = p = await _propagation(a, b, 30 if quick else 100, watcher_a, watcher_b)
                log(
                    f"    from the write's start p50 {p['from_write_start']['p50_ms']:.0f} ms, "
                    f"p99 {p['from_write_start']['p99_ms']:.0f} ms"
                )
            if "import" in parts:
                log(f"  [{name}] a 1 MB import beside another server's writes")
                out["import"] = imp = await _import_beside_writes(a)
                log(
                    f"    import answered in {imp['import_seconds']:.2f} s; {imp['n']} writes meanwhile, "
                    f"p50 {imp['p50_ms']:.0f} ms, max {imp['max_ms']:.0f} ms"
                )
            out["problems"] = (a.problems + b.problems)[:5]
            out["problem_count"] = len(a.problems) + len(b.problems)
            violations = fa.take_violations() + fb.take_violations()
            out["violations"] = [str(v) for v in violations[:5]]
            return out
        finally:
            await one.stop()
            await two.stop()


async def _run(args: argparse.Namespace, log: Callable[[str], None]) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory(prefix="lorebot-bench-writes-") as tmp:
        if "sqlite" in args.backends:
            out.append(await _backend("sqlite", str(Path(tmp) / "writes.sqlite3"), args.quick, args.parts, log))
        if "postgresql" in args.backends:
            if args.pg:
                out.append(await _backend("postgresql", args.pg, args.quick, args.parts, log))
            else:
                sys.path.insert(0, str(ROOT.parent))
                from tests.postgres import PostgresUnavailable, postgres_server

                try:
                    with postgres_server() as server:
                        url = server.new_database("lorebot_bench_writes")
                        out.append(await _backend("postgresql", url, args.quick, args.parts, log))
                except PostgresUnavailable as e:
                    log(f"PostgreSQL figures skipped: {e}")
    return out


def _cell(fig: dict[str, Any]) -> str:
    return f"{fig['per_second']:.0f}/s · {fig['p50_ms']:.0f} / {fig['p99_ms']:.0f}"


def _row(backends: list[dict[str, Any]], label: str, cell: Callable[[dict[str, Any]], str]) -> str:
    cells = []
    for b in backends:
        try:
            cells.append(cell(b))
        except KeyError:  # that part was not run (--parts)
            cells.append("—")
    return f"| {label} | " + " | ".join(cells) + " |"


Cell = Callable[[dict[str, Any]], str]


def _level_cell(key: str, n: int) -> Cell:
    return lambda b: _cell(b[key][str(n)])


def _ratio_cell(key: str) -> Cell:
    return lambda b: f"{b[key]['throughput_50_vs_1']:.2f}× · {b[key]['p50_50_vs_1']:.1f}×"


def _propagation_cell(key: str) -> Cell:
    return lambda b: f"{b['propagation'][key]['p50_ms']:.0f} / {b['propagation'][key]['p99_ms']:.0f}"


def table(res: dict[str, Any]) -> str:
    backends = res["backends"]
    lines = ["| figure | " + " | ".join(b["backend"] for b in backends) + " |"]
    lines.append("|---|" + "---|" * len(backends))
    for key, label in (("fact", "`/lore-admin fact`"), ("progress", "`/progress set`")):
        for n in LEVELS:
            who = f"{n} writer{'s' if n > 1 else ''}"
            lines.append(_row(backends, f"{label}, {who} (writes/s · ms p50 / p99)", _level_cell(key, n)))
        lines.append(
            _row(
                backends,
                "  50 ÷ 1 writer (throughput · median latency)",
                _ratio_cell(key),
            )
        )
    for key, label in (
        ("from_write_start", "a second process shows a write, from its start (ms p50 / p99)"),
        ("from_acknowledgement", "  … from the write's acknowledgement (ms p50 / p99)"),
    ):
        lines.append(
            _row(
                backends,
                label,
                _propagation_cell(key),
            )
        )
    lines.append(
        _row(backends, "1 MB import (4,900 entries), answered in (s)", lambda b: f"{b['import']['import_seconds']:.2f}")
    )
    lines.append(
        _row(
            backends,
            "  another server's writes meanwhile (ms p50 / max)",
            lambda b: f"{b['import']['p50_ms']:.0f} / {b['import']['max_ms']:.0f} (n={b['import']['n']})",
        )
    )
    lines.append(
        _row(
            backends,
            "  … their median ÷ `/progress set` alone",
            lambda b: f"{b['import']['p50_ms'] / b['progress']['1']['p50_ms']:.1f}×",
        )
    )
    out = "\n".join(lines)
    bad = [
        f"{b['backend']}: {b['problem_count']} wrong or missing answers, e.g. {b['problems'][:2]}"
        for b in backends
        if b["problem_count"]
    ]
    bad += [f"{b['backend']}: fake Discord saw {b['violations']}" for b in backends if b["violations"]]
    if bad:
        out += "\n" + "\n".join(f"PROBLEM {line}" for line in bad)
    return out


def main(argv: list[str] | None = None) -> int:
    from bench.stats import machine

    ap = argparse.ArgumentParser(prog="python -m bench.writes", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer writes per level (about a minute per backend)")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--parts", default="throughput,propagation,import", help="comma-separated subset")
    ap.add_argument("--pg", help="a postgresql:// URL to use instead of starting a server")
    ap.add_argument("--out", type=Path, default=ROOT / "results.json")
    args = ap.parse_args(argv)
    args.backends = args.backends.split(",")
    args.parts = args.parts.split(",")
    started = time.perf_counter()
    res: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
    }
    res["backends"] = asyncio.run(_run(args, _log))
    res["seconds"] = round(time.perf_counter() - started, 1)
    res["table"] = table(res)
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    results["writes"] = res
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(res["table"])
    _log(f"wrote {args.out} in {res['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
