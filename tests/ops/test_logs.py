"""Logs: discord.py's setup_logging stays, LOREBOT_LOG_FILE adds a rotating file, and the token
never appears in any line, tracebacks included — also while the real bot runs."""

from __future__ import annotations

import logging

import pytest

from bot import logs
from bot.runner import _setup
from bot.settings import load_settings
from fakediscord import FakeDiscord
from tests.e2e.conftest import make_bot

TOKEN = "fake-bot-token.for-tests.this-is-a-secret-value"  # not shaped like a real token


@pytest.fixture
def root_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.setLevel(level)
    for h in root.handlers:
        if h not in handlers:
            h.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def _all_text(folder) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("bot.log*")))


def test_the_file_rotates_and_keeps_the_set_number(tmp_path, capsys, root_logging):
    handler = logs.setup(logging.INFO, log_file=tmp_path / "bot.log", max_bytes=2048, backups=2, secrets=[TOKEN])
    assert handler is not None and handler.maxBytes == 2048 and handler.backupCount == 2
    assert any(type(h) is logging.StreamHandler for h in root_logging.handlers)  # setup_logging's console
    log = logging.getLogger("lorebot.test")
    for i in range(200):
        log.info("line %d with the token %s in its arguments", i, TOKEN)
    names = sorted(p.name for p in tmp_path.glob("bot.log*"))
    assert names == ["bot.log", "bot.log.1", "bot.log.2"]
    assert all(p.stat().st_size <= 2048 for p in tmp_path.glob("bot.log*"))
    assert "line 199 with the token [redacted] in its arguments" in (tmp_path / "bot.log").read_text()


def test_the_token_never_appears_in_a_message_an_argument_or_a_traceback(tmp_path, capsys, root_logging):
    logs.setup(logging.DEBUG, log_file=tmp_path / "bot.log", secrets=[TOKEN])
    log = logging.getLogger("discord.http")
    log.debug("Authorization: Bot " + TOKEN)
    log.warning("headers %r", {"Authorization": f"Bot {TOKEN}"})
    try:
        raise RuntimeError(f"request failed with token={TOKEN}")
    except RuntimeError:
        log.exception("failed")
    text = _all_text(tmp_path)
    assert TOKEN not in text and text.count("[redacted]") == 3
    assert "RuntimeError: request failed with token=[redacted]" in text
    assert TOKEN not in capsys.readouterr().err  # nor on the console


async def test_a_running_bot_never_logs_its_token(tmp_path, capsys, root_logging, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("LOREBOT_LOG_FILE", str(tmp_path / "bot.log"))
    monkeypatch.setenv("LOG_LEVEL", "INFO")  # (at DEBUG, aiosqlite logs from its thread after the test)
    _setup(load_settings())
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Rouge Fans")
        viewer = fake.add_member(guild, "Viewer")
        async with fake.running(await make_bot(tmp_path / "b.sqlite3"), token=TOKEN):
            r = await fake.slash("character", {"name": "rouge"}, user=viewer, channel=guild.channels["general"])
            assert r.embeds
    text = _all_text(tmp_path)
    assert "discord.gateway" in text or "discord.client" in text  # discord.py's own lines are in the file
    assert TOKEN not in text and TOKEN not in capsys.readouterr().err
