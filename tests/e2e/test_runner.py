"""`lorebot run`'s serving loop: connects, answers, and shuts down cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal

from bot.runner import _serve
from fakediscord import FakeDiscord
from tests.e2e.conftest import make_bot


async def test_sigterm_closes_the_bot_and_the_database(tmp_path):
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Rouge Fans")
        viewer = fake.add_member(guild, "Viewer")
        bot = await make_bot(tmp_path / "run.sqlite3")
        with fake.patch():
            fake.bot = bot
            task = asyncio.create_task(_serve(bot, "fake-token"))
            for _ in range(500):
                if bot.get_guild(guild.id) is not None:
                    break
                await asyncio.sleep(0.01)
            r = await fake.slash("character", {"name": "rouge"}, user=viewer, channel=guild.channels["general"])
            assert r.embeds[0]["title"] == "Rouge Redstar"
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(task, 10)
        assert bot.is_closed()
        loop = asyncio.get_running_loop()
        loop.remove_signal_handler(signal.SIGTERM)
        loop.remove_signal_handler(signal.SIGINT)
