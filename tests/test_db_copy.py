"""``lorebot db copy``: SQLite to PostgreSQL and back, whole or not at all, verified by exports."""

from __future__ import annotations

import pytest

from lore.copy import CopyError, copy_database
from lore.service import LoreService
from lore.spoilers import Mode
from tests.conftest import MINI_PACK


async def _fill(target: str) -> LoreService:
    svc = await LoreService.open(target, canon_pack=MINI_PACK)
    await svc.add_fact(3, "mars", "A server's own note.", 2, "admin")
    await svc.add_alias(3, "mars", "The Red One", "admin")
    await svc.set_policy(3, episode=6, mode=Mode.HIDE)
    await svc.set_progress(42, 9)
    return svc


async def test_sqlite_to_postgresql_and_back_keeps_every_scope_setting_and_progress(tmp_path, pg_url):
    source = str(tmp_path / "source.sqlite3")
    svc = await _fill(source)
    before = (
        svc.export(None),
        svc.export(3),
        svc.policy(3),
        svc.progress(42),
        await svc.store.history("guild:3", "mars"),
    )
    await svc.close()

    report = await copy_database(source, pg_url)
    assert report.rows["entries"] > 0 and report.rows["guild_settings"] == 1 and report.rows["user_progress"] == 1
    pg = await LoreService.open(pg_url, canon_pack=None)
    try:
        assert (pg.export(None), pg.export(3), pg.policy(3), pg.progress(42)) == before[:4]
        assert [(r.number, r.action) for r in await pg.store.history("guild:3", "mars")] == [
            (r.number, r.action) for r in before[4]
        ]
        assert (await pg.search_text("own note", pg.policy(3), 3)).hits  # the search text came along
        await pg.add_fact(3, "mars", "Written after the move.", 0, "admin")  # ids continue past the copied ones
    finally:
        await pg.close()

    back = str(tmp_path / "back.sqlite3")
    await copy_database(pg_url, back)
    again = await LoreService.open(back, canon_pack=None)
    try:
        assert again.export(None) == before[0]
        assert "Written after the move." in again.export(3)
        assert (again.policy(3), again.progress(42)) == before[2:4]
    finally:
        await again.close()


async def test_a_copy_into_a_filled_database_is_refused_and_changes_nothing(tmp_path, pg_url):
    source = str(tmp_path / "source.sqlite3")
    await (await _fill(source)).close()
    other = await LoreService.open(pg_url, canon_pack=MINI_PACK)
    await other.set_progress(7, 1)
    exported = other.export(None)
    await other.close()
    with pytest.raises(CopyError, match="already holds lore"):
        await copy_database(source, pg_url)
    pg = await LoreService.open(pg_url, canon_pack=None)
    try:
        assert pg.export(None) == exported and pg.progress(7) == 1 and pg.progress(42) is None
    finally:
        await pg.close()


async def test_a_missing_source_or_the_same_database_is_a_sentence(tmp_path):
    with pytest.raises(CopyError, match="no lore database"):
        await copy_database(str(tmp_path / "nope.sqlite3"), str(tmp_path / "new.sqlite3"))
    assert not (tmp_path / "new.sqlite3").exists()
    with pytest.raises(CopyError, match="same database"):
        await copy_database(str(tmp_path / "a.sqlite3"), f"sqlite:///{tmp_path / 'a.sqlite3'}")


async def test_a_copy_that_does_not_verify_is_removed(tmp_path, monkeypatch):
    import lore.copy as copy_module

    source = str(tmp_path / "source.sqlite3")
    await (await _fill(source)).close()
    target = str(tmp_path / "target.sqlite3")
    real = copy_module.TABLES
    monkeypatch.setattr(copy_module, "TABLES", [t for t in real if t[0] != "user_progress"])  # a copy that loses rows

    async def verify_all(src, dst):
        monkeypatch.setattr(copy_module, "TABLES", real)
        await real_verify(src, dst)

    real_verify = copy_module.verify
    monkeypatch.setattr(copy_module, "verify", verify_all)
    with pytest.raises(CopyError, match="did not verify"):
        await copy_database(source, target)
    left = await LoreService.open(target, canon_pack=None)
    try:
        assert left.entries() == [] and left.progress(42) is None
    finally:
        await left.close()


async def test_the_cli_copies_checks_and_refuses_a_second_copy(tmp_path, pg_url, capsys):
    import asyncio

    from bot.cli import main

    source = str(tmp_path / "source.sqlite3")
    await (await _fill(source)).close()
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, main, ["db", "copy", source, pg_url]) == 0
    out = capsys.readouterr().out
    assert "Copied" in out and "Verified" in out and "1 user progress value(s)" in out
    assert await loop.run_in_executor(None, main, ["--db", pg_url, "db", "check"]) == 0
    assert "integrity ok, schema version" in capsys.readouterr().out
    assert await loop.run_in_executor(None, main, ["db", "copy", source, pg_url]) == 1
    assert "already holds lore" in capsys.readouterr().err
