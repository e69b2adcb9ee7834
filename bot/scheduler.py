"""The background loop that ticks spoiler schedules (rules in :mod:`lore.schedule`).

One process of a cluster ticks: each round it takes (or renews) the schedule lease in the shared
database (``LoreService.coordination.try_lease``, as command sync does) and only the holder goes on.
Its first round runs at start, so openings missed while no bot was running are applied then, at
once, with one announcement for the episode reached. A process that stops releases the lease, so
another takes over at its next round; one that dies loses it after ``lease_ttl`` seconds. Even two
processes ticking together could not open an episode twice: each tick is a transaction that
re-reads the schedule (see :mod:`lore.schedule_store`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from bot.replies import NO_MENTIONS
from lore import SCHEDULE_SERVER, Advance, Franchise, Schedules

if TYPE_CHECKING:
    from bot.app import LoreBot

log = logging.getLogger("lorebot")

#: The ``meta`` key of the lease held by the process that ticks schedules.
LEASE = "spoiler_schedule_lease"
#: Seconds between two rounds: an episode opens at most this long after its time.
INTERVAL = 20.0

Clock = Callable[[], float]


def announcement(adv: Advance, franchise: Franchise) -> str:
    """ "Episode 4 is open for discussion." — with where, what was caught up, and what comes next
    (episodes named as ``franchise`` names them: "Episode 15 (S2E3)" with seasons)."""
    s = adv.schedule
    where = f" in <#{s.channel_id}>" if s.channel_id != SCHEDULE_SERVER else ""
    lines = [f"📺 **{franchise.label(adv.episode, capital=True)}** is open for discussion{where}."]
    if adv.ticks > 1:
        lines.append(f"(I was offline at {adv.ticks} scheduled openings: they were caught up at once.)")
    if adv.finished:
        lines.append("That was the last episode: the schedule is finished.")
    elif not s.paused:
        lines.append(f"Next: {franchise.label(adv.episode + 1)} <t:{int(s.next_at)}:F> (<t:{int(s.next_at)}:R>).")
    return "\n".join(lines)


class ScheduleTicker:
    def __init__(self, bot: LoreBot, *, clock: Clock = time.time, interval: float = INTERVAL):
        self.bot = bot
        self.clock = clock
        self.interval = interval
        self.lease_ttl = max(3 * interval, 15.0)
        self.holding = False  # whether this process held the lease at its last round
        self.rounds = 0  # rounds this process ticked in (for tests and figures)
        self.announced = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def schedules(self) -> Schedules:
        return self.bot.lore.schedules

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="lorebot-schedules")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.holding:
            self.holding = False
            try:
                await self.bot.lore.coordination.release_lease(LEASE, self.bot.instance)
            except Exception as e:  # another process takes over when the lease expires
                log.warning("could not release the schedule lease: %s", e)

    async def _run(self) -> None:
        while True:
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next round retries: a schedule is never half applied
                log.exception("a round of spoiler schedules failed")
            await asyncio.sleep(self.interval)

    async def round(self) -> int:
        """Tick every due schedule if this process holds the lease; returns the episodes opened."""
        self.holding = await self.bot.lore.coordination.try_lease(LEASE, self.bot.instance, self.lease_ttl)
        if not self.holding:
            return 0
        self.rounds += 1
        now = self.clock()
        schedules = self.schedules
        opened = 0
        for guild_id, channel_id in await schedules.due(now):
            adv = await schedules.advance(guild_id, channel_id, now)
            if adv is None:
                continue
            where = f"channel {channel_id}" if channel_id != SCHEDULE_SERVER else "the server"
            if adv.opened:
                opened += 1
                log.info(
                    "schedule of server %d (%s): episode %d opened (%d tick(s))%s",
                    guild_id,
                    where,
                    adv.episode,
                    adv.ticks,
                    "; finished" if adv.finished else "",
                )
                await self.announce(adv)
            else:
                log.info("schedule of server %d (%s) finished: already at episode %d", guild_id, where, adv.episode)
        return opened

    async def pause_guild(self, guild_id: int) -> int:
        """The bot was removed from a server: its schedules pause (:meth:`lore.Schedules.pause_guild`)."""
        paused = await self.schedules.pause_guild(guild_id)
        if paused:
            log.info("removed from server %d: paused its %d spoiler schedule(s)", guild_id, paused)
        return paused

    async def announce(self, adv: Advance) -> None:
        """Post the announcement, if the schedule has a channel for it. A refusal is logged as a
        sentence; the schedule goes on either way."""
        s = adv.schedule
        if s.announce_channel_id is None:
            return
        channel = self.bot.get_partial_messageable(s.announce_channel_id, guild_id=s.guild_id)
        try:
            await channel.send(announcement(adv, self.bot.lore.franchise), allowed_mentions=NO_MENTIONS)
        except discord.Forbidden:
            log.warning(
                "could not announce episode %d in channel %d of server %d: I am missing the permission to "
                "send messages there; the schedule goes on",
                adv.episode,
                s.announce_channel_id,
                s.guild_id,
            )
        except discord.NotFound:
            log.warning(
                "could not announce episode %d in channel %d of server %d: the channel no longer exists; the "
                "schedule goes on",
                adv.episode,
                s.announce_channel_id,
                s.guild_id,
            )
        except discord.HTTPException as e:
            log.warning(
                "could not announce episode %d in channel %d of server %d (%s); the schedule goes on",
                adv.episode,
                s.announce_channel_id,
                s.guild_id,
                e,
            )
        else:
            self.announced += 1
