"""Bots in processes of their own (``bench.botproc``: the production serving loop, pointed at a
fake Discord), for tests that need real processes: two bots on one database, faults at start-up."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fakediscord import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    def __init__(self, fake: FakeDiscord, db: Path, pack: Path | None, *, sync: bool = True):
        self.fake = fake
        self.db = db
        self.pack = pack
        self.sync = sync
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())

    def start(self) -> None:
        cmd = [sys.executable, "-m", "bench.botproc", "--db", str(self.db), "--api-base", self.fake.api_base]
        cmd += ["--gateway", self.fake.gateway_url, "--identify-interval", "0.05"]
        if self.pack is not None:
            cmd += ["--pack", str(self.pack)]
        if self.sync:
            cmd.append("--sync")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)

    async def connected(self, timeout: float = 60.0) -> None:
        """Until the bot has identified, been sent its guilds and registered its commands."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.fake.session
            ready = s is not None and s.seq >= 1 + len(self.fake.guilds)
            if ready and (not self.sync or self.fake.commands.get(None)):
                return
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"the bot exited with {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not connect within {timeout} s:\n{self.output()}")
            await asyncio.sleep(0.01)

    async def exited(self, timeout: float = 60.0) -> int:
        """The exit status of a bot that stops by itself (e.g. a fault at start-up)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"the bot did not stop within {timeout} s:\n{self.output()}")
            await asyncio.sleep(0.02)
        return self.proc.returncode

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-6000:]

    async def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            for _ in range(1000):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.01)
            else:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


async def lorebot(*args: str, timeout: float = 120.0) -> tuple[int, str, str]:
    """Run the ``lorebot`` CLI in a process of its own: (status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
