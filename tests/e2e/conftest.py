"""End-to-end fixtures: the real bot, through the real discord.py client, against a fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import LoreBot, open_lore
from bot.ratelimit import Limits
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


#: The lore of the bots a test made, closed when the test ends (as `lorebot run` closes it after the bot).
_OPENED: list[contextlib.AsyncExitStack] = []


async def make_bot(db: Path, pack: Path = MINI_PACK, **kwargs: object) -> LoreBot:
    """The bot as the e2e tests drive it, serving the lore of ``db`` (opened here, as `lorebot run`
    opens it): limits off unless given (tests fire requests at machine speed)."""
    kwargs.setdefault("limits", Limits.off())
    kwargs.setdefault("auto_sync", True)
    stack = contextlib.AsyncExitStack()
    lore = await stack.enter_async_context(open_lore(db, canon_pack=pack))
    _OPENED.append(stack)
    return LoreBot(lore, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
async def _lore_closed_after_the_test() -> AsyncIterator[None]:
    yield
    while _OPENED:
        await _OPENED.pop().aclose()


class CrowdFake(FakeDiscord):
    """The fake for many interactions in flight at once: an interaction is done when its answer is
    complete (the callback, and the message a deferral promised), without the per-task settling
    that makes fifty concurrent interactions cost the fake itself seconds."""

    async def _settle(self, rec: Any, timeout: float, settle: float, followups: int) -> None:
        deadline = time.monotonic() + timeout
        try:
            await asyncio.wait_for(rec.attempted.wait(), timeout)
        except TimeoutError:
            rec.timed_out = True
            return
        while time.monotonic() < deadline:
            original = self.messages.get(rec.original_id) if rec.original_id is not None else None
            unfilled = rec.callback_type == 5 and (original is None or original.loading)
            unedited = rec.callback_type == 6 and not rec.edits
            if not rec.inflight and not unfilled and not unedited and len(rec.followup_ids) >= followups:
                return
            await asyncio.sleep(0.005)
        rec.timed_out = True


@contextlib.asynccontextmanager
async def open_world(
    tmp_path: Path,
    fake_cls: type[FakeDiscord] = FakeDiscord,
    *,
    channels: tuple[str, ...] = ("general", "finale", "slow"),
    pack: Path = MINI_PACK,
    **bot_options: object,
) -> AsyncIterator[World]:
    """Two servers (an admin, two viewers; an admin elsewhere) and the bot, running: ``pack`` and
    ``bot_options`` go to :func:`make_bot`."""
    db = tmp_path / "e2e.sqlite3"
    async with fake_cls() as fake:
        guild = fake.add_guild("Rouge Fans", channels=list(channels))
        other = fake.add_guild("Other Server", channels=["general"])
        w = World(
            fake=fake,
            bot=await make_bot(db, pack, **bot_options),
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


@pytest.fixture
async def world(tmp_path):
    async with open_world(tmp_path) as w:
        yield w


@pytest.fixture
async def crowd(tmp_path):
    """The same world, for tests with many interactions in flight (see :class:`CrowdFake`)."""
    async with open_world(tmp_path, CrowdFake) as w:
        yield w
