"""A cluster end to end: two ``lorebot run`` processes holding two shards each of four, one
database, the fake Discord. Each guild is served by its shard's process; a user's progress, an
operator's import and admins' changes reach every process; ``kill -9`` of one leaves the other
serving, and the killed one restarted serves its shards again; commands are synced once."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from fakediscord import FakeDiscord, NoResponse
from fakediscord.shards import shard_of
from tests.cluster.harness import Cluster

COUNT = 4


def guild_id_on(shard: int, n: int = 0) -> int:
    return (((300_000 + n) * COUNT + shard) << 22) | 777


def footer(r) -> str:
    return r.embeds[0]["footer"]["text"]


async def until(fn, timeout: float, what: str):
    """Call ``fn`` (an async check returning a value or None) until it gives a value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fn()
        if value is not None:
            return value
        assert time.monotonic() < deadline, what


IMPORT_PACK = {
    "pack": {"name": "operator-additions", "version": 1, "sources": [{"id": "ops"}]},
    "entries": [
        {
            "slug": "cluster-canal-regular",
            "kind": "character",
            "name": "Cluster Canal Regular",
            "introduced": 0,
            "summary": "Sits by the stage of Club Canal every night.",
            "facts": [{"text": "Added by the operator while the cluster ran.", "episode": 0, "source": "ops"}],
        }
    ],
}


@pytest.fixture
def cluster_db(pg_url):
    """One PostgreSQL database for the whole cluster (two processes on one SQLite file are
    covered by the write-path tests; a cluster across hosts needs PostgreSQL)."""
    return pg_url


async def test_a_cluster_of_two_processes_serves_each_guild_on_its_shard_and_stays_coherent(tmp_path, cluster_db):
    async with FakeDiscord(max_concurrency=COUNT, timeout=5.0) as fake:
        guilds = {s: fake.add_guild(f"Shard {s} Fans", id=guild_id_on(s)) for s in range(COUNT)}
        assert all(shard_of(g.id, COUNT) == s for s, g in guilds.items())
        ga, gb = guilds[0], guilds[2]  # held by process A (shards 0-1) and B (shards 2-3)
        viewer_a = fake.add_member(ga, "Traveller")
        viewer_b = fake.add_member(gb, user=viewer_a.user)
        admin_b = fake.add_member(gb, "Admin B", manage_guild=True)
        members = {s: fake.add_member(g, f"Viewer {s}") for s, g in guilds.items()}
        cluster = Cluster(fake, cluster_db, tmp_path, COUNT)
        try:
            made = cluster.cli("db", "upgrade")  # the operator prepares the database once
            assert made.returncode == 0, made.stderr
            a = cluster.start("a", [0, 1])
            b = cluster.start("b", [2, 3])
            await cluster.wait_shards(a)
            await cluster.wait_shards(b)

            # each guild is answered, on its own shard's connection
            for s, g in guilds.items():
                r = await fake.slash("character", {"name": "rouge"}, user=members[s], channel=g.channels["general"])
                assert r.embeds and r.embeds[0]["title"] == "Rouge Redstar", (r.text, a.output()[-2000:])
                sent = [p["d"] for p in fake.shards.by_shard[s].buffer if p.get("t") == "INTERACTION_CREATE"]
                assert int(sent[-1]["guild_id"]) == g.id
            assert "holds shard(s) 0-1 of 4" in a.output() and "holds shard(s) 2-3 of 4" in b.output()

            # a user's progress set through A reaches B's private replies within a second
            before = await fake.slash(
                "character", {"name": "rouge", "private": True}, user=viewer_b, channel=gb.channels["general"]
            )
            assert "episode 5" not in footer(before)
            await fake.slash("progress set", {"episode": 5}, user=viewer_a, channel=ga.channels["general"])
            set_at = time.monotonic()

            async def b_sees_progress():
                r = await fake.slash(
                    "character", {"name": "rouge", "private": True}, user=viewer_b, channel=gb.channels["general"]
                )
                return time.monotonic() if "up to episode 5" in footer(r) else None

            seen_at = await until(b_sees_progress, 5, "B never saw the progress set through A")
            assert seen_at - set_at < 1.5  # within a second, plus this reply's own round trip

            # an admin's /spoilers change through B applies wherever that guild's data is read
            await fake.slash("spoilers episode", {"number": 7}, user=admin_b, channel=gb.channels["general"])
            r = await fake.slash("character", {"name": "rouge"}, user=members[2], channel=gb.channels["general"])
            assert "up to episode 7" in footer(r)
            asked = cluster.cli("ask", "rouge", "--guild", str(gb.id), "--json")
            assert asked.returncode == 0, asked.stderr
            assert json.loads(asked.stdout)["match"]["policy"]["episode"] == 7

            # a schedule set through B opens episode 8 in exactly one process of the cluster, once
            opening = datetime.now(UTC) + timedelta(seconds=3)
            started = await fake.slash(
                "spoilers schedule start",
                {"start": opening.isoformat(timespec="seconds"), "every": 1, "announce": gb.channels["general"]},
                user=admin_b,
                channel=gb.channels["general"],
            )
            assert "Schedule set for this server" in started.content and "episode 8 opens" in started.content

            def announced() -> list[str]:
                return [m.content for m in fake.channel_messages(gb.channels["general"]) if "discussion" in m.content]

            async def any_announced() -> list[str] | None:
                await asyncio.sleep(0.05)  # the fake serves the processes' requests meanwhile
                return announced() or None

            await until(any_announced, 10, "the schedule never opened episode 8")
            await asyncio.sleep(1.0)  # five more rounds of each process
            assert len(announced()) == 1 and announced()[0].startswith("📺 **Episode 8** is open for discussion.")
            ticked = [p.name for p in (a, b) if "episode 8 opened" in p.output()]
            assert len(ticked) == 1, ticked
            r = await fake.slash("character", {"name": "rouge"}, user=members[2], channel=gb.channels["general"])
            assert "up to episode 8" in footer(r)

            # an operator's import beside the cluster reaches both processes
            pack = tmp_path / "additions.yaml"
            pack.write_text(yaml.safe_dump(IMPORT_PACK), encoding="utf-8")
            imported = cluster.cli("import", str(pack))
            assert imported.returncode == 0, imported.stderr
            for s in (0, 2):

                async def found(s=s):
                    r = await fake.slash(
                        "character",
                        {"name": "cluster canal regular"},
                        user=members[s],
                        channel=guilds[s].channels["general"],
                    )
                    return r if r.embeds and r.embeds[0]["title"] == "Cluster Canal Regular" else None

                await until(found, 5, f"the import did not reach the process of shard {s}")

            # kill -9 of B: A keeps serving its shards; B's guilds go unanswered
            cluster.kill("b")
            r = await fake.slash("character", {"name": "rouge"}, user=members[1], channel=guilds[1].channels["general"])
            assert r.embeds[0]["title"] == "Rouge Redstar"
            with pytest.raises(NoResponse):
                await fake.slash(
                    "character", {"name": "rouge"}, user=members[3], channel=guilds[3].channels["general"], timeout=1
                )

            # B restarted serves its shards again, with what was written before
            b2 = cluster.start("b", [2, 3])
            await cluster.wait_shards(b2, timeout=30)
            r = await fake.slash("character", {"name": "rouge"}, user=members[2], channel=gb.channels["general"])
            assert "up to episode 8" in footer(r)
            r = await fake.slash(
                "character", {"name": "rouge", "private": True}, user=viewer_b, channel=gb.channels["general"]
            )
            assert "up to episode 5" in footer(r)
            assert a.alive()
        finally:
            cluster.stop_all()
        assert fake.global_sync_count == 1, "the cluster synced its commands once (both starts, and the restart)"
        violations = fake.take_violations()
        assert not violations, violations  # IDENTIFY pacing included: B restarted waits for its buckets
