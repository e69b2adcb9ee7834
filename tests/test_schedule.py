"""Watch-along schedules (lore.schedule): ticks, catching up, zones and the start a user types."""

from __future__ import annotations

import itertools
import zoneinfo
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lore.schedule import (
    Schedule,
    ScheduleError,
    catch_up,
    check_every,
    first_tick_after,
    is_named_zone,
    last_tick,
    parse_start,
    step,
    zone_info,
    zone_name,
)

DAY = 86400.0
ZONES = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
OFFSETS = ["UTC", "+02:00", "-05:00", "+05:30", "+14:00", "-11:00"]
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()

zones = st.one_of(st.sampled_from(OFFSETS), st.sampled_from(ZONES))
anchors = st.floats(
    min_value=datetime(2024, 1, 1, tzinfo=UTC).timestamp(), max_value=datetime(2040, 1, 1, tzinfo=UTC).timestamp()
)
schedules = st.builds(
    Schedule,
    guild_id=st.just(1),
    channel_id=st.just(0),
    anchor=anchors.map(lambda a: float(int(a))),
    every_days=st.integers(1, 365),
    zone=zones,
    ticks=st.integers(0, 20),
)


def stepping(s: Schedule, episode: int, now: float, last: int) -> tuple[Schedule, int, int, bool]:
    """The reference: one tick at a time, while one is due."""
    ticks = 0
    finished = episode >= last
    while not finished and s.next_at <= now:
        adv = step(s, episode, last)
        s, episode, finished = adv.schedule, adv.episode, adv.finished
        ticks += adv.ticks
    return s, episode, ticks, finished


@settings(max_examples=300, deadline=None)
@given(schedules)
def test_ticks_are_strictly_increasing(s):
    times = [s.at(k) for k in range(s.ticks, s.ticks + 15)]
    assert all(a < b for a, b in itertools.pairwise(times))


@settings(max_examples=300, deadline=None)
@given(schedules, st.integers(0, 40))
def test_ticks_keep_the_wall_clock_of_their_zone(s, k):
    tz = zone_info(s.zone)
    first = datetime.fromtimestamp(s.anchor, tz).replace(tzinfo=None, fold=0)
    target = first + timedelta(days=s.every_days * k)
    got = datetime.fromtimestamp(s.at(k), tz).replace(tzinfo=None, fold=0)
    if not is_named_zone(s.zone):
        assert s.at(k) - s.anchor == s.every_days * k * DAY
    exists = datetime.fromtimestamp(target.replace(tzinfo=tz).timestamp(), tz).replace(tzinfo=None) == target
    if exists:
        assert got == target  # a weekly 20:00 stays 20:00 across summer time
    else:  # the hour skipped in spring: just after the gap, never before the wall time
        assert target < got <= target + timedelta(hours=3)


def test_a_weekly_evening_in_paris_follows_summer_time():
    s = Schedule(1, 0, parse_start("2027-03-21 20:00 Europe/Paris", NOW).at, 7, "Europe/Paris")
    hours = [datetime.fromtimestamp(s.at(k), UTC).hour for k in range(3)]
    assert hours == [19, 18, 18]  # 20:00 in Paris: UTC+1 before 28 March, UTC+2 after
    fixed = Schedule(1, 0, parse_start("2027-03-21 20:00 +01:00", NOW).at, 7, "+01:00")
    assert [datetime.fromtimestamp(fixed.at(k), UTC).hour for k in range(3)] == [19, 19, 19]


@settings(max_examples=400, deadline=None)
@given(schedules, st.integers(0, 13), st.integers(1, 13), st.floats(-10 * DAY, 800 * DAY), st.booleans())
def test_catching_up_equals_stepping_one_by_one(s, episode, last, after, paused):
    s = replace(s, paused=paused)
    now = s.next_at + after
    adv = catch_up(s, episode, now, last)
    if paused:
        assert (adv.schedule, adv.episode, adv.ticks, adv.finished) == (s, episode, 0, False)
        return
    ref_s, ref_ep, ref_ticks, ref_finished = stepping(s, episode, now, last)
    assert (adv.schedule, adv.episode, adv.ticks, adv.finished) == (ref_s, ref_ep, ref_ticks, ref_finished)
    assert adv.episode <= max(episode, last)  # never past the last episode
    assert adv.episode == min(max(episode, last), episode + adv.ticks)
    if not adv.finished:
        assert adv.schedule.next_at > now  # nothing left due


@settings(max_examples=300, deadline=None)
@given(schedules, st.integers(0, 12), st.floats(0, 400 * DAY), st.floats(0, 400 * DAY))
def test_catching_up_in_two_goes_equals_one(s, episode, a, b):
    t1, t2 = s.next_at + a, s.next_at + a + b
    once = catch_up(s, episode, t2, 13)
    first = catch_up(s, episode, t1, 13)
    twice = first if first.finished else catch_up(first.schedule, first.episode, t2, 13)
    assert (twice.schedule, twice.episode, twice.finished) == (once.schedule, once.episode, once.finished)
    assert first.ticks + (0 if first.finished else twice.ticks) == once.ticks


@settings(max_examples=300, deadline=None)
@given(schedules, st.floats(-5 * DAY, 3000 * DAY))
def test_a_resume_skips_to_the_first_opening_still_ahead(s, after):
    now = s.next_at + after
    k = first_tick_after(s, now)
    assert k >= s.ticks and s.at(k) > now
    assert k == s.ticks or s.at(k - 1) <= now


def test_a_schedule_ends_at_the_last_episode():
    s = Schedule(1, 0, NOW, 7, "UTC")
    adv = catch_up(s, 11, NOW + 100 * DAY, 13)
    assert (adv.episode, adv.ticks, adv.finished) == (13, 2, True)
    assert catch_up(s, 13, NOW + DAY, 13).finished and catch_up(s, 13, NOW + DAY, 13).ticks == 0
    assert last_tick(s, 11, 13) == NOW + 7 * DAY and last_tick(s, 13, 13) is None


# -- what a user types -----------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 12, 5), max_value=datetime(2027, 11, 30)).map(
        # A typed wall time carries no fold: an hour the clocks go back over is its first pass.
        lambda d: d.replace(second=0, microsecond=0, fold=0)
    ),
    st.sampled_from([z for z in ZONES if zone_name(z) == z]),  # not "Zulu", "GMT+0": those are read as UTC
)
def test_a_start_in_a_named_zone_is_that_wall_time(wall, zone):
    tz = zoneinfo.ZoneInfo(zone)
    text = f"{wall:%Y-%m-%d %H:%M} {zone.upper() if len(zone) % 2 else zone}"
    start = parse_start(text, NOW)
    assert start.zone == zone and not start.assumed_utc
    assert start.at == wall.replace(tzinfo=tz).timestamp()
    assert start.understood().startswith(f"{datetime.fromtimestamp(start.at, tz):%Y-%m-%d %H:%M} {zone}")


@pytest.mark.parametrize(
    ("text", "zone", "utc"),
    [
        ("2026-12-10 20:00", "UTC", "2026-12-10 20:00"),
        ("2026-12-10T20:00+01:00", "+01:00", "2026-12-10 19:00"),
        ("2026-12-10 20:00Z", "UTC", "2026-12-10 20:00"),
        ("2026-12-10 20:00 +2", "+02:00", "2026-12-10 18:00"),
        ("2026-12-10 20:00 UTC-05:30", "-05:30", "2026-12-11 01:30"),
        ("2026-12-10 20:00 america/new_york", "America/New_York", "2026-12-11 01:00"),
        ("2027-11-07 01:30 America/New_York", "America/New_York", "2027-11-07 05:30"),  # the first 01:30 of two
        ("  2026-12-10   20:00   Europe/Paris ", "Europe/Paris", "2026-12-10 19:00"),
        ("2026-12-10T20:00+01:00 Europe/Paris", "Europe/Paris", "2026-12-10 19:00"),
        ("2026-12-10", "UTC", "2026-12-10 00:00"),
    ],
)
def test_starts_as_users_write_them(text, zone, utc):
    start = parse_start(text, NOW)
    assert start.zone == zone
    assert datetime.fromtimestamp(start.at, UTC).strftime("%Y-%m-%d %H:%M") == utc


def test_what_was_understood_is_said():
    assert "no time zone was given, so UTC" in parse_start("2026-12-10 20:00", NOW).understood()
    assert parse_start("2026-12-10T20:00:30Z", NOW).understood() == "2026-12-10 20:00:30 UTC"
    paris = parse_start("2026-12-10 20:00 Europe/Paris", NOW).understood()
    assert paris == "2026-12-10 20:00 Europe/Paris (UTC+01:00 on that day; later openings follow its clock)"
    # a wall time skipped by summer time is read as the first moment after the gap, and said so
    assert parse_start("2027-03-28 02:30 Europe/Paris", NOW).understood().startswith("2027-03-28 03:30")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Give the first opening"),
        ("tomorrow", "cannot read `tomorrow`"),
        ("2026-12-10 25:00", "cannot read"),
        ("2026-12-10 20:00 Mars/Olympus", "`Mars/Olympus` is not a time zone I know"),
        ("2026-12-10 20:00 +15:00", "not a UTC offset"),
        ("2026-12-10T20:00+02:00 Europe/Paris", "is not that of Europe/Paris"),
        ("2026-12-01 20:00", "has already passed"),
        ("2028-12-10 20:00", "at most a year"),
        ("2026-12-10 20:00 ../../etc/passwd", "is not a time zone I know"),
        ("x" * 200, "too long"),
        ("`@everyone` 2026", "cannot read `'@everyone' 2026`"),
    ],
)
def test_bad_starts_are_sentences(text, words):
    with pytest.raises(ScheduleError) as e:
        parse_start(text, NOW)
    assert words in str(e.value)
    assert len(str(e.value)) < 400


def test_every_is_one_day_to_a_year():
    assert check_every(7) == 7
    for bad in (0, -1, 366):
        with pytest.raises(ScheduleError, match="number of days from 1 to 365"):
            check_every(bad)


def test_zone_names():
    assert zone_name("utc") == "UTC" and zone_name("Z") == "UTC" and zone_name("+00:00") == "UTC"
    assert zone_name("asia/tokyo") == "Asia/Tokyo" and zone_name("-0330") == "-03:30"
    assert is_named_zone("Asia/Tokyo") and not is_named_zone("+09:00") and not is_named_zone("UTC")
