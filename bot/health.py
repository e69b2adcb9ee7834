"""The heartbeat a running bot writes, and the check ``lorebot health`` makes of it.

A running process is not a healthy bot: the check must reflect the gateway connection. While the
bot runs it rewrites a small JSON file every few seconds with the time, the gateway latency and
which shards are connected and ready (a shard goes not-ready the moment its gateway connection
drops, and ready again when it resumes). ``lorebot health`` reads that file: it exits 0 only when
the file is fresh and every shard is ready, else 1 with one line saying why. A hung event loop
stops the rewrites, so the file goes stale. The file is local and readable by the bot's user only
as far as the directory allows; no port is opened for it.

This module's check does not import discord.py: a container health check runs it every 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from discord.ext import commands

log = logging.getLogger("lorebot.health")

FORMAT = 1


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    line: str


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def check(path: Path, max_age: float, now: float | None = None) -> Health:
    """Whether the heartbeat at ``path`` says the bot is connected: fresh, and every shard ready."""
    now = time.time() if now is None else now
    try:
        beat = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Health(False, f"unhealthy: no heartbeat at {path} (the bot is not running, or has not started yet)")
    except (OSError, ValueError) as e:
        return Health(False, f"unhealthy: cannot read the heartbeat at {path}: {e}")
    try:
        written = float(beat["time"])
        shards = {int(k): bool(v) for k, v in beat["shards"].items()}
        count = len(shards)  # the shards this process holds (of ``shard_count`` in all)
        latency = beat.get("latency_ms")
        stopped = bool(beat.get("stopped", False))
    except (KeyError, TypeError, ValueError, AttributeError):
        return Health(False, f"unhealthy: the heartbeat at {path} is not in the expected format")
    age = now - written
    if stopped:
        return Health(False, "unhealthy: the bot has stopped")
    if age > max_age:
        return Health(False, f"unhealthy: the heartbeat is {age:.0f} s old (limit {max_age:.0f} s): the bot is stuck")
    down = [sid for sid, ready in sorted(shards.items()) if not ready]
    if not shards:
        return Health(False, "unhealthy: the heartbeat lists no shards")
    if down:
        if not any(shards.values()):
            since = beat.get("since")
            how_long = f" for {now - float(since):.0f} s" if since else ""
            what = "not connected to Discord yet" if beat.get("never_ready") else "not connected to Discord"
            return Health(False, f"unhealthy: {what}{how_long} (0 of {count} shard(s) ready)")
        names = ", ".join(str(s) for s in down)
        return Health(False, f"unhealthy: shard(s) {names} not connected ({count - len(down)} of {count} ready)")
    lat = f", gateway latency {latency:.0f} ms" if isinstance(latency, int | float) else ""
    return Health(True, f"healthy: {count} of {count} shard(s) ready{lat}, heartbeat {max(age, 0):.0f} s ago")


class Heartbeat:
    """Keeps the heartbeat file of one bot: which shards are ready, rewritten every ``interval``."""

    def __init__(self, bot: commands.Bot | commands.AutoShardedBot, path: Path, interval: float = 10.0):
        self.bot = bot
        self.path = Path(path)
        self.interval = interval
        self.ready: dict[int, bool] = {}
        self.never_ready = True
        self.since = time.time()
        self._task: asyncio.Task[None] | None = None
        for event in ("ready", "resumed", "disconnect", "shard_ready", "shard_resumed", "shard_disconnect"):
            bot.add_listener(getattr(self, f"_on_{event}"), f"on_{event}")

    # -- shard state from gateway events -------------------------------------------------------
    def _shard_ids(self) -> list[int]:
        shards = getattr(self.bot, "shards", None)
        if isinstance(shards, dict) and shards:
            return sorted(shards)
        held = getattr(self.bot, "shard_ids", None)  # a cluster process's own shards, before they launch
        if held:
            return sorted(held)
        return [self.bot.shard_id or 0]

    def _set(self, shard_ids: list[int], ready: bool) -> None:
        changed = any(self.ready.get(s) != ready for s in shard_ids)
        for s in shard_ids:
            self.ready[s] = ready
        if ready:
            self.never_ready = False
        if changed:
            self.since = time.time()
            log.info("gateway %s (shard(s) %s)", "ready" if ready else "disconnected", ", ".join(map(str, shard_ids)))
            self.write()

    async def _on_ready(self) -> None:
        self._set(self._shard_ids(), True)

    async def _on_resumed(self) -> None:
        if not isinstance(getattr(self.bot, "shards", None), dict):
            self._set(self._shard_ids(), True)

    async def _on_disconnect(self) -> None:
        if not isinstance(getattr(self.bot, "shards", None), dict):
            self._set(self._shard_ids(), False)

    async def _on_shard_ready(self, shard_id: int) -> None:
        self._set([shard_id], True)

    async def _on_shard_resumed(self, shard_id: int) -> None:
        self._set([shard_id], True)

    async def _on_shard_disconnect(self, shard_id: int) -> None:
        self._set([shard_id], False)

    # -- the file ------------------------------------------------------------------------------
    def snapshot(self, *, stopped: bool = False) -> dict[str, Any]:
        ids = self._shard_ids()
        latency = self.bot.latency
        return {
            "format": FORMAT,
            "pid": os.getpid(),
            "time": time.time(),
            "shard_count": self.bot.shard_count or len(ids),
            "shards": {str(s): self.ready.get(s, False) for s in ids},
            "latency_ms": None if math.isnan(latency) or math.isinf(latency) else round(latency * 1000, 1),
            "guilds": len(self.bot.guilds),
            "since": self.since,
            "never_ready": self.never_ready,
            "stopped": stopped,
        }

    def write(self, *, stopped: bool = False) -> None:
        try:
            write_atomic(self.path, self.snapshot(stopped=stopped))
        except OSError as e:  # a full or read-only disk: the health check then reports a stale beat
            log.warning("cannot write the heartbeat %s: %s", self.path, e.strerror or e)

    async def _run(self) -> None:
        while True:
            self.write()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._task = asyncio.get_running_loop().create_task(self._run(), name="lorebot-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self.write(stopped=True)
