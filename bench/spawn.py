"""The bot in a process of its own (``python -m bench.botproc``, the production serving loop) and
a fake Discord in this one: start it, wait until it serves, stop it as a service manager does.
The benchmarks and the end-to-end tests that need real processes start their bots through this."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.stats import rss_mb
from fakediscord import FakeDiscord

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    """One bot process against ``fake``: the database ``db`` (a path or a ``postgresql://`` URL,
    passed on as it is), the canon ``pack``; ``sync`` registers the commands even when the database
    says they are unchanged (a fresh fake knows none)."""

    def __init__(
        self,
        fake: FakeDiscord,
        db: Path | str,
        pack: Path | None,
        *,
        sync: bool,
        identify_interval: float | None = None,
    ):
        self.fake = fake
        self.db = db
        self.pack = pack
        self.sync = sync
        self.identify_interval = identify_interval
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop() or close())
        self.started_ns = 0
        self._identified_before = 0
        self._tail: str | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "bench.botproc", "--db", str(self.db), "--api-base", self.fake.api_base]
        cmd += ["--gateway", self.fake.gateway_url]
        if self.identify_interval is not None:
            cmd += ["--identify-interval", str(self.identify_interval)]
        if self.pack is not None:
            cmd += ["--pack", str(self.pack)]
        if self.sync:
            cmd.append("--sync")
        self._identified_before = self.fake.identify_count
        self.started_ns = time.perf_counter_ns()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)

    async def connected(self, timeout: float = 120.0) -> None:
        """Until the bot has identified since :meth:`start`, been sent READY and its guilds, and
        (with ``sync``) registered its commands."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            s = self.fake.session
            ready = self.fake.identify_count > self._identified_before
            ready = ready and s is not None and s.seq >= 1 + len(self.fake.guilds)
            if ready and (not self.sync or self.fake.commands.get(None)):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not connect within {timeout} s:\n{self.output()}")
            await asyncio.sleep(0.001)

    async def exited(self, timeout: float = 60.0) -> int:
        """The exit status of a bot that stops by itself (e.g. a fault at start-up)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"the bot did not stop within {timeout} s:\n{self.output()}")
            await asyncio.sleep(0.02)
        return self.proc.returncode

    def memory(self) -> dict[str, float]:
        """The bot's resident memory now and at its peak, in MB."""
        assert self.proc is not None
        return rss_mb(self.proc.pid)

    def output(self) -> str:
        """The end of what the bot wrote to stdout and stderr."""
        if self._tail is not None:
            return self._tail
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-6000:]

    async def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; returns the exit status (:meth:`output` still
        gives what it wrote)."""
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
        self.close()
        return self.proc.returncode

    def close(self) -> None:
        """Kill the bot if it still runs, and let its log go (keeping the end of it)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log.closed:
            self._tail = self.output()
            self.log.close()
