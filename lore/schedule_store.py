"""Spoiler schedules in the lore database (table ``spoiler_schedules``; the rules in :mod:`lore.schedule`).

Every change is one write transaction that reads what it depends on inside it: the schedule row
and the target's spoiler setting. A tick writes the new episode through the store's setting
writer, so the change feed carries it to every process; the schedule row's own change is a feed
row too (``spoiler_schedule``). Ticking twice for the same instant is harmless: the second
transaction finds the row already moved on and does nothing, so at most one process announces.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lore.schedule import SERVER, Advance, Schedule, ScheduleError, catch_up, first_tick_after
from lore.spoilers import Setting, resolve_policy
from lore.store import Store, Tx, guild_scope

#: The change feed's ``what`` for a schedule row (key: ``guild_id:channel_id``).
SCHEDULE = "spoiler_schedule"

_COLUMNS = "guild_id, channel_id, anchor_at, every_days, tz, ticks, announce_channel_id, paused, created_by"


def _row(row: Any) -> Schedule:
    g, c, anchor, every, tz, ticks, announce, paused, by = row
    return Schedule(int(g), int(c), float(anchor), int(every), str(tz), int(ticks), announce, bool(paused), by)


@dataclass(frozen=True, slots=True)
class Changed:
    """A pause or resume: the schedule before (None: there was none) and after (None: nothing
    changed, e.g. pausing a paused schedule)."""

    before: Schedule | None
    after: Schedule | None


@dataclass(frozen=True, slots=True)
class Started:
    schedule: Schedule
    episode: int  # the target's episode when the schedule was set
    replaced: bool  # a schedule for the same target was there before


class Schedules:
    def __init__(self, store: Store, last_episode: int):
        self.store = store
        self.last = last_episode

    # -- reads -----------------------------------------------------------------------------
    async def get(self, guild_id: int, channel_id: int = SERVER, tx: Tx | None = None) -> Schedule | None:
        sql = f"SELECT {_COLUMNS} FROM spoiler_schedules WHERE guild_id = ? AND channel_id = ?"
        args = (guild_id, channel_id)
        rows = await (tx.fetchall(sql, args) if tx is not None else self.store.fetchall(sql, args))
        return _row(rows[0]) if rows else None

    async def of_guild(self, guild_id: int) -> list[Schedule]:
        """The server's schedules: its own first, then each channel's by id."""
        rows = await self.store.fetchall(
            f"SELECT {_COLUMNS} FROM spoiler_schedules WHERE guild_id = ? ORDER BY channel_id", (guild_id,)
        )
        return [_row(r) for r in rows]

    async def due(self, now: float, limit: int = 500) -> list[tuple[int, int]]:
        """(guild, channel) of the running schedules whose next tick is at or before ``now``."""
        rows = await self.store.fetchall(
            "SELECT guild_id, channel_id FROM spoiler_schedules WHERE paused = 0 AND next_at <= ? "
            "ORDER BY next_at LIMIT ?",
            (now, limit),
        )
        return [(int(g), int(c)) for g, c in rows]

    async def episode_of(self, guild_id: int, channel_id: int = SERVER, tx: Tx | None = None) -> int:
        """The episode in force for a schedule's target: the server's setting (or the default),
        or for a channel its override, else the server's."""
        server = (await self.store.guild_settings([guild_id], tx)).get(guild_id)
        channel = None
        if channel_id != SERVER:
            found = (await self.store.channel_settings([channel_id], tx)).get(channel_id)
            channel = found[1] if found is not None else None
        return resolve_policy(server=server, channel=channel).episode

    # -- writes ----------------------------------------------------------------------------
    async def start(self, schedule: Schedule) -> Started:
        """Set ``schedule`` for its target (replacing the one there); refused when the target is
        already at the last episode."""
        async with self.store.write() as tx:
            episode = await self.episode_of(schedule.guild_id, schedule.channel_id, tx)
            if episode >= self.last:
                where = "This channel" if schedule.channel_id != SERVER else "This server"
                raise ScheduleError(
                    f"{where} is already at episode {episode}, the last one: there is nothing left to open. "
                    "Nothing was changed."
                )
            old = await self.get(schedule.guild_id, schedule.channel_id, tx)
            await self._put(tx, schedule)
        return Started(schedule, episode, old is not None)

    async def pause(self, guild_id: int, channel_id: int = SERVER) -> Changed:
        return await self._update(guild_id, channel_id, lambda s: None if s.paused else replace(s, paused=True))

    async def pause_guild(self, guild_id: int) -> int:
        """Pause every running schedule of a server (its own and its channels'), as when the bot
        is removed from it: nothing opens while it is away, and an admin who invites it back
        resumes or clears them. Each pause is its own write; returns how many were paused."""
        paused = 0
        for s in await self.of_guild(guild_id):
            if not s.paused and (await self.pause(guild_id, s.channel_id)).after is not None:
                paused += 1
        return paused

    async def resume(self, guild_id: int, channel_id: int = SERVER, *, now: float | None = None) -> Changed:
        """Run a paused schedule again from its next opening still ahead (openings that passed
        while it was paused are skipped, not caught up)."""
        at = time.time() if now is None else now

        def go_on(s: Schedule) -> Schedule | None:
            if not s.paused:
                return None
            running = replace(s, paused=False)
            return replace(running, ticks=first_tick_after(running, at))

        return await self._update(guild_id, channel_id, go_on)

    async def clear(self, guild_id: int, channel_id: int = SERVER) -> Schedule | None:
        async with self.store.write() as tx:
            old = await self.get(guild_id, channel_id, tx)
            if old is not None:
                await self._delete(tx, old)
        return old

    async def advance(self, guild_id: int, channel_id: int, now: float) -> Advance | None:
        """Apply every tick of one schedule due by ``now`` (None: none was due, or it is gone or
        paused): an episode opened (``opened``), or the schedule ended (``finished``). The
        target's episode and the schedule move in one transaction."""
        async with self.store.write() as tx:
            schedule = await self.get(guild_id, channel_id, tx)
            if schedule is None or schedule.paused or schedule.next_at > now:
                return None
            episode = await self.episode_of(guild_id, channel_id, tx)
            adv = catch_up(schedule, episode, now, self.last)
            if adv.ticks:
                await self._set_episode(tx, guild_id, channel_id, adv.episode)
            if adv.finished:
                await self._delete(tx, adv.schedule)
            elif adv.ticks:
                await self._put(tx, adv.schedule)
        return adv if adv.ticks or adv.finished else None

    async def _update(self, guild_id: int, channel_id: int, change: Callable[[Schedule], Schedule | None]) -> Changed:
        async with self.store.write() as tx:
            old = await self.get(guild_id, channel_id, tx)
            new = change(old) if old is not None else None
            if new is not None:
                await self._put(tx, new)
        return Changed(old, new)

    async def _set_episode(self, tx: Tx, guild_id: int, channel_id: int, episode: int) -> None:
        if channel_id == SERVER:
            old = (await self.store.guild_settings([guild_id], tx)).get(guild_id, Setting())
            await self.store.put_guild_setting(tx, guild_id, Setting(episode, old.mode))
        else:
            found = (await self.store.channel_settings([channel_id], tx)).get(channel_id)
            mode = found[1].mode if found is not None else None
            await self.store.put_channel_setting(tx, guild_id, channel_id, Setting(episode, mode))

    async def _put(self, tx: Tx, s: Schedule) -> None:
        await tx.execute(
            "INSERT INTO spoiler_schedules (guild_id, channel_id, next_at, every_days, announce_channel_id, tz, "
            "paused, created_by, updated_at, anchor_at, ticks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, channel_id) DO UPDATE SET next_at = excluded.next_at, "
            "every_days = excluded.every_days, announce_channel_id = excluded.announce_channel_id, "
            "tz = excluded.tz, paused = excluded.paused, created_by = excluded.created_by, "
            "updated_at = excluded.updated_at, anchor_at = excluded.anchor_at, ticks = excluded.ticks",
            (
                s.guild_id,
                s.channel_id,
                s.next_at,
                s.every_days,
                s.announce_channel_id,
                s.zone,
                int(s.paused),
                s.created_by,
                time.time(),
                s.anchor,
                s.ticks,
            ),
        )
        tx.changed(guild_scope(s.guild_id), SCHEDULE, f"{s.guild_id}:{s.channel_id}")

    async def _delete(self, tx: Tx, s: Schedule) -> None:
        await tx.execute(
            "DELETE FROM spoiler_schedules WHERE guild_id = ? AND channel_id = ?", (s.guild_id, s.channel_id)
        )
        tx.changed(guild_scope(s.guild_id), SCHEDULE, f"{s.guild_id}:{s.channel_id}")
