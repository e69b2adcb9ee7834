"""The counterfactual property for a server's spoiler schedules: what ``/spoilers schedule show``
and ``/spoilers status`` answer (and what setting each schedule answered) under a policy (E, mode)
is what they answer in the visible world at E, whatever schedules, pauses and channel episodes
the server has."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lore.packs import CANON_PACK_PATH
from lore.spoilers import Mode, Policy
from tests.counterfactual.harness import EPISODES, MODES, ScheduleSetup, assert_same, fresh_guild, schedule_surfaces

pytestmark = pytest.mark.skipif(not CANON_PACK_PATH.exists(), reason="canon pack not present")

#: Generated servers per (episode, mode).
EXAMPLES = 20
#: 2026-01-01 00:00 UTC: every schedule's first opening is somewhere in the year after it.
YEAR = 1_767_225_600.0


def setups(last: int) -> st.SearchStrategy[ScheduleSetup]:
    channel = st.tuples(st.none() | st.integers(0, last), st.booleans(), st.booleans())
    return st.builds(
        ScheduleSetup,
        anchor=st.floats(YEAR, YEAR + 365 * 86400).map(round).map(float),
        every_days=st.integers(1, 365),
        zone=st.sampled_from(["UTC", "+02:00", "Europe/Paris", "Asia/Tokyo"]),
        server=st.booleans(),
        paused=st.booleans(),
        announce=st.booleans(),
        channels=st.lists(channel, max_size=10).map(tuple),
    )


def check(worlds, episode: int, mode: Mode, setup: ScheduleSetup) -> None:
    w, loop = worlds
    policy = Policy(episode, mode)
    guild = fresh_guild()
    real = loop.run_until_complete(schedule_surfaces(w.real, policy, guild, setup))
    visible = loop.run_until_complete(schedule_surfaces(w.visible[episode], policy, guild, setup))
    assert_same(real, visible, mode, f"schedules {setup} at episode {episode}, {mode.value}")


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("episode", EPISODES)
def test_schedule_show_and_status_are_the_visible_worlds(worlds, episode, mode):
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(setup=setups(worlds[0].real.franchise.last))
    def run(setup: ScheduleSetup) -> None:
        check(worlds, episode, mode, setup)

    run()


def test_the_replies_say_what_the_server_has(worlds):
    """The property compares real replies: a paused server schedule, a channel's own schedule past
    the server's, more channels than the list shows."""
    w, loop = worlds
    last = w.real.franchise.last
    setup = ScheduleSetup(YEAR, 7, "UTC", True, True, True, ((5, True, False),) + ((None, True, False),) * 8)
    out = loop.run_until_complete(schedule_surfaces(w.real, Policy(3, Mode.TAG), fresh_guild(), setup))
    show, status = out["schedule show"], out["status"]
    assert show.startswith("**Spoiler schedules**\n**This server**: **paused** at episode 3")
    assert f"episode 6 opens <t:{int(YEAR)}:F>" in show and f"until episode {last}" in show
    assert show.endswith("… and 2 more channel schedule(s).")  # 10 schedules, 8 listed
    assert "**In force in this channel:** up to episode 3 · tag" in status
    assert "**Schedule:** paused" in status and "**Channel schedules:** 9" in status


def test_a_planted_schedule_oracle_is_caught(worlds, monkeypatch):
    """The comparison can fail: name the title of the finale (read without the policy) in the
    schedule list, as a careless "what opens last" line would, and the visible world differs."""
    from bot.cogs import spoilers

    original = spoilers.schedule_show_text

    async def leaky(lore, schedules, guild_id):
        last = lore.franchise.last
        finale = lore.episode(last, Policy(last, Mode.SHOW), guild_id)
        return await original(lore, schedules, guild_id) + f"\nThe last episode: {finale.title}"

    monkeypatch.setattr(spoilers, "schedule_show_text", leaky)
    setup = ScheduleSetup(YEAR, 7, "UTC", True, False, False)
    with pytest.raises(AssertionError, match="depends on later lore"):
        check(worlds, 3, Mode.HIDE, setup)
