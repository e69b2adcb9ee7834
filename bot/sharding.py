"""Shards: which ones a process holds, and IDENTIFYs paced the way Discord allows.

Discord splits a bot's guilds over shards (guild ``g`` lives on shard ``(g >> 22) % count``) and
lets a bot start sessions in ``max_concurrency`` buckets: shard ``s`` is in bucket
``s % max_concurrency``, and each bucket may IDENTIFY once every :data:`IDENTIFY_INTERVAL` seconds.
discord.py's own launcher starts shards one after another, 5 s apart whatever the bucket; the
:class:`ShardedLaunch` mixin starts the buckets side by side instead and paces each bucket with an
:class:`IdentifyPacer`. When processes of a cluster share one database, the pacer claims each
bucket's slot there (``claim``), so two processes never IDENTIFY in one bucket too soon.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

log = logging.getLogger("lorebot")

#: Seconds between two IDENTIFYs in one rate-limit bucket (Discord: ``max_concurrency`` per 5 s).
IDENTIFY_INTERVAL = 5.0

#: Added to the interval between two IDENTIFYs of a bucket: processes stamp their claim before they
#: send, so a little slack keeps two senders from landing closer than Discord allows.
PACING_SLACK = 0.02


def paced(interval: float) -> float:
    return interval * (1 + PACING_SLACK) if interval > 0 else 0.0


#: ``claim(key, interval) -> seconds to wait`` (0 once the slot is taken): a slot shared by processes.
Claim = Callable[[str, float], Awaitable[float]]


class ShardSpecError(ValueError):
    pass


def parse_shard_ids(text: str) -> list[int]:
    """``"0-3"``, ``"4,5"`` or ``"0-1,6"`` -> sorted distinct shard ids."""
    ids: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ShardSpecError(f"{text!r} is not a list of shard ids (for example 0-3 or 0,2,5-7)")
        first, last = int(lo), int(hi) if sep else int(lo)
        if last < first:
            raise ShardSpecError(f"{part!r}: a range goes from the lower id to the higher one")
        if last - first > 100_000:
            raise ShardSpecError(f"{part!r}: too many shards")
        ids.update(range(first, last + 1))
    if not ids:
        raise ShardSpecError("no shard ids given")
    return sorted(ids)


def check_plan(shard_count: int | None, shard_ids: Sequence[int] | None) -> None:
    """Refuse a shard plan Discord would refuse, with a sentence."""
    if shard_count is not None and shard_count < 1:
        raise ShardSpecError("the shard count must be at least 1")
    if shard_ids is not None:
        if shard_count is None:
            raise ShardSpecError("shard ids need a shard count (--shard-count or LOREBOT_SHARD_COUNT)")
        bad = [s for s in shard_ids if not 0 <= s < shard_count]
        if bad:
            raise ShardSpecError(f"shard id {bad[0]} is out of range for {shard_count} shard(s) (0-{shard_count - 1})")


def format_ids(ids: Iterable[int]) -> str:
    """``[0, 1, 2, 3, 6]`` -> ``"0-3,6"``."""
    out: list[str] = []
    run: list[int] = []
    for i in sorted(ids):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [i]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


def buckets(shard_ids: Iterable[int], max_concurrency: int) -> dict[int, list[int]]:
    """Rate-limit bucket -> its shards, in launch order."""
    out: dict[int, list[int]] = {}
    for s in sorted(shard_ids):
        out.setdefault(s % max_concurrency, []).append(s)
    return out


class IdentifyPacer:
    """At most one IDENTIFY per bucket per ``interval``; optionally claimed in a shared database."""

    def __init__(self, max_concurrency: int = 1, *, interval: float = IDENTIFY_INTERVAL, claim: Claim | None = None):
        self.max_concurrency = max(1, int(max_concurrency))
        self.interval = paced(interval)
        self.claim = claim
        self._last: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._claiming = asyncio.Lock()  # one claim at a time from this process (one database connection)

    def bucket(self, shard_id: int | None) -> int:
        return (shard_id or 0) % self.max_concurrency

    async def wait(self, shard_id: int | None) -> None:
        bucket = self.bucket(shard_id)
        lock = self._locks.setdefault(bucket, asyncio.Lock())
        async with lock:
            last = self._last.get(bucket)
            if last is not None:
                delay = last + self.interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            if self.claim is not None:
                key = f"identify:{self.max_concurrency}:{bucket}"
                while (delay := await self._claim(key)) > 0:
                    log.debug("shard %s waits %.2f s for identify bucket %d", shard_id, delay, bucket)
                    await asyncio.sleep(min(delay, self.interval))
            self._last[bucket] = time.monotonic()

    async def _claim(self, key: str) -> float:
        assert self.claim is not None
        async with self._claiming:
            return await self.claim(key, self.interval)


class ShardedLaunch:
    """Mixin for ``commands.AutoShardedBot``: start shard buckets in parallel, paced per bucket.

    Subclasses may set ``identify_claim`` (see :data:`Claim`) before the shards launch, and
    ``identify_interval`` (tests shorten it together with the fake's).
    """

    identify_interval: float = IDENTIFY_INTERVAL
    identify_claim: Claim | None = None
    pacer: IdentifyPacer | None = None
    max_concurrency: int = 1

    async def launch_shards(self) -> None:
        bot: Any = self
        if bot.is_closed():
            return
        import yarl

        recommended, url, limits = await bot.http.get_bot_gateway()
        if bot.shard_count is None:
            bot.shard_count = recommended
        self.max_concurrency = int(limits.get("max_concurrency") or 1)
        self.pacer = IdentifyPacer(self.max_concurrency, interval=self.identify_interval, claim=self.identify_claim)
        gateway = yarl.URL(url)
        bot._connection.shard_count = bot.shard_count
        shard_ids = list(bot.shard_ids or range(bot.shard_count))
        bot._connection.shard_ids = shard_ids
        log.info(
            "this process holds shard(s) %s of %d (Discord recommends %d; %d identify bucket(s))",
            format_ids(shard_ids),
            bot.shard_count,
            recommended,
            self.max_concurrency,
        )
        first = shard_ids[0] if shard_ids else None

        async def launch_bucket(ids: list[int]) -> None:
            for sid in ids:
                await bot.launch_shard(gateway, sid, initial=sid == first)

        await asyncio.gather(*(launch_bucket(ids) for ids in buckets(shard_ids, self.max_concurrency).values()))

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if self.pacer is None:  # not launched through launch_shards: Discord's plain 5 s rule
            self.pacer = IdentifyPacer(1, interval=self.identify_interval, claim=self.identify_claim)
        await self.pacer.wait(shard_id)
