"""/spoilers schedule end to end: a watch-along timetable that opens one episode at each tick.

The bot ticks by an injected clock (``LoreBot(clock=...)``), so a test moves time on by weeks at
once; its schedule loop looks every few hundredths of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import LoreBot
from fakediscord.models import Perm
from lore.schedule_store import Schedules
from tests.e2e.conftest import World, make_bot, open_world

DAY = 86400.0
T0 = datetime(2027, 1, 4, 12, 0, tzinfo=UTC).timestamp()  # a Monday
#: The first opening the tests ask for: Thursday 7 January 2027, 20:00 in Paris (19:00 UTC).
FIRST = datetime(2027, 1, 7, 19, 0, tzinfo=UTC).timestamp()
TICK = 0.03  # seconds between two rounds of the schedule loop


class Clock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now


async def schedule_bot(db: Path, clock: Clock) -> LoreBot:
    return await make_bot(db, clock=clock, schedule_interval=TICK)


@contextlib.asynccontextmanager
async def schedule_world(tmp_path: Path, clock: Clock) -> AsyncIterator[World]:
    async with open_world(
        tmp_path, channels=("general", "episodes", "finale"), clock=clock, schedule_interval=TICK
    ) as w:
        yield w


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sw(tmp_path, clock):
    async with schedule_world(tmp_path, clock) as w:
        yield w


def announcements(w: World, channel_name: str = "episodes") -> list[str]:
    return [m.content for m in w.fake.channel_messages(w.ch(channel_name)) if "open for discussion" in m.content]


async def rounds(bot: LoreBot, n: int = 3) -> None:
    """Let the schedule loop run ``n`` more rounds (whoever holds the lease)."""
    await asyncio.sleep(TICK * (n + 1) + 0.05)


async def wait_for(cond, what: str, timeout: float = 5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := cond()):
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)
    return value


async def status(w: World, channel: str = "general") -> str:
    r = await w.fake.slash("spoilers status", user=w.admin, channel=w.ch(channel))
    return r.content


async def start(w: World, **options) -> str:
    r = await w.fake.slash("spoilers schedule start", options, user=w.admin, channel=w.ch())
    assert r.ephemeral
    return r.content


async def test_a_schedule_opens_one_episode_per_tick_and_announces_it_once(sw, clock):
    w = sw
    await w.fake.slash("spoilers episode", {"number": 3}, user=w.admin, channel=w.ch())
    text = await start(w, start="2027-01-07 20:00 Europe/Paris", every=7, announce=w.ch("episodes"))
    assert "**Schedule set for this server**" in text
    assert f"episode 4 opens <t:{int(FIRST)}:F> (<t:{int(FIRST)}:R>)" in text
    assert "then one episode every 7 days until episode 13" in text
    assert "Understood: 2027-01-07 20:00 Europe/Paris (UTC+01:00 on that day" in text
    assert f"announced in {w.ch('episodes').mention}" in text and "nobody is pinged" in text
    assert len(text) <= 2000

    clock.now = FIRST - 1
    await rounds(w.bot)
    assert announcements(w) == [] and "up to episode 3" in await status(w)

    clock.now = FIRST + 60
    await wait_for(lambda: announcements(w), "the first announcement")
    await rounds(w.bot, 5)
    posted = announcements(w)
    assert len(posted) == 1, posted  # once, however many rounds pass
    assert posted[0].startswith("📺 **Episode 4** is open for discussion.")
    assert f"Next: episode 5 <t:{int(FIRST + 7 * DAY)}:F>" in posted[0]
    assert "**In force in this channel:** up to episode 4" in await status(w)
    # every process sees it: the policy the bot answers lookups with moved on
    assert w.bot.lore.policy(w.guild.id, w.ch().id).episode == 4

    clock.now = FIRST + 7 * DAY  # the next tick, exactly on time
    await wait_for(lambda: len(announcements(w)) == 2, "the second announcement")
    assert announcements(w)[1].startswith("📺 **Episode 5** is open for discussion.")
    assert "up to episode 5" in await status(w)


async def test_a_restart_across_missed_ticks_catches_up_once(tmp_path, clock):
    async with schedule_world(tmp_path, clock) as w:
        await w.fake.slash("spoilers episode", {"number": 2}, user=w.admin, channel=w.ch())
        await start(w, start="2027-01-07 20:00 Europe/Paris", every=7, announce=w.ch("episodes"))
        clock.now = FIRST + 1
        await wait_for(lambda: announcements(w), "the first opening")
        fake, db = w.fake, w.db
        # the bot stops; three weekly openings pass while it is away (DST does not start before March)
        clock.now = FIRST + 3 * 7 * DAY + 3600
        w.bot = await schedule_bot(db, clock)
        async with fake.running(w.bot):
            await wait_for(lambda: len(announcements(w)) == 2, "the catch-up announcement")
            await rounds(w.bot, 5)
            posted = announcements(w)
            assert len(posted) == 2, posted  # one announcement for the three missed openings
            assert posted[1].startswith("📺 **Episode 6** is open for discussion.")
            assert "I was offline at 3 scheduled openings" in posted[1]
            assert f"Next: episode 7 <t:{int(FIRST + 4 * 7 * DAY)}:F>" in posted[1]
            assert "up to episode 6" in await status(w)


async def test_a_channel_schedule_moves_only_that_channel_and_ends_at_the_last_episode(sw, clock):
    w = sw
    await w.fake.slash("spoilers episode", {"number": 11, "channel": w.ch("finale")}, user=w.admin, channel=w.ch())
    text = await start(w, start="2027-01-05 18:00 UTC", every=1, channel=w.ch("finale"), announce=w.ch("episodes"))
    assert f"**Schedule set for {w.ch('finale').mention}**" in text and "every day until episode 13" in text
    clock.now += 30 * DAY
    await wait_for(lambda: announcements(w), "the announcement")
    await rounds(w.bot, 3)
    (posted,) = announcements(w)
    assert posted.startswith(f"📺 **Episode 13** is open for discussion in {w.ch('finale').mention}.")
    assert "That was the last episode: the schedule is finished." in posted
    assert "up to episode 13" in await status(w, "finale")
    assert "up to episode 0" in await status(w, "general")  # the server's own episode did not move
    shown = await w.fake.slash("spoilers schedule show", user=w.admin, channel=w.ch())
    assert "No spoiler schedule in this server" in shown.content


async def test_show_pause_resume_and_clear(sw, clock):
    w = sw
    text = await start(w, start="2027-01-07 20:00 +01:00", every=14)
    assert "channel(s) with an episode of their own" not in text
    await start(w, start="2027-01-06 21:00 America/New_York", every=7, channel=w.ch("finale"))
    await w.fake.slash("spoilers episode", {"number": 0, "channel": w.ch("finale")}, user=w.admin, channel=w.ch())
    again = await start(w, start="2027-01-07 20:00 +01:00", every=14)
    assert "(it replaces the one before)" in again and "1 channel(s) with an episode of their own" in again
    shown = (await w.fake.slash("spoilers schedule show", user=w.admin, channel=w.ch())).content
    lines = shown.splitlines()
    assert lines[0] == "**Spoiler schedules**"
    assert lines[1].startswith(f"**This server**: episode 1 opens <t:{int(FIRST)}:F>")
    assert "every 14 days until episode 13" in lines[1] and "zone +01:00; not announced." in lines[1]
    assert lines[2].startswith(f"**{w.ch('finale').mention}**: episode 1 opens") and "America/New_York" in lines[2]

    st = await status(w)
    assert f"**Schedule:** the next episode opens <t:{int(FIRST)}:F>" in st
    assert "**Channel schedules:** 1 (see `/spoilers schedule show`)" in st
    r = await w.fake.slash("spoilers schedule pause", user=w.admin, channel=w.ch())
    assert "Paused the schedule of this server" in r.content
    assert "**Schedule:** paused" in await status(w)
    again = await w.fake.slash("spoilers schedule pause", user=w.admin, channel=w.ch())
    assert "already paused; nothing changed" in again.content
    shown = (await w.fake.slash("spoilers schedule show", user=w.admin, channel=w.ch())).content
    assert "**This server**: **paused** at episode 0" in shown

    clock.now = FIRST + 20 * DAY  # two fortnightly openings pass while paused: the first and FIRST + 14 days
    await rounds(w.bot)
    assert "up to episode 0" in await status(w)  # nothing opened while paused
    r = await w.fake.slash("spoilers schedule resume", user=w.admin, channel=w.ch())
    assert f"Resumed the schedule of this server: episode 1 opens <t:{int(FIRST + 28 * DAY)}:F>" in r.content
    assert (
        "not paused; nothing changed"
        in (await w.fake.slash("spoilers schedule resume", user=w.admin, channel=w.ch())).content
    )

    cleared = await w.fake.slash("spoilers schedule clear", {"channel": w.ch("finale")}, user=w.admin, channel=w.ch())
    assert f"Cleared the schedule of {w.ch('finale').mention}; its episode stays at" in cleared.content
    nothing = await w.fake.slash("spoilers schedule clear", {"channel": w.ch("finale")}, user=w.admin, channel=w.ch())
    assert "There is no schedule for" in nothing.content and "nothing changed" in nothing.content
    shown = (await w.fake.slash("spoilers schedule show", user=w.admin, channel=w.ch())).content
    assert w.ch("finale").mention not in shown and "**This server**" in shown


async def test_help_lists_the_schedule_commands(sw):
    helped = await sw.fake.slash("help", user=sw.admin, channel=sw.ch())
    for name in ("start", "show", "pause", "resume", "clear"):
        assert f"`/spoilers schedule {name}`" in helped.all_text


async def test_members_are_refused_and_bad_input_changes_nothing(sw, clock):
    w = sw
    for command, options in [
        ("spoilers schedule start", {"start": "2027-01-07 20:00", "every": 7}),
        ("spoilers schedule show", {}),
        ("spoilers schedule pause", {}),
        ("spoilers schedule resume", {}),
        ("spoilers schedule clear", {}),
    ]:
        r = await w.fake.slash(command, options, user=w.viewer, channel=w.ch(), check_permissions=False)
        assert r.ephemeral and "Manage Server" in r.content, (command, r.content)

    for options, words in [
        ({"start": "2027-01-01 20:00", "every": 7}, "has already passed"),
        ({"start": "2027-01-07 20:00 Mars/Olympus", "every": 7}, "`Mars/Olympus` is not a time zone I know"),
        ({"start": "next thursday", "every": 7}, "I cannot read `next thursday` as a date and time"),
        ({"start": "2027-01-07T20:00+02:00 Europe/Paris", "every": 7}, "is not that of Europe/Paris"),
    ]:
        r = await w.fake.slash("spoilers schedule start", options, user=w.admin, channel=w.ch())
        assert r.ephemeral and words in r.content, r.content
    await w.fake.slash("spoilers episode", {"number": 13}, user=w.admin, channel=w.ch())
    r = await w.fake.slash(
        "spoilers schedule start", {"start": "2027-01-07 20:00", "every": 7}, user=w.admin, channel=w.ch()
    )
    assert "already at episode 13, the last one" in r.content and "Nothing was changed" in r.content
    assert await Schedules(w.bot.lore.store, w.bot.lore.franchise.last).of_guild(w.guild.id) == []
    r = await w.fake.slash("spoilers schedule pause", user=w.admin, channel=w.ch())
    assert r.content == "There is no schedule for this server; nothing changed."


async def test_an_announcement_the_bot_may_not_post_is_logged_and_the_schedule_goes_on(sw, clock, caplog):
    w = sw
    bot_member = w.guild.members[w.fake.bot_user.id]
    w.fake.set_overwrite(w.ch("episodes"), bot_member, deny=Perm.SEND_MESSAGES)
    guild = w.bot.get_guild(w.guild.id)
    await wait_for(
        lambda: not guild.get_channel(w.ch("episodes").id).permissions_for(guild.me).send_messages,
        "the overwrite to reach the bot",
    )
    text = await start(w, start="2027-01-07 20:00 UTC", every=7, announce=w.ch("episodes"))
    assert f"I cannot send messages in {w.ch('episodes').mention} right now" in text
    caplog.set_level(logging.WARNING, logger="lorebot")
    clock.now = FIRST + 2 * 3600
    await wait_for(lambda: "up to episode 1" in w.bot.lore.policy(w.guild.id).footer(), "the opening")
    await wait_for(lambda: "missing the permission to send messages" in caplog.text, "the log line")
    assert announcements(w) == []
    clock.now += 7 * DAY  # it goes on
    await wait_for(lambda: w.bot.lore.policy(w.guild.id).episode == 2, "the next opening")


async def test_a_server_that_removes_the_bot_has_its_schedules_paused_until_an_admin_resumes(sw, clock, caplog):
    """Removed from a server, the bot pauses its schedules (the server's and its channels'): no
    episode opens and no announcement fails while it is away. Re-invited, the admin finds them
    paused where they were and resumes them; other servers' schedules go on meanwhile."""
    w = sw
    caplog.set_level(logging.INFO, logger="lorebot")
    await w.fake.slash("spoilers episode", {"number": 3}, user=w.admin, channel=w.ch())
    await start(w, start="2027-01-07 20:00 UTC", every=7, announce=w.ch("episodes"))
    await start(w, start="2027-01-07 20:00 UTC", every=7, channel=w.ch("finale"))
    other = w.other.channels["general"]
    r = await w.fake.slash(
        "spoilers schedule start", {"start": "2027-01-07 20:00 UTC", "every": 7}, user=w.other_admin, channel=other
    )
    assert "Schedule set for this server" in r.content
    schedules = w.bot.lore.schedules

    w.fake.remove_bot(w.guild)
    await wait_for(lambda: w.bot.get_guild(w.guild.id) is None, "the bot to leave the server")
    await wait_for(lambda: "paused its 2 spoiler schedule(s)" in caplog.text, "the schedules to pause")
    assert all(s.paused for s in await schedules.of_guild(w.guild.id))
    clock.now = FIRST + 3 * 7 * DAY + 7200  # four weekly openings pass while the bot is away
    await wait_for(lambda: w.bot.lore.policy(w.other.id).episode == 4, "the other server's four openings")
    await rounds(w.bot, 5)
    assert w.bot.lore.policy(w.guild.id).episode == 3 and w.bot.lore.policy(w.guild.id, w.ch("finale").id).episode == 3
    assert announcements(w) == [] and "could not announce" not in caplog.text

    w.fake.invite_bot(w.guild)
    await wait_for(lambda: w.bot.get_guild(w.guild.id) is not None, "the bot to be back")
    shown = (await w.fake.slash("spoilers schedule show", user=w.admin, channel=w.ch())).content
    assert "**This server**: **paused** at episode 3" in shown and f"**{w.ch('finale').mention}**: **paused**" in shown
    r = await w.fake.slash("spoilers schedule resume", user=w.admin, channel=w.ch())
    at = FIRST + 3600 + 4 * 7 * DAY  # the next opening still ahead (20:00 UTC is an hour after FIRST)
    assert f"Resumed the schedule of this server: episode 4 opens <t:{int(at)}:F>" in r.content
    clock.now = at + 60
    await wait_for(lambda: announcements(w), "the announcement after the resume")
    assert announcements(w)[0].startswith("📺 **Episode 4** is open for discussion.")


async def test_two_bots_on_one_database_tick_once(sw, clock):
    """A second bot on the same database (another process of a cluster): only the lease holder
    ticks, and when it stops the other takes over."""
    w = sw
    second = await schedule_bot(w.db, clock)
    with w.fake.patch():
        await second.login("fake-token")  # setup_hook: the store, the cogs and their schedule loop
        try:
            await rounds(w.bot, 3)
            tickers = [b.get_cog("Spoilers").ticker for b in (w.bot, second)]
            assert sorted(t.holding for t in tickers) == [False, True]
            holder, other = (w.bot, second) if tickers[0].holding else (second, w.bot)
            await start(w, start="2027-01-07 19:00 UTC", every=7, announce=w.ch("episodes"))
            clock.now = FIRST + 1
            await wait_for(lambda: announcements(w), "the opening")
            await rounds(w.bot, 5)
            assert len(announcements(w)) == 1
            assert other.get_cog("Spoilers").ticker.rounds == 0  # it never ticked
            assert other.lore.policy(w.guild.id).episode == 1  # and sees the new episode all the same
            # the holder stops: the other takes the lease at its next round and ticks from then on
            await holder.get_cog("Spoilers").ticker.stop()
            clock.now = FIRST + 7 * DAY + 1
            await wait_for(lambda: len(announcements(w)) == 2, "the next opening")
            assert other.get_cog("Spoilers").ticker.holding
            assert re.match(r"📺 \*\*Episode 2\*\*", announcements(w)[1])
        finally:
            await second.close()
