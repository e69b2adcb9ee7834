"""End-to-end fixtures: the real bot, through the real discord.py client, against a fake Discord."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import LoreBot
from fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.conftest import MINI_PACK


@dataclass
class World:
    fake: FakeDiscord
    bot: LoreBot
    guild: FakeGuild
    other: FakeGuild
    admin: FakeMember
    viewer: FakeMember
    viewer2: FakeMember
    other_admin: FakeMember
    db: Path

    def ch(self, name: str = "general", guild: FakeGuild | None = None):
        return (guild or self.guild).channels[name]


#: Tests that start several bots on one fake pace their IDENTIFYs by this (Discord: 5 s).
FAST_IDENTIFY = 0.2


def make_bot(db: Path, pack: Path = MINI_PACK, **kwargs: object) -> LoreBot:
    return LoreBot(db_path=db, canon_pack=pack, auto_sync=True, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def world(tmp_path):
    db = tmp_path / "e2e.sqlite3"
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Rouge Fans", channels=["general", "finale", "slow"])
        other = fake.add_guild("Other Server", channels=["general"])
        w = World(
            fake=fake,
            bot=make_bot(db),
            guild=guild,
            other=other,
            admin=fake.add_member(guild, "Admin", manage_guild=True),
            viewer=fake.add_member(guild, "Viewer"),
            viewer2=fake.add_member(guild, "Second Viewer"),
            other_admin=fake.add_member(other, "Other Admin", manage_guild=True),
            db=db,
        )
        async with fake.running(w.bot):
            yield w
