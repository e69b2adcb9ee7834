"""Sharding: the bot shards as Discord recommends or as told, paces IDENTIFYs per bucket, and a
cluster of processes on one database paces together and syncs its commands once."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest

from bot.ratelimit import Limits
from bot.settings import load_settings
from bot.sharding import IdentifyPacer, ShardSpecError, buckets, check_plan, format_ids, parse_shard_ids
from fakediscord import FakeDiscord, FakeDiscordError
from fakediscord.shards import shard_of
from tests.conftest import MINI_PACK
from tests.e2e.conftest import make_bot

COUNT = 4


def guild_id_on(shard: int, count: int = COUNT, n: int = 0) -> int:
    """A snowflake whose guild lives on ``shard`` of ``count``."""
    return (((250_000 + n) * count + shard) << 22) | 12345


def add_guilds(fake: FakeDiscord, count: int = COUNT) -> dict[int, object]:
    guilds = {}
    for s in range(count):
        g = fake.add_guild(f"Shard {s} Fans", id=guild_id_on(s, count))
        assert shard_of(g.id, count) == s
        guilds[s] = g
    return guilds


def sessions_of(fake: FakeDiscord) -> dict[int, object]:
    return {sid: sess for sid, sess in fake.shards.by_shard.items()}


def delivered(session, event: str) -> list[dict]:
    return [p["d"] for p in session.buffer if p.get("t") == event]


# --------------------------------------------------------------------------- parsing and plans
def test_shard_ids_parse_ranges_and_lists():
    assert parse_shard_ids("0-3") == [0, 1, 2, 3]
    assert parse_shard_ids("4, 6-7,4") == [4, 6, 7]
    assert format_ids([0, 1, 2, 3, 6, 8, 9]) == "0-3,6,8-9"
    for bad in ("", "a", "3-1", "1-", "-2"):
        with pytest.raises(ShardSpecError):
            parse_shard_ids(bad)


def test_a_shard_plan_discord_would_refuse_is_a_sentence():
    with pytest.raises(ShardSpecError, match="need a shard count"):
        check_plan(None, [0, 1])
    with pytest.raises(ShardSpecError, match="out of range for 4"):
        check_plan(4, [3, 4])
    check_plan(4, [2, 3])
    check_plan(None, None)


def test_settings_read_shard_count_and_ids(monkeypatch):
    monkeypatch.setenv("LOREBOT_SHARD_COUNT", "4")
    monkeypatch.setenv("LOREBOT_SHARD_IDS", "2-3")
    s = load_settings()
    assert s.lorebot_shard_count == 4 and s.lorebot_shard_ids == [2, 3]
    monkeypatch.setenv("LOREBOT_SHARD_IDS", "")
    assert load_settings().lorebot_shard_ids is None
    monkeypatch.setenv("LOREBOT_SHARD_IDS", "3-5")
    with pytest.raises(ValueError, match="out of range"):
        load_settings()


def test_run_refuses_bad_shard_options(capsys):
    from bot.cli import main

    with pytest.raises(SystemExit) as e:
        main(["run", "--shard-ids", "x"])
    assert e.value.code == 2
    assert "not a list of shard ids" in capsys.readouterr().err


def test_buckets_follow_max_concurrency():
    assert buckets(range(4), 2) == {0: [0, 2], 1: [1, 3]}
    assert buckets([2, 3], 1) == {0: [2, 3]}


async def test_the_pacer_spaces_identifies_within_a_bucket_only():
    pacer = IdentifyPacer(2, interval=0.2)
    t0 = time.monotonic()
    stamps: dict[int, float] = {}

    async def go(sid):
        await pacer.wait(sid)
        stamps[sid] = time.monotonic() - t0

    await asyncio.gather(*(go(s) for s in range(4)))
    assert stamps[0] < 0.1 and stamps[1] < 0.1  # two buckets start together
    assert stamps[2] >= 0.19 and stamps[3] >= 0.19  # the next in each bucket waits its turn
    assert stamps[2] < 0.35 and stamps[3] < 0.35


# --------------------------------------------------------------------------- one sharded process
async def test_the_bot_shards_as_discord_recommends_and_serves_each_guild_on_its_shard(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="lorebot")
    async with FakeDiscord(shards=COUNT, max_concurrency=COUNT) as fake:
        guilds = add_guilds(fake)
        members = {s: fake.add_member(g, f"Viewer {s}") for s, g in guilds.items()}
        loner = fake.add_user("Loner")
        bot = await make_bot(tmp_path / "db.sqlite3", limits=Limits())
        async with fake.running(bot):
            assert bot.shard_count == COUNT and sorted(bot.shards) == [0, 1, 2, 3]
            sessions = sessions_of(fake)
            assert sorted(sessions) == [0, 1, 2, 3]
            for sid, session in sessions.items():
                assert session.identify["shard"] == [sid, COUNT]
                (ready,) = delivered(session, "READY")
                assert [int(g["id"]) for g in ready["guilds"]] == [guilds[sid].id]
                assert [int(g["id"]) for g in delivered(session, "GUILD_CREATE")] == [guilds[sid].id]
            for sid, g in guilds.items():
                assert bot.get_guild(g.id).shard_id == sid
                r = await fake.slash("character", {"name": "rouge"}, user=members[sid], channel=g.channels["general"])
                assert r.embeds[0]["title"] == "Rouge Redstar"
                (interaction,) = delivered(sessions[sid], "INTERACTION_CREATE")
                assert int(interaction["guild_id"]) == g.id
            dm = await fake.slash("character", {"name": "rouge"}, user=loner)
            assert dm.embeds[0]["title"] == "Rouge Redstar"
            assert delivered(sessions[0], "INTERACTION_CREATE")[-1]["channel"]["type"] == 1  # DMs on shard 0
        assert not fake.violations
    assert "this process holds shard(s) 0-3 of 4" in caplog.text


async def test_a_process_holding_some_shards_gets_only_their_guilds(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="lorebot")
    async with FakeDiscord(max_concurrency=COUNT) as fake:
        guilds = add_guilds(fake)
        viewer = fake.add_member(guilds[0], "Viewer")
        bot = await make_bot(tmp_path / "db.sqlite3", limits=Limits(), shard_count=COUNT, shard_ids=[2, 3])
        async with fake.running(bot):
            assert sorted(fake.shards.by_shard) == [2, 3]
            assert {g.id for g in bot.guilds} == {guilds[2].id, guilds[3].id}
            with pytest.raises(FakeDiscordError, match="no shard of the bot holds guild"):
                await fake.slash("character", {"name": "rouge"}, user=viewer, channel=guilds[0].channels["general"])
    assert "this process holds shard(s) 2-3 of 4" in caplog.text


async def test_identifies_are_paced_per_bucket_and_buckets_start_together(tmp_path):
    interval = 0.3
    async with FakeDiscord(shards=COUNT, max_concurrency=2, identify_interval=interval) as fake:
        add_guilds(fake)
        bot = await make_bot(tmp_path / "db.sqlite3", limits=Limits(), identify_interval=interval)
        async with fake.running(bot):
            pass
        assert not fake.violations
        times = {sid: t for t, sid, _ in fake.shards.identifies}
        assert abs(times[0] - times[1]) < interval / 2  # buckets 0 and 1 side by side
        assert times[2] - times[0] >= interval * 0.95 and times[3] - times[1] >= interval * 0.95
        assert max(times.values()) - min(times.values()) < 2 * interval  # not one after another


async def test_the_fake_fails_a_bot_that_identifies_too_fast(tmp_path):
    async with FakeDiscord(shards=2, max_concurrency=1, identify_interval=0.3) as fake:
        add_guilds(fake, 2)
        bot = await make_bot(tmp_path / "db.sqlite3", limits=Limits(), identify_interval=0)
        async with fake.running(bot, check_violations=False):
            pass
        rules = {v.rule for v in fake.take_violations()}
    assert "identify.pacing" in rules


async def test_an_unsharded_bot_in_too_many_guilds_is_refused():
    import discord

    async with FakeDiscord() as fake:
        fake.shards.sharding_required = 2  # Discord: 2,500
        add_guilds(fake, 3)
        client = discord.Client(intents=discord.Intents.none())
        with pytest.raises(FakeDiscordError):
            async with fake.running(client, timeout=3):
                pass
        assert fake.connections and fake.connections[0].closed_with == 4011


# --------------------------------------------------------------------------- a cluster in one test process
async def test_two_processes_on_one_database_pace_together_and_sync_once(tmp_path):
    interval = 0.25
    db = tmp_path / "cluster.sqlite3"
    async with FakeDiscord(max_concurrency=1, identify_interval=interval) as fake:
        guilds = add_guilds(fake)
        members = {s: fake.add_member(g, f"Viewer {s}") for s, g in guilds.items()}
        first = await _open_store(db)  # create the schema before both start, as an operator would
        await first.close()
        a = await make_bot(db, limits=Limits(), shard_count=COUNT, shard_ids=[0, 1], identify_interval=interval)
        b = await make_bot(db, limits=Limits(), shard_count=COUNT, shard_ids=[2, 3], identify_interval=interval)
        with fake.patch():
            tasks = [asyncio.create_task(bot.start("fake-token")) for bot in (a, b)]
            try:
                deadline = time.monotonic() + 10
                while not all(bot.get_guild(g.id) for bot, g in ((a, guilds[0]), (a, guilds[1]), (b, guilds[2]))):
                    assert time.monotonic() < deadline, "the cluster did not come up"
                    assert not any(t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
                    await asyncio.sleep(0.02)
                while b.get_guild(guilds[3].id) is None:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.02)
                assert a.get_guild(guilds[2].id) is None and b.get_guild(guilds[0].id) is None
                for s, g in guilds.items():
                    r = await fake.slash("character", {"name": "rouge"}, user=members[s], channel=g.channels["general"])
                    assert r.embeds[0]["title"] == "Rouge Redstar"
            finally:
                for bot in (a, b):
                    await bot.close()
                await asyncio.gather(*tasks, return_exceptions=True)
        assert not fake.violations, fake.violations
        times = sorted(t for t, _, _ in fake.shards.identifies)
        assert len(times) == COUNT
        assert all(later - earlier >= interval * 0.95 for earlier, later in itertools.pairwise(times))
        assert fake.global_sync_count == 1, "a cluster starting at once syncs its commands once"


async def _open_store(db):
    from lore.service import LoreService

    return await LoreService.open(db, canon_pack=MINI_PACK)
