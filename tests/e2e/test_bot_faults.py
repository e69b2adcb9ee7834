"""Faults seen through Discord: forged out-of-range values, a full disk, a busy database; and
faults at start-up of a real bot process (one sentence and status 1, never a traceback)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from bench.spawn import BotProcess
from fakediscord import FakeDiscord
from fakediscord.interactions import Resolved, base_payload, command_data, split_command_path
from tests.conftest import MINI_PACK
from tests.test_faults import _damage


async def forged(fake: FakeDiscord, command: str, options: dict[str, Any], forced: dict[str, Any], *, user, channel):
    """A command whose options carry values Discord itself would refuse (``forced``)."""
    path = split_command_path(command)
    cmd = fake.find_command(path[0], channel.guild)
    data, _ = command_data(cmd, options, path[1:], Resolved(user.permissions))

    def force(opts: list[dict[str, Any]]) -> None:
        for opt in opts:
            if opt["name"] in forced and "value" in opt:
                opt["value"] = forced[opt["name"]]
            force(opt.get("options", []))

    force(data.get("options", []))
    payload = base_payload(
        application_id=fake.application_id,
        itype=2,
        data=data,
        user=user,
        channel=channel,
        app_permissions=fake._app_permissions(channel),
    )
    return await fake.send_interaction(payload, actor=user, channel=channel)


@pytest.mark.parametrize(
    ("command", "options", "forced", "sentence"),
    [
        ("lore-admin fact", {"name": "mars", "text": "A note.", "episode": 1}, {"episode": 99}, "between 0 and 13"),
        ("lore-admin alias", {"name": "mars", "alias": "Red"}, {"alias": "R" * 300}, "1 to 100 characters"),
        ("lore-admin revert", {"name": "mars", "revision": 1}, {"revision": 10**20}, "between 0 and 1,000,000"),
        ("lore-admin fact", {"name": "mars", "text": "A note.", "episode": 1}, {"text": "x" * 3000}, "1 to 1000"),
        ("spoilers episode", {"number": 3}, {"number": 99}, "between 0 and 13"),
        ("progress set", {"episode": 3}, {"episode": -4}, "between 0 and 13"),
    ],
)
async def test_values_past_discords_own_checks_get_a_sentence_and_change_nothing(
    world, command, options, forced, sentence
):
    r = await forged(world.fake, command, options, forced, user=world.admin, channel=world.ch())
    assert r.ephemeral and sentence in r.content and "nothing" in r.content
    assert "Something went wrong" not in r.content and not r.errors
    lore = world.bot.lore
    assert (await lore.history(world.guild.id, "mars"))[0] == "canon"
    assert lore.server_setting(world.guild.id).episode is None and lore.progress(world.admin.id) is None


async def test_a_full_disk_during_an_import_is_a_sentence(world):
    writer = world.bot.lore.store._writer
    pages = (await writer.execute_fetchall("PRAGMA page_count"))[0][0]
    await writer.execute(f"PRAGMA max_page_count = {pages}")
    entries = [{"slug": f"e{i}", "kind": "concept", "name": f"E {i}", "summary": "x" * 1500} for i in range(200)]
    att = world.fake.attachment("big.json", json.dumps({"pack": {"name": "big"}, "entries": entries}).encode())
    r = await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    assert r.ephemeral and "The disk holding the lore database is full; nothing was changed." in r.content
    await writer.execute("PRAGMA max_page_count = 1073741823")
    export = await world.fake.slash("lore-admin export", user=world.admin, channel=world.ch())
    assert "(0 entries)" in export.content


async def test_a_database_busy_beyond_the_timeout_is_a_sentence(world):
    await world.bot.lore.store._writer.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(world.db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process is writing and does not finish
        r = await world.fake.slash("progress set", {"episode": 4}, user=world.viewer, channel=world.ch())
        assert r.ephemeral and "busy with another process's write; nothing was changed" in r.content
    finally:
        other.execute("ROLLBACK")
        other.close()
    r = await world.fake.slash("progress set", {"episode": 4}, user=world.viewer, channel=world.ch())
    assert "episode **4**" in r.content


async def _start_fails(tmp_path, db, pack) -> str:
    async with FakeDiscord() as fake:
        fake.add_guild("Rouge Fans")
        proc = BotProcess(fake, db, pack, sync=False, identify_interval=0.05)
        proc.start()
        try:
            status = await proc.exited()
            output = proc.output()
        finally:
            proc.close()
    assert status == 1, output
    assert "Traceback" not in output, output
    return output


async def test_a_new_database_without_its_canon_pack_refuses_to_start(tmp_path):
    out = await _start_fails(tmp_path, tmp_path / "new.sqlite3", tmp_path / "missing-canon.yaml")
    assert "lorebot: the canon pack" in out and "is missing and the database holds no canon yet" in out


async def test_a_damaged_canon_pack_refuses_to_start_naming_the_file(tmp_path):
    pack = tmp_path / "canon.yaml"
    pack.write_text("pack: {name: canon, version: 4}\nentries:\n  - {slug: mars, kind: planet, name: Mars}\n  - [\n")
    out = await _start_fails(tmp_path, tmp_path / "new.sqlite3", pack)
    assert f"the canon pack {pack} is damaged" in out and "invalid YAML at line" in out


async def test_a_damaged_database_refuses_to_start(tmp_path):
    from lore.service import LoreService

    db = tmp_path / "lore.sqlite3"
    await (await LoreService.open(db, canon_pack=MINI_PACK)).close()
    _damage(db)
    out = await _start_fails(tmp_path, db, MINI_PACK)
    assert "is damaged" in out and "lorebot db check" in out and "(check LOREBOT_DB)" in out
