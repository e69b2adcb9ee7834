"""Several processes on one database: two bots (real processes, each with its own fake Discord)
and the CLI beside a running bot. Every acknowledged write is kept, and each process applies the
others' writes within a second (the change feed)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.spawn import BotProcess
from fakediscord import FakeGuild, FakeMember
from fakediscord.models import snowflake
from lore.service import LoreService
from tests.conftest import MINI_PACK
from tests.e2e.conftest import CrowdFake
from tests.e2e.procs import lorebot

APP = snowflake()


async def within(seconds: float, probe: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool]) -> float:
    """Ask ``probe`` until ``ok`` holds; returns how long that took (fails after ``seconds``)."""
    t0 = time.perf_counter()
    while True:
        result = await probe()
        if ok(result):
            return time.perf_counter() - t0
        assert time.perf_counter() - t0 < seconds, f"not seen within {seconds} s: {result}"
        await asyncio.sleep(0.02)


def world(fake: CrowdFake, guild_id: int, ids: dict[str, int]) -> tuple[FakeGuild, dict[str, FakeMember]]:
    guild = fake.add_guild("Rouge Fans", id=guild_id)
    users = {name: fake.add_user(name, id=uid) for name, uid in ids.items()}
    members = {
        name: fake.add_member(guild, user=user, manage_guild=name.startswith("admin")) for name, user in users.items()
    }
    return guild, members


async def test_two_bot_processes_on_one_database_lose_nothing_and_follow_each_other(tmp_path):
    db = tmp_path / "shared.sqlite3"
    gid = snowflake()
    ids = {"admin one": snowflake(), "admin two": snowflake(), "viewer": snowflake()}
    async with CrowdFake(application_id=APP) as f1, CrowdFake(application_id=APP) as f2:
        g1, m1 = world(f1, gid, ids)
        g2, m2 = world(f2, gid, ids)
        c1, c2 = g1.channels["general"], g2.channels["general"]
        one, two = (BotProcess(f, db, MINI_PACK, sync=True, identify_interval=0.05) for f in (f1, f2))
        try:
            one.start()
            two.start()  # at the same moment, on a database neither has created yet
            await asyncio.gather(one.connected(), two.connected())

            # both edit the same entry at once: every fact acknowledged with its own revision, all kept
            facts = [
                f.slash(
                    "lore-admin fact",
                    {"name": "mars", "text": f"Note {i} from process {n}.", "episode": 0},
                    user=m[f"admin {'one' if n == 1 else 'two'}"],
                    channel=c,
                )
                for i in range(10)
                for n, f, m, c in ((1, f1, m1, c1), (2, f2, m2, c2))
            ]
            replies = await asyncio.gather(*facts)
            assert all("Added a fact to **Mars**" in r.content for r in replies), [r.content for r in replies]
            numbers = sorted(int(r.content.rsplit("revision ", 1)[1].rstrip(").")) for r in replies)
            assert numbers == list(range(1, 21))

            # each applies the other's policy within a second
            await f1.slash("spoilers episode", {"number": 5}, user=m1["admin one"], channel=c1)
            seen = await within(
                1.0,
                lambda: f2.slash("spoilers status", user=m2["admin two"], channel=c2),
                lambda r: "up to episode 5 ·" in r.content,
            )
            await f2.slash("spoilers mode", {"mode": "hide"}, user=m2["admin two"], channel=c2)
            seen_back = await within(
                1.0,
                lambda: f1.slash("spoilers status", user=m1["admin one"], channel=c1),
                lambda r: "up to episode 5 · hide" in r.content,
            )
            await f1.slash("progress set", {"episode": 7}, user=m1["viewer"], channel=c1)
            await within(
                1.0,
                lambda: f2.slash("progress show", user=m2["viewer"], channel=c2),
                lambda r: "episode **7**" in r.content,
            )

            # an edit in one process: the other serves it, and its own next write keeps it
            form = await f2.slash("lore-admin edit", {"name": "mars"}, user=m2["admin two"], channel=c2)
            summary = next(i for i in form.modal.inputs if "Summary" in i["label"])
            saved = await f2.submit_modal(form, {summary["custom_id"]: "Edited in process two."})
            assert "Updated **Mars**" in saved.content
            await within(
                1.0,
                lambda: f1.slash("concept", {"name": "mars"}, user=m1["viewer"], channel=c1),
                lambda r: bool(r.embeds) and "Edited in process two." in (r.embeds[0].get("description") or ""),
            )
            last = await f1.slash(
                "lore-admin fact",
                {"name": "mars", "text": "The last word, from process one.", "episode": 0},
                user=m1["admin one"],
                channel=c1,
            )
            assert "revision 22" in last.content
            # a form opened before another process's change is refused, not saved over it
            stale = await f2.slash("lore-admin edit", {"name": "mars"}, user=m2["admin two"], channel=c2)
            await f1.slash(
                "lore-admin alias", {"name": "mars", "alias": "Red Frontier"}, user=m1["admin one"], channel=c1
            )
            field = next(i for i in stale.modal.inputs if "Summary" in i["label"])
            refused = await f2.submit_modal(stale, {field["custom_id"]: "A stale copy."})
            assert "changed while this form was open" in refused.content
        finally:
            statuses = [await one.stop(), await two.stop()]
            outputs = one.output() + two.output()
            one.close()
            two.close()
        assert statuses == [0, 0], outputs
        assert "Traceback" not in outputs, outputs
    assert seen < 1.0 and seen_back < 1.0
    async with await LoreService.open(db, canon_pack=MINI_PACK) as svc:
        mars = svc.get("mars", gid)
        texts = {f.text for f in mars.facts}
        assert {f"Note {i} from process {n}." for i in range(10) for n in (1, 2)} <= texts
        assert "The last word, from process one." in texts
        assert mars.summary == "Edited in process two."
        assert any(a.name == "Red Frontier" for a in mars.aliases)
        assert svc.server_setting(gid).episode == 5 and svc.progress(ids["viewer"]) == 7


def cli_pack(n: int) -> str:
    entries = [
        {"slug": f"cli-entry-{i}", "kind": "concept", "name": f"CLI Entry {i}", "summary": f"Imported aside, {i}."}
        for i in range(n)
    ]
    entries.append({"slug": "mars", "kind": "location", "name": "Mars", "summary": "Rewritten by the CLI."})
    return json.dumps({"pack": {"name": "cli"}, "entries": entries})


async def test_the_cli_beside_a_running_bot(crowd, tmp_path):
    w = crowd
    r = await w.fake.slash(
        "lore-admin fact", {"name": "mars", "text": "Before the import.", "episode": 0}, user=w.admin, channel=w.ch()
    )
    assert "revision 1" in r.content
    pack = tmp_path / "aside.json"
    pack.write_text(cli_pack(3000))
    status, out, err = await lorebot("--db", str(w.db), "import", str(pack), "--guild", str(w.guild.id))
    assert status == 0, err
    assert "3000 created, 1 updated" in out
    # the bot serves what the CLI wrote within a second, without a restart
    await within(
        1.0,
        lambda: w.fake.slash("concept", {"name": "CLI Entry 2999"}, user=w.viewer, channel=w.ch()),
        lambda r: bool(r.embeds) and r.embeds[0]["title"] == "CLI Entry 2999",
    )
    # and its next edit starts from the CLI's version, not from its own older copy
    r = await w.fake.slash(
        "lore-admin fact", {"name": "mars", "text": "After the import.", "episode": 0}, user=w.admin, channel=w.ch()
    )
    assert "revision 3" in r.content
    mars = w.bot.lore.get("mars", w.guild.id)
    assert mars.summary == "Rewritten by the CLI." and [f.text for f in mars.facts] == ["After the import."]
    # the canon too: an import into it reaches every server
    canon = tmp_path / "canon-extra.json"
    extra = {"slug": "aside-place", "kind": "location", "name": "Aside Place", "summary": "Added by the operator."}
    canon.write_text(json.dumps({"pack": {"name": "extra"}, "entries": [extra]}))
    status, _out, err = await lorebot("--db", str(w.db), "import", str(canon))
    assert status == 0, err
    await within(
        1.0,
        lambda: w.fake.slash("concept", {"name": "Aside Place"}, user=w.other_admin, channel=w.ch(guild=w.other)),
        lambda r: bool(r.embeds) and r.embeds[0]["title"] == "Aside Place",
    )
