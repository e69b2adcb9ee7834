"""Schema 9: episode numbers in the settings and progress tables are bounded by the franchise's
episode list (checked by the service), no longer by one show's count in the schema itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lore.schema import MIGRATIONS, SCHEMA_VERSION, statements
from lore.service import LoreService
from tests.conftest import SECOND_PACK

#: How schema 1 bounded episodes before the franchise moved into the pack.
OLD_BOUND = "CHECK (episode BETWEEN 0 AND 13)"


def legacy_database(path: Path) -> None:
    """A database as lorebot left it at schema 8, with the old bound, holding settings and progress."""
    con = sqlite3.connect(path)
    for version, script in enumerate(MIGRATIONS[:8], 1):
        if version == 1:
            script = script.replace("CHECK (episode >= 0)", OLD_BOUND)
        for statement in statements(script):
            con.execute(statement)
    con.execute("PRAGMA user_version = 8")
    con.execute("INSERT INTO guild_settings (guild_id, episode, mode) VALUES (1, 5, 'hide')")
    con.execute("INSERT INTO channel_settings (channel_id, guild_id, episode, mode) VALUES (2, 1, 13, NULL)")
    con.execute("INSERT INTO user_progress (user_id, episode, updated_at) VALUES (3, 12, 0)")
    con.commit()
    with pytest.raises(sqlite3.IntegrityError):  # what the old bound did to a longer franchise
        con.execute("INSERT INTO user_progress (user_id, episode, updated_at) VALUES (4, 20, 0)")
    con.close()


def table_sql(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return "\n".join(r[0] or "" for r in con.execute("SELECT sql FROM sqlite_master"))
    finally:
        con.close()


async def test_an_old_database_loses_the_bound_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    legacy_database(db)
    assert OLD_BOUND in table_sql(db)
    async with await LoreService.open(db, canon_pack=SECOND_PACK) as svc:
        assert await svc.store.schema_version() == SCHEMA_VERSION
        assert svc.policy(1).episode == 5 and svc.policy(1, 2).episode == 13 and svc.progress(3) == 12
        await svc.set_progress(4, 20)
        await svc.set_policy(1, channel_id=2, episode=24)
    schema = table_sql(db)
    assert OLD_BOUND not in schema and "CHECK (episode >= 0)" in schema and "channel_settings_guild" in schema
    async with await LoreService.open(db, canon_pack=SECOND_PACK) as svc:
        assert svc.progress(4) == 20 and svc.policy(1, 2).episode == 24 and svc.policy(1).episode == 5


async def test_a_new_database_stores_any_episode_of_the_franchise(db_target: str) -> None:
    async with await LoreService.open(db_target, canon_pack=SECOND_PACK) as svc:
        await svc.set_progress(9, 24)
        await svc.set_policy(7, episode=24)
        await svc.set_policy(7, channel_id=8, episode=21)
    async with await LoreService.open(db_target, canon_pack=SECOND_PACK) as svc:
        assert svc.progress(9) == 24 and svc.policy(7).episode == 24 and svc.policy(7, 8).episode == 21
