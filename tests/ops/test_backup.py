"""`lorebot db backup` / `db restore`: a consistent copy while the bot writes; a restore into a fresh
path gives back every scope, revision, setting, override and progress; a restore refuses while a
bot holds the database, checks the backup first, and is all or nothing."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
import yaml

from bot.cli import main
from lore.backup import BackupError, backup, restore
from lore.service import LoreService
from lore.spoilers import Mode
from tests.conftest import MINI_PACK

GUILDS = (111, 222)
USERS = (7001, 7002, 7003)


async def state(svc: LoreService, guilds: tuple[int, ...] = GUILDS) -> dict:
    """Everything a backup must carry, read through the service: exports of every scope, the
    history of every entry of every server, server settings, channel overrides and progress."""
    out: dict = {"canon": svc.export(None, "json")}
    rows = await svc.store.fetchall("SELECT DISTINCT scope FROM entries WHERE scope != 'canon'", ())
    for scope in sorted(row[0] for row in rows):
        gid = int(scope.split(":")[1])
        out[scope] = svc.export(gid, "json")
        slugs = [e["slug"] for e in yaml.safe_load(out[scope])["entries"]]
        out[f"{scope} history"] = {slug: (await svc.history(gid, slug))[1] for slug in slugs}
    for gid in guilds:
        out[f"setting {gid}"] = svc.server_setting(gid)
        out[f"overrides {gid}"] = svc.channel_overrides(gid)
    out["progress"] = {u: svc.progress(u) for u in USERS}
    return out


async def state_of(path, guilds: tuple[int, ...] = GUILDS) -> dict:
    async with await LoreService.open(path, canon_pack=None) as svc:
        return await state(svc, guilds)


def pack(i: int) -> bytes:
    """Two entries that one import writes in one transaction, both carrying the counter ``i``."""
    entries = [
        {"slug": f"pair-{k}", "kind": "concept", "name": f"Pair {k}", "summary": f"Written together at step {i}."}
        for k in ("a", "b")
    ]
    return yaml.safe_dump({"pack": {"name": "pair"}, "entries": entries}).encode()


async def test_backup_while_the_bot_writes_then_restore_into_a_fresh_path(world, tmp_path):
    lore = world.bot.lore
    g = world.guild.id
    guilds = (g, world.other.id)
    states: list[dict] = [await state(lore, guilds)]
    stop = asyncio.Event()

    async def writer() -> None:
        i = 0
        while not stop.is_set() and i < 400:
            i += 1
            for write in (
                lore.import_pack(pack(i), guild_id=g, author="writer", filename="pair.yaml"),
                lore.add_fact(g, "rouge-redstar", f"Step {i} happened.", i % 14, "writer"),
                lore.set_policy(g, episode=i % 14, mode=(Mode.HIDE, Mode.TAG, Mode.SHOW)[i % 3]),
                lore.set_policy(g, channel_id=world.ch("finale").id, episode=(i + 5) % 14),
                lore.set_progress(USERS[i % 3], i % 14),
            ):
                await write
                states.append(await state(lore, guilds))  # one state per committed transaction
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    copies = []
    for n in range(3):
        await asyncio.sleep(0.05)
        written, summary = await asyncio.to_thread(backup, world.db, tmp_path / f"during-{n}.sqlite3")
        copies.append(written)
        assert summary.entries > 0
    stop.set()
    await task
    assert len(states) > 3, "the writer should have been writing while the backups ran"

    for n, copy in enumerate(copies):
        fresh = tmp_path / f"fresh-{n}" / "lore.sqlite3"
        restore(copy, fresh)
        got = await state_of(fresh, guilds)
        # consistent: exactly the state after some write, never half of one
        assert got in states, f"backup {n} is not a state the database was ever in"
        pair = yaml.safe_load(got.get(f"guild:{g}", "entries: []"))["entries"]
        summaries = {e["summary"] for e in pair if e["slug"].startswith("pair-")}
        assert len(summaries) <= 1

    # After the writes: the backup restored into a fresh path matches, export for export.
    final = tmp_path / "final.sqlite3"
    assert main(["--db", str(world.db), "db", "backup", str(final)]) == 0
    fresh = tmp_path / "restored" / "lore.sqlite3"
    assert main(["--db", str(fresh), "db", "restore", str(final)]) == 0
    live = await state(lore, guilds)
    restored = await state_of(fresh, guilds)
    assert restored == live
    assert restored["progress"] == {u: live["progress"][u] for u in USERS} and any(restored["progress"].values())
    assert restored[f"overrides {g}"] and restored[f"setting {g}"].mode is not None


async def test_restore_refuses_while_the_bot_holds_the_database(world, tmp_path, capsys):
    copy, _ = backup(world.db, tmp_path / "copy.sqlite3")
    await world.bot.lore.set_progress(USERS[0], 5)
    before = await state(world.bot.lore)
    with pytest.raises(BackupError, match="a lorebot process is using"):
        restore(copy, world.db)
    capsys.readouterr()
    assert main(["--db", str(world.db), "db", "restore", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "stop the bot" in err and "Traceback" not in err
    assert await state(world.bot.lore) == before
    assert world.bot.lore.progress(USERS[0]) == 5
    r = await world.fake.slash("character", {"name": "rouge"}, user=world.viewer, channel=world.ch())
    assert r.embeds[0]["title"] == "Rouge Redstar"  # the bot never noticed


async def test_restore_checks_the_backup_first_and_changes_nothing_when_it_is_bad(tmp_path, capsys):
    db = tmp_path / "lore.sqlite3"
    mini = await LoreService.open(db, canon_pack=MINI_PACK)
    await mini.set_progress(USERS[0], 4)
    await mini.close()
    original = await state_of(db)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for bad, why in (
        (junk, "not a usable SQLite database"),
        (other, "not a lorebot database"),
        (tmp_path / "none", "no backup"),
    ):
        with pytest.raises(BackupError, match=why):
            restore(bad, db)
    assert main(["--db", str(db), "db", "restore", str(junk)]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert await state_of(db) == original
    assert not list(tmp_path.glob(".*restoring*")) and not (tmp_path / "lore.sqlite3.before-restore").exists()


async def test_restore_over_an_existing_database_keeps_the_previous_one(tmp_path, capsys):
    db = tmp_path / "lore.sqlite3"
    mini = await LoreService.open(db, canon_pack=MINI_PACK)
    await mini.set_progress(USERS[0], 4)
    copy, _ = backup(db, tmp_path)  # a folder: a time-stamped file in it
    assert copy.parent == tmp_path and copy.name.startswith("lorebot-")
    await mini.set_progress(USERS[0], 9)
    await mini.import_pack(pack(1), guild_id=GUILDS[0], author="t")
    await mini.close()
    assert main(["--db", str(db), "db", "restore", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "Restored" in out and "before-restore" in out
    back = await state_of(db)
    assert back["progress"][USERS[0]] == 4 and f"guild:{GUILDS[0]}" not in back
    kept = await state_of(tmp_path / "lore.sqlite3.before-restore")
    assert kept["progress"][USERS[0]] == 9 and f"guild:{GUILDS[0]}" in kept


def test_backup_of_a_missing_database_is_a_sentence(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "none.sqlite3"), "db", "backup", str(tmp_path / "b.sqlite3")]) == 1
    assert "no lore database" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite3").exists()


def test_backup_and_restore_on_postgresql_name_the_tools_to_use(tmp_path, capsys):
    url = "postgresql://lorebot:s3cret-pass@db.invalid:5432/lorebot"
    assert main(["--db", url, "db", "backup", str(tmp_path / "b.sqlite3")]) == 1
    err = capsys.readouterr().err
    assert "pg_dump -Fc" in err and "s3cret-pass" not in err
    assert main(["--db", url, "db", "restore", str(tmp_path / "b.sqlite3")]) == 1
    err = capsys.readouterr().err
    assert "pg_restore" in err and "s3cret-pass" not in err
    assert not list(tmp_path.iterdir())
