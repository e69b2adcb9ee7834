"""A cluster of real ``lorebot run`` processes against one fake Discord (in the test process)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from fakediscord import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class BotProcess:
    name: str
    shard_ids: list[int]
    proc: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Cluster:
    """Start, kill and restart ``lorebot run`` processes holding some shards of ``shard_count``."""

    def __init__(self, fake: FakeDiscord, db: str, workdir: Path, shard_count: int):
        self.fake = fake
        self.db = db
        self.workdir = workdir
        self.shard_count = shard_count
        self.procs: dict[str, BotProcess] = {}

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOREBOT_")}
        env.update(
            DISCORD_TOKEN="fake-token",
            LOREBOT_DB=self.db,
            LOG_LEVEL="INFO",
            FAKE_DISCORD_API=self.fake.api_base,
            FAKE_DISCORD_GATEWAY=self.fake.gateway_url,
            PYTHONPATH=str(ROOT),
            LOREBOT_SCHEDULE_INTERVAL="0.2",  # spoiler schedules tick within a fifth of a second
        )
        return env

    def start(self, name: str, shard_ids: list[int]) -> BotProcess:
        ids = ",".join(map(str, shard_ids))
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.cluster.botproc",
                    "run",
                    "--shard-count",
                    str(self.shard_count),
                    "--shard-ids",
                    ids,
                ],
                cwd=self.workdir,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        bp = BotProcess(name, shard_ids, proc, log)
        self.procs[name] = bp
        return bp

    async def wait_shards(self, bp: BotProcess, timeout: float = 30.0) -> None:
        """Until every shard of ``bp`` has a session identified after ``bp`` started, connected."""
        deadline = time.monotonic() + timeout
        since = bp.started
        while True:
            sessions = [self.fake.shards.by_shard.get(s) for s in bp.shard_ids]
            times = {sid: t for t, sid, _ in self.fake.shards.identifies if t >= since}
            if all(
                s is not None and s.connection is not None and not s.connection.closed and sid in times
                for sid, s in zip(bp.shard_ids, sessions, strict=True)
            ):
                await asyncio.sleep(0.3)  # the GUILD_CREATEs that follow READY are being applied
                return
            if not bp.alive():
                raise AssertionError(f"{bp.name} exited ({bp.proc.returncode}):\n{bp.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{bp.name}'s shards did not connect within {timeout}s:\n{bp.output()[-3000:]}")
            await asyncio.sleep(0.05)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        bp = self.procs[name]
        if bp.alive():
            bp.proc.send_signal(sig)
            bp.proc.wait(10)

    def stop_all(self) -> None:
        for bp in self.procs.values():
            if bp.alive():
                bp.proc.send_signal(signal.SIGTERM)
        for bp in self.procs.values():
            try:
                bp.proc.wait(10)
            except subprocess.TimeoutExpired:
                bp.proc.kill()
                bp.proc.wait(5)

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``lorebot ARGS`` against the cluster's database (an operator beside the bots)."""
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
