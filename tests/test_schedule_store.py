"""Spoiler schedules in the database, on each backend: every change one transaction, the tick's
new episode seen by a second process, a tick applied once however many processes try."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from lore.schedule import Schedule, ScheduleError
from lore.schedule_store import Schedules
from lore.service import LoreService
from lore.spoilers import Mode
from tests.conftest import MINI_PACK

DAY = 86400.0
FIRST = datetime(2027, 1, 7, 19, 0, tzinfo=UTC).timestamp()


def weekly(guild: int = 5, channel: int = 0, **kw) -> Schedule:
    return Schedule(guild, channel, FIRST, 7, "Europe/Paris", **kw)


async def test_a_tick_moves_the_episode_once_and_every_process_sees_it(db_target):
    one = await LoreService.open(db_target, canon_pack=MINI_PACK)
    two = await LoreService.open(db_target, canon_pack=MINI_PACK)
    try:
        await one.set_policy(5, episode=3, mode=Mode.HIDE)
        started = await Schedules(one.store, one.franchise.last).start(weekly(announce_channel_id=77))
        assert started.episode == 3 and not started.replaced
        assert await Schedules(two.store, two.franchise.last).due(FIRST - 1) == []
        assert await Schedules(two.store, two.franchise.last).due(FIRST) == [(5, 0)]
        # both processes tick for the same instant, at once: the episode moves on once
        results = await asyncio.gather(
            Schedules(one.store, one.franchise.last).advance(5, 0, FIRST + 5),
            Schedules(two.store, two.franchise.last).advance(5, 0, FIRST + 5),
        )
        opened = [r for r in results if r is not None]
        assert len(opened) == 1 and opened[0].episode == 4 and opened[0].ticks == 1
        await one.refresh(0)
        await two.refresh(0)
        for svc in (one, two):
            assert svc.server_setting(5).episode == 4 and svc.server_setting(5).mode is Mode.HIDE  # mode kept
        stored = await Schedules(two.store, two.franchise.last).get(5)
        assert stored is not None and stored.ticks == 1 and stored.next_at == FIRST + 7 * DAY
        # three weeks later at once: caught up to episode 7, one result
        caught = await Schedules(two.store, two.franchise.last).advance(5, 0, FIRST + 22 * DAY)
        assert caught is not None and (caught.episode, caught.ticks) == (7, 3)
    finally:
        await one.close()
        await two.close()


async def test_pause_resume_clear_and_refusals(mini):
    schedules = Schedules(mini.store, mini.franchise.last)
    await mini.set_policy(5, channel_id=9, episode=12)
    await schedules.start(weekly(channel=9))
    assert (await schedules.pause(5, 9)).after is not None
    assert (await schedules.pause(5, 9)).after is None  # already paused: nothing changed
    assert await schedules.due(FIRST + 30 * DAY) == []
    assert await schedules.advance(5, 9, FIRST + 30 * DAY) is None
    resumed = (await schedules.resume(5, 9, now=FIRST + 30 * DAY)).after
    assert resumed is not None and not resumed.paused and resumed.next_at == FIRST + 35 * DAY
    last = await schedules.advance(5, 9, FIRST + 400 * DAY)
    assert last is not None and last.finished and last.episode == 13
    assert await schedules.get(5, 9) is None  # a finished schedule is gone
    await mini.refresh(0)
    assert mini.policy(5, 9).episode == 13 and mini.server_setting(5).episode is None
    with pytest.raises(ScheduleError, match="already at episode 13, the last one"):
        await schedules.start(weekly(channel=9))
    assert await schedules.get(5, 9) is None
    await schedules.start(weekly())
    assert (await schedules.start(weekly(announce_channel_id=3))).replaced
    assert (await schedules.clear(5)) is not None and await schedules.clear(5) is None
    assert await schedules.of_guild(5) == []
