"""Rate limits: the /search cooldown and the per-user token bucket (autocomplete too) under a burst
from one user while another is served normally; the "Slow down…" choice is refused on submit; the
query-length cap; defaults that never refuse ordinary use; one setting switches everything off."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from bot.app import LoreBot
from bot.ratelimit import SLOW_DOWN, SLOW_DOWN_LABEL, Limits, TokenBucket, parse_cooldown
from bot.settings import load_settings
from fakediscord import FakeDiscord
from lore import LoreService
from tests.conftest import MINI_PACK
from tests.e2e.conftest import World, make_bot


@pytest.fixture
async def limited(tmp_path):
    """The e2e world with the default limits on (as `lorebot run` has them)."""
    db = tmp_path / "limits.sqlite3"
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Rouge Fans", channels=["general"])
        other = fake.add_guild("Other Server", channels=["general"])
        bot = await make_bot(db, limits=Limits())
        w = World(
            fake=fake,
            bot=bot,
            guild=guild,
            other=other,
            admin=fake.add_member(guild, "Admin", manage_guild=True),
            viewer=fake.add_member(guild, "Spammer"),
            viewer2=fake.add_member(guild, "Neighbour"),
            other_admin=fake.add_member(other, "Other Admin", manage_guild=True),
            db=db,
        )
        async with fake.running(bot):
            yield w


def slowed(result) -> bool:
    return result.ephemeral and result.content.startswith("Slow down a little: try again in ")


async def test_a_burst_of_searches_meets_the_cooldown_while_a_neighbour_is_served(limited):
    w = limited
    burst = [w.fake.slash("search", {"text": "rouge"}, user=w.viewer, channel=w.ch()) for _ in range(20)]
    neighbour = [w.fake.slash("search", {"text": "naomi"}, user=w.viewer2, channel=w.ch()) for _ in range(3)]
    results = await asyncio.gather(*burst, *neighbour)
    mine, theirs = results[:20], results[20:]
    served = [r for r in mine if r.embeds]
    assert len(served) == 6  # the default: 6 searches per 30 s per member and server
    assert all(slowed(r) for r in mine if not r.embeds)
    assert all(r.embeds and not slowed(r) for r in theirs)
    # The cooldown is per server: the same person elsewhere is not slowed by it.
    there = w.fake.add_member(w.other, user=w.viewer.user)
    elsewhere = await w.fake.slash("search", {"text": "rouge"}, user=there, channel=w.ch(guild=w.other))
    assert elsewhere.embeds


async def test_an_autocomplete_flood_gets_one_neutral_choice_and_the_neighbour_is_served(limited):
    w = limited
    flood = [
        w.fake.autocomplete("character", {"name": "ro"}, focused="name", user=w.viewer, channel=w.ch())
        for _ in range(60)
    ]
    calm = [
        w.fake.autocomplete("character", {"name": "na"}, focused="name", user=w.viewer2, channel=w.ch())
        for _ in range(5)
    ]
    started = time.monotonic()
    results = await asyncio.gather(*flood, *calm)
    elapsed = time.monotonic() - started
    mine, theirs = results[:60], results[60:]
    slowed_down = [c for c in mine if c.values == [SLOW_DOWN]]
    # The bucket's 30, plus what refilled while the flood was served (10 a second by default).
    refilled = math.ceil(elapsed * w.bot.limits.per_second)
    assert 20 <= len(mine) - len(slowed_down) <= 30 + refilled
    assert slowed_down and all(c.names == [SLOW_DOWN_LABEL] for c in slowed_down)
    assert all(c.values != [SLOW_DOWN] and "naomi-orthmann" in c.values for c in theirs)
    # Over the limit, commands are slowed as well, with the same sentence.
    commands = await asyncio.gather(
        *(w.fake.slash("character", {"name": "rouge"}, user=w.viewer, channel=w.ch()) for _ in range(40))
    )
    assert any(slowed(r) for r in commands)
    assert all(slowed(r) or r.embeds[0]["title"] == "Rouge Redstar" for r in commands)
    # The placeholder is never taken for a name, over the limit or not.
    for who in (w.viewer, w.viewer2):
        r = await w.fake.slash("character", {"name": SLOW_DOWN}, user=who, channel=w.ch())
        assert r.ephemeral and r.content == "Type a name, or pick one of the suggestions."


async def test_queries_longer_than_the_cap_are_refused_with_a_sentence(limited):
    w = limited
    long = "rouge " * 30
    r = await w.fake.slash("lore", {"query": long}, user=w.viewer2, channel=w.ch())
    assert r.ephemeral and "too long to look up (at most 100 characters)" in r.content
    choices = await w.fake.autocomplete("lore", {"query": long}, focused="query", user=w.viewer2, channel=w.ch())
    assert choices.names == ["Type at most 100 characters"]
    r = await w.fake.slash("lore", {"query": "rouge"}, user=w.viewer2, channel=w.ch())
    assert r.embeds[0]["title"] == "Rouge Redstar"


def test_typing_speed_and_an_admins_burst_of_edits_are_never_refused():
    limits = Limits()
    now = 0.0
    for _ in range(60 * 8):  # a minute of autocomplete at 8 keystrokes a second
        now += 1 / 8
        assert limits.bucket.take("typist", now) == 0.0
    for _ in range(30):  # thirty quick edits in one go
        assert limits.bucket.take("admin", now) == 0.0
    assert limits.bucket.take("admin", now) > 0  # the 31st at the same instant waits
    assert limits.bucket.take("admin", now + 0.1) == 0.0  # a tenth of a second later it is served


def test_the_bucket_forgets_idle_users():
    bucket = TokenBucket(5, 10.0, prune_at=100)
    for user in range(150):
        bucket.take(user, now=float(user))
    assert len(bucket) <= 101


async def test_one_setting_switches_every_limit_off(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOREBOT_LIMITS", "off")
    settings = load_settings()
    async with await LoreService.open(":memory:", canon_pack=MINI_PACK) as lore:
        bot = LoreBot.from_settings(settings, lore)
        assert not bot.limits.enabled and not bot.quotas.enabled and not lore.quotas.enabled
        assert bot.limits.cooldown("search") is None and not bot.limits.too_long("x" * 10_000)
        monkeypatch.setenv("LOREBOT_LIMITS", "on")
        monkeypatch.setenv("LOREBOT_COOLDOWN_SEARCH", "2/10")
        monkeypatch.setenv("LOREBOT_QUOTA_ENTRIES", "50")
        bot = LoreBot.from_settings(load_settings(), lore)
        assert bot.limits.cooldown("search").rate == 2 and bot.limits.cooldown("search").per == 10
        assert bot.quotas.entries == 50 and lore.quotas.entries == 50


def test_cooldown_settings_parse():
    assert parse_cooldown("6/30") == (6, 30.0)
    assert parse_cooldown("off") is None and parse_cooldown("0") is None
    for bad in ("often", "6", "0/10", "3/0", "a/b"):
        with pytest.raises(ValueError, match="USES/SECONDS"):
            parse_cooldown(bad)
