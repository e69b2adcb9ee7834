"""`python -m bot` is `lorebot run`; exit statuses; SIGHUP asks the supervisor for a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from bot.runner import EXIT_RESTART, RestartRequested, _run_reporting, _serve
from fakediscord import FakeDiscord
from tests.e2e.conftest import make_bot


def _env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN" and not k.startswith("LOREBOT_")}
    env["LOREBOT_DB"] = str(tmp_path / "x.sqlite3")
    return env


def test_python_m_bot_without_a_token_is_lorebot_run_without_a_token(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=60
        )

    module, cli = run("-m", "bot"), run("-m", "bot.cli", "run")
    assert module.returncode == cli.returncode == 2
    assert module.stderr == cli.stderr
    assert "DISCORD_TOKEN" in module.stderr and "lorebot console" in module.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # nothing was created on the way out


def test_python_m_bot_help_lists_the_exit_statuses(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert "lorebot run" in proc.stdout
    for status in ("0 ", "1 ", "2 ", "26 "):
        assert f"  {status}" in proc.stdout


def test_an_invalid_setting_is_a_configuration_error(tmp_path):
    env = _env(tmp_path) | {"DISCORD_TOKEN": "x" * 30, "LOREBOT_COOLDOWN_SEARCH": "often"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "invalid settings" in proc.stderr and "USES/SECONDS" in proc.stderr and "Traceback" not in proc.stderr


def test_statuses_of_the_runner():
    def raises(exc: BaseException):
        def go() -> None:
            raise exc

        return go

    assert _run_reporting(lambda: None) == 0
    assert _run_reporting(raises(RestartRequested())) == EXIT_RESTART == 26
    assert _run_reporting(raises(ConnectionRefusedError("refused")), transient=EXIT_RESTART) == 26
    assert _run_reporting(raises(ConnectionRefusedError("refused"))) == 1  # `lorebot sync` keeps 1


async def test_sighup_closes_cleanly_and_asks_for_a_restart(tmp_path):
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Rouge Fans")
        bot = await make_bot(tmp_path / "run.sqlite3")
        with fake.patch():
            fake.bot = bot
            task = asyncio.create_task(_serve(bot, "fake-token"))
            for _ in range(500):
                if bot.get_guild(guild.id) is not None:
                    break
                await asyncio.sleep(0.01)
            os.kill(os.getpid(), signal.SIGHUP)
            with pytest.raises(RestartRequested):
                await asyncio.wait_for(task, 10)
        assert bot.is_closed()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
