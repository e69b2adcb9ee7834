"""Watch-along schedules: a server's (or one channel's) episode moves on by one at every tick.

Pure: no database, no clock of its own. A schedule is anchored at its first tick (a UTC instant)
and a zone (``UTC``, a fixed offset such as ``+02:00``, or an IANA name such as
``Europe/Paris``). Tick ``k`` falls ``k * every`` days after the anchor *on the zone's wall
clock*, so a weekly 20:00 in Paris stays at 20:00 across summer time; a wall time that does not
exist on a day (the hour skipped in spring) falls just after the gap, an ambiguous one (the hour
repeated in autumn) on its first occurrence.

:func:`catch_up` applies every tick due by a given instant at once, exactly as stepping through them
one by one would, and never goes past the last episode; a schedule that reaches it is finished.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from lore.errors import LoreError

#: How often a schedule may tick: once a day to once a year (the database checks the same range).
MIN_EVERY, MAX_EVERY = 1, 365
#: How far ahead a schedule may start.
MAX_LEAD_DAYS = 366

#: ``channel_id`` of a server's own schedule (a channel's schedule carries the channel's id).
SERVER = 0


class ScheduleError(LoreError):
    """A schedule request refused with a sentence; nothing changed."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """One stored schedule. ``ticks`` counts the ticks already applied: the next one is tick
    ``ticks`` (see :func:`tick_at`)."""

    guild_id: int
    channel_id: int  # SERVER for the server's own episode
    anchor: float  # UTC seconds of the first tick
    every_days: int
    zone: str  # "UTC", "+02:00" or an IANA name
    ticks: int = 0
    announce_channel_id: int | None = None
    paused: bool = False
    created_by: int | None = None

    @property
    def next_at(self) -> float:
        return tick_at(self.anchor, self.zone, self.every_days, self.ticks)

    def at(self, k: int) -> float:
        """UTC seconds of tick ``k`` (0 is the anchor)."""
        return tick_at(self.anchor, self.zone, self.every_days, k)


@dataclass(frozen=True, slots=True)
class Advance:
    """What :func:`catch_up` did: ``ticks`` applied (0: nothing was due), the ``episode`` reached,
    and the schedule afterwards (``finished``: it reached the last episode and ends)."""

    schedule: Schedule
    episode: int
    ticks: int
    finished: bool

    @property
    def opened(self) -> bool:
        """Whether an episode opened (worth one announcement)."""
        return self.ticks > 0


# -- zones -------------------------------------------------------------------------------------
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_UTC_NAMES = frozenset({"utc", "z", "gmt", "etc/utc", "etc/gmt", "universal", "zulu"})


def _quoted(text: str) -> str:
    """User input shown between backticks: short, and unable to close them."""
    return text.replace("`", "'")[:60]


@lru_cache(maxsize=1)
def _zone_keys() -> dict[str, str]:
    return {key.casefold(): key for key in zoneinfo.available_timezones()}


def _offset_zone(text: str) -> str | None:
    """``+2``, ``+02:00``, ``-0530``, ``UTC+1`` -> ``"+02:00"`` style; None if not an offset."""
    m = _OFFSET.match(text.strip())
    if not m:
        return None
    sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
    if hours > 14 or minutes > 59 or (hours == 14 and minutes):
        raise ScheduleError(f"`{_quoted(text)}` is not a UTC offset (they go from -14:00 to +14:00).")
    if hours == 0 and minutes == 0:
        return "UTC"
    return f"{sign}{hours:02d}:{minutes:02d}"


def zone_name(text: str) -> str:
    """The zone a user named, as stored: ``UTC``, an offset ``±HH:MM``, or an IANA key in its own
    spelling (matched without regard to case). Refuses anything else with a sentence."""
    name = text.strip()
    if not name:
        raise ScheduleError("Give a time zone, for example `Europe/Paris`, `UTC` or `+02:00`.")
    if name.casefold() in _UTC_NAMES:
        return "UTC"
    offset = _offset_zone(name)
    if offset is not None:
        return offset
    key = _zone_keys().get(name.casefold())
    if key is None:
        raise ScheduleError(
            f"`{_quoted(name)}` is not a time zone I know. Use an IANA name such as `Europe/Paris` or "
            "`America/New_York`, `UTC`, or an offset such as `+02:00`."
        )
    return key


@lru_cache(maxsize=256)
def zone_info(zone: str) -> tzinfo:
    """The ``tzinfo`` of a stored zone name (see :func:`zone_name`)."""
    if zone == "UTC":
        return UTC
    m = re.fullmatch(r"([+-])(\d{2}):(\d{2})", zone)
    if m:
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        return timezone(-delta if m.group(1) == "-" else delta)
    return zoneinfo.ZoneInfo(zone)


def is_named_zone(zone: str) -> bool:
    """An IANA zone (with its own rules, summer time included), not UTC or a fixed offset."""
    return zone != "UTC" and not re.fullmatch(r"[+-]\d{2}:\d{2}", zone)


# -- ticks -------------------------------------------------------------------------------------
def tick_at(anchor: float, zone: str, every_days: int, k: int) -> float:
    """UTC seconds of tick ``k``: the anchor's wall time in ``zone``, ``k * every_days`` days later."""
    tz = zone_info(zone)
    wall = datetime.fromtimestamp(anchor, tz).replace(tzinfo=None, fold=0) + timedelta(days=every_days * k)
    return wall.replace(tzinfo=tz).timestamp()


def first_tick_after(schedule: Schedule, now: float) -> int:
    """The first tick number, not before ``schedule.ticks``, that falls after ``now`` (for a
    resume: openings that passed while paused are skipped, not caught up)."""
    k = schedule.ticks
    step = schedule.every_days * 86400
    if schedule.at(k) <= now:  # jump near it, then walk (the wall-clock rule moves ticks by hours at most)
        first = k
        k = max(k, k + int((now - schedule.at(k)) // step) - 1)
        while k > first and schedule.at(k - 1) > now:
            k -= 1
        while schedule.at(k) <= now:
            k += 1
    return k


def step(schedule: Schedule, episode: int, last: int) -> Advance:
    """One tick: the episode moves on by one (never past ``last``)."""
    if episode >= last:
        return Advance(schedule, episode, 0, True)
    reached = episode + 1
    return Advance(replace(schedule, ticks=schedule.ticks + 1), reached, 1, reached >= last)


def catch_up(schedule: Schedule, episode: int, now: float, last: int) -> Advance:
    """Every tick due by ``now`` applied at once (a paused schedule does not tick). A schedule
    whose target already stands at ``last`` is finished without ticking."""
    if schedule.paused:
        return Advance(schedule, episode, 0, False)
    if episode >= last:
        return Advance(schedule, episode, 0, True)
    if schedule.next_at > now:
        return Advance(schedule, episode, 0, False)
    due = first_tick_after(schedule, now) - schedule.ticks  # ticks schedule.ticks .. k-1 are due
    applied = min(due, last - episode)
    reached = episode + applied
    return Advance(replace(schedule, ticks=schedule.ticks + applied), reached, applied, reached >= last)


def last_tick(schedule: Schedule, episode: int, last: int) -> float | None:
    """When the schedule would open ``last``, from ``episode`` now (None if it stands there)."""
    if episode >= last:
        return None
    return schedule.at(schedule.ticks + (last - episode) - 1)


# -- the start a user types ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Start:
    """A parsed start: the UTC instant, the zone for later ticks, and how it was read."""

    at: float
    zone: str
    assumed_utc: bool  # no zone or offset was given: UTC was assumed

    def understood(self) -> str:
        """The start as understood, in words (for the reply)."""
        local = datetime.fromtimestamp(self.at, zone_info(self.zone))
        wall = local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")
        if self.zone == "UTC":
            return f"{wall} UTC" + (" (no time zone was given, so UTC)" if self.assumed_utc else "")
        if is_named_zone(self.zone):
            offset = _format_offset(local.utcoffset())
            return f"{wall} {self.zone} (UTC{offset} on that day; later openings follow its clock)"
        return f"{wall} UTC{self.zone}"


def _format_offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_start(text: str, now: float) -> Start:
    """Read a start such as ``2026-12-10 20:00``, ``2026-12-10T20:00+01:00`` or
    ``2026-12-10 20:00 Europe/Paris`` (an ISO date and time, with an offset or followed by a zone;
    neither: UTC). Refuses, with a sentence, what cannot be read, a time already past, and one more
    than a year ahead."""
    raw = " ".join(text.split())
    if not raw:
        raise ScheduleError("Give the first opening as a date and time, for example `2026-12-10 20:00 Europe/Paris`.")
    if len(raw) > 100:
        raise ScheduleError("That start is too long to be a date and time.")
    unreadable = ScheduleError(
        f"I cannot read `{_quoted(raw)}` as a date and time. Write it as `YYYY-MM-DD HH:MM`, followed by a "
        "time zone (`Europe/Paris`, `UTC`) or with an offset (`2026-12-10T20:00+01:00`)."
    )
    zone_text: str | None = None
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        head, _, zone_text = raw.rpartition(" ")
        if re.fullmatch(r"[\d:.]+", zone_text):  # "2026-12-10 25:00": a time that is not one
            raise unreadable from None
        try:
            stamp = datetime.fromisoformat(head)
        except ValueError:
            raise unreadable from None
    offset = stamp.utcoffset()
    if offset is not None and abs(offset) > timedelta(hours=14):
        raise ScheduleError(f"UTC{_format_offset(offset)} is not a UTC offset (they go from -14:00 to +14:00).")
    if zone_text is not None:
        zone = zone_name(zone_text)
        tz = zone_info(zone)
        wall = stamp.replace(tzinfo=None)
        if stamp.tzinfo is not None:
            given = stamp.utcoffset()
            expected = [wall.replace(tzinfo=tz, fold=fold).utcoffset() for fold in (0, 1)]
            if given not in expected:
                raise ScheduleError(
                    f"The offset UTC{_format_offset(given)} is not that of {zone} on that date "
                    f"(UTC{_format_offset(expected[0])}): give one or the other."
                )
            at = stamp.timestamp()
        else:
            at = wall.replace(tzinfo=tz).timestamp()
        assumed = False
    elif offset is not None:
        zone = "UTC" if not offset else _format_offset(offset)
        at = stamp.timestamp()
        assumed = False
    else:
        zone, at, assumed = "UTC", stamp.replace(tzinfo=UTC).timestamp(), True
    if at <= now:
        raise ScheduleError(
            f"<t:{int(at)}:F> (<t:{int(at)}:R>) has already passed: give a time in the future. Nothing was changed."
        )
    if at > now + MAX_LEAD_DAYS * 86400:
        raise ScheduleError("A schedule may start at most a year from now. Nothing was changed.")
    return Start(at, zone, assumed)


def check_every(every_days: int) -> int:
    if not MIN_EVERY <= every_days <= MAX_EVERY:
        raise ScheduleError(f"`every` is a number of days from {MIN_EVERY} to {MAX_EVERY}. Nothing was changed.")
    return every_days
