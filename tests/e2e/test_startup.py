"""Start-up refuses to sync a command tree with a cog missing (it would unregister its commands)."""

from __future__ import annotations

import pytest

from bot import app as app_module
from bot.errors import StartupError
from bot.runner import _run_reporting
from fakediscord import FakeDiscord
from tests.e2e.conftest import make_bot

BROKEN = (*app_module.EXTENSIONS, "bot.cogs.no_such_cog")


async def test_a_cog_that_fails_to_load_stops_start_up_before_any_sync(tmp_path, monkeypatch):
    monkeypatch.setattr(app_module, "EXTENSIONS", BROKEN)
    async with FakeDiscord() as fake:
        fake.add_guild("Rouge Fans")
        with pytest.raises(StartupError, match=r"bot\.cogs\.no_such_cog"):
            async with fake.running(await make_bot(tmp_path / "broken.sqlite3"), check_violations=False):
                pass  # pragma: no cover - start-up must fail
        assert fake.global_sync_count == 0
        assert fake.registered_commands() == []


async def test_without_auto_sync_the_other_cogs_still_serve(tmp_path, monkeypatch):
    monkeypatch.setattr(app_module, "EXTENSIONS", BROKEN)
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Rouge Fans")
        viewer = fake.add_member(guild, "Viewer")
        bot = await make_bot(tmp_path / "partial.sqlite3")
        bot.auto_sync = False
        async with fake.running(bot, check_violations=False):
            await bot.sync_commands()  # what `lorebot sync` would do once the operator has looked
            r = await fake.slash("character", {"name": "rouge"}, user=viewer, channel=guild.channels["general"])
            assert r.embeds[0]["title"] == "Rouge Redstar"


def test_the_runner_reports_a_start_up_failure_as_a_sentence(capsys):
    def fail() -> None:
        raise StartupError("could not load bot.cogs.x")

    assert _run_reporting(fail) == 1
    assert capsys.readouterr().err == "lorebot: could not load bot.cogs.x\n"
