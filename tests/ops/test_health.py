"""The heartbeat and `lorebot health`: fresh and every shard ready is 0, anything else 1 with one line.

Through the fake Discord: before the bot is ready, while ready, after the gateway drops (and the
bot cannot get back), and once it has resumed."""

from __future__ import annotations

import asyncio
import json
import time

from bot.cli import main
from bot.health import check, write_atomic
from bot.service import ServiceOptions
from fakediscord import FakeDiscord
from tests.e2e.conftest import make_bot


def beat(path, **over):
    data = {
        "format": 1,
        "pid": 1,
        "time": time.time(),
        "shard_count": 1,
        "shards": {"0": True},
        "latency_ms": 41.5,
        "guilds": 2,
        "since": time.time() - 100,
        "never_ready": False,
        "stopped": False,
    }
    data.update(over)
    write_atomic(path, data)


def test_the_check_says_why_in_one_line(tmp_path):
    path = tmp_path / "hb"
    missing = check(path, 60)
    assert not missing.ok and "no heartbeat" in missing.line
    beat(path)
    ok = check(path, 60)
    assert ok.ok and ok.line.startswith("healthy: 1 of 1 shard(s) ready, gateway latency 42 ms")
    beat(path, time=time.time() - 300)
    stale = check(path, 60)
    assert not stale.ok and "300 s old" in stale.line and "limit 60 s" in stale.line
    beat(path, shard_count=3, shards={"0": True, "1": False, "2": True})
    part = check(path, 60)
    assert not part.ok and "shard(s) 1 not connected (2 of 3 ready)" in part.line
    beat(path, shard_count=4, shards={"2": True, "3": True})  # a cluster process holding 2 of 4 shards
    assert check(path, 60).line.startswith("healthy: 2 of 2 shard(s) ready")
    beat(path, shards={})
    assert not check(path, 60).ok
    beat(path, shards={"0": False})
    down = check(path, 60)
    assert not down.ok and "not connected to Discord for 100 s" in down.line
    beat(path, stopped=True)
    assert check(path, 60).line == "unhealthy: the bot has stopped"
    path.write_text("{not json", encoding="utf-8")
    assert not check(path, 60).ok
    for result in (missing, ok, stale, part, down):
        assert "\n" not in result.line


def _health(db, capsys) -> tuple[int, str]:
    status = main(["--db", str(db), "health"])
    return status, capsys.readouterr().out.strip()


async def _until(cond, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


async def test_health_before_ready_while_ready_and_after_the_gateway_drops(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("LOREBOT_HEARTBEAT_FILE", "LOREBOT_HEALTH_MAX_AGE"):
        monkeypatch.delenv(var, raising=False)
    db = tmp_path / "bot.sqlite3"
    hb = tmp_path / "bot.sqlite3-heartbeat"  # where `lorebot health` looks by default
    status, line = _health(db, capsys)
    assert status == 1 and "no heartbeat" in line

    async with FakeDiscord() as fake:
        fake.add_guild("Rouge Fans")
        bot = await make_bot(db, service=ServiceOptions(heartbeat_file=hb, heartbeat_interval=0.05))
        async with fake.running(bot):
            if not bot.is_ready():  # discord.py holds on_ready back until the guilds stop arriving
                status, line = _health(db, capsys)
                assert status == 1 and line.startswith("unhealthy: not connected to Discord yet")
                assert line.endswith("(0 of 1 shard(s) ready)")
            await _until(bot.is_ready, "the bot never became ready")
            await _until(lambda: json.loads(hb.read_text())["shards"] == {"0": True}, "no ready heartbeat")
            status, line = _health(db, capsys)
            assert status == 0, line
            assert line.startswith("healthy: 1 of 1 shard(s) ready")

            # The gateway drops, and the bot cannot get back (the fake answers neither RESUME nor IDENTIFY).
            async def ignore(conn, d):
                return None

            monkeypatch.setattr(fake, "_resume", ignore)
            monkeypatch.setattr(fake, "_identify", ignore)
            await fake.disconnect(code=4000, wait_resume=False)
            await _until(lambda: json.loads(hb.read_text())["shards"] == {"0": False}, "the drop was not noticed")
            await asyncio.sleep(0.1)  # the heartbeat keeps being written: fresh, but not ready
            status, line = _health(db, capsys)
            assert status == 1 and line.startswith("unhealthy: not connected to Discord for ")

            # The gateway comes back: the bot resumes and is healthy again.
            monkeypatch.undo()
            monkeypatch.chdir(tmp_path)
            resumes = fake.resume_count
            for conn in fake.connections:
                if not conn.closed:
                    await conn.close(code=4000)
            await _until(lambda: fake.resume_count > resumes, "the bot did not resume")
            await _until(lambda: json.loads(hb.read_text())["shards"] == {"0": True}, "no ready heartbeat again")
            assert _health(db, capsys)[0] == 0

        # A stopped bot is not healthy.
        status, line = _health(db, capsys)
        assert status == 1 and line == "unhealthy: the bot has stopped"


async def test_a_hung_bot_goes_stale(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hb = tmp_path / "hb.json"
    monkeypatch.setenv("LOREBOT_HEARTBEAT_FILE", str(hb))
    monkeypatch.setenv("LOREBOT_HEALTH_MAX_AGE", "0.3")
    async with FakeDiscord() as fake:
        fake.add_guild("Rouge Fans")
        bot = await make_bot(tmp_path / "b.sqlite3", service=ServiceOptions(heartbeat_file=hb, heartbeat_interval=0.05))
        async with fake.running(bot, wait_ready=True):
            await _until(lambda: check(hb, 0.3).ok, "never healthy")
            time.sleep(0.5)  # the event loop is stuck: no heartbeat is written
            status = main(["health"])
            line = capsys.readouterr().out.strip()
            assert status == 1 and line.startswith("unhealthy: the heartbeat is") and line.endswith("the bot is stuck")
