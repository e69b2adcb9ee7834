"""What only the PostgreSQL backend does: its SQL dialect, its schema versions, NOTIFY waking other
processes, a listener that reconnects and catches up, writes serialised across processes, faults
as sentences. (Everything the backends share runs on both: see the ``db_target`` fixture.)"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from lore.errors import StoreError
from lore.pgstore import PgStore, pg_sql
from lore.schema import PG_MIGRATIONS, SCHEMA_VERSION
from lore.service import LoreService
from lore.storage import POSTGRESQL, SQLITE, parse_target, safe_url
from tests.conftest import MINI_PACK


def test_placeholders_become_numbered_outside_quotes():
    assert pg_sql("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
    assert pg_sql("SELECT '?', \"odd?\" FROM t WHERE x = ?") == "SELECT '?', \"odd?\" FROM t WHERE x = $1"


def test_every_schema_version_has_its_postgresql_form():
    assert len(PG_MIGRATIONS) == SCHEMA_VERSION


def test_lorebot_db_names_the_backend():
    assert parse_target("./lorebot.sqlite3") == parse_target("sqlite:///./lorebot.sqlite3")
    assert parse_target("sqlite:////var/lib/lore.db").location == "/var/lib/lore.db"
    assert parse_target("sqlite:///lore.db").location == "lore.db"
    assert parse_target("/srv/lore.db").backend == SQLITE
    assert parse_target("postgresql://bot:secret@db.internal/lore").backend == POSTGRESQL
    assert parse_target("postgres://db/lore").backend == POSTGRESQL
    assert "secret" not in safe_url("postgresql://bot:secret@db.internal:5433/lore")
    assert safe_url("postgresql://bot:secret@db.internal:5433/lore") == "postgresql://bot@db.internal:5433/lore"


async def test_an_unreachable_server_is_a_sentence_without_the_password():
    with pytest.raises(StoreError) as e:
        await LoreService.open("postgresql://bot:hunter2@127.0.0.1:1/lore", canon_pack=MINI_PACK)
    assert "cannot be reached" in str(e.value) and "hunter2" not in str(e.value)


async def test_a_missing_database_is_a_sentence(pg_server):
    with pytest.raises(StoreError, match="does not exist"):
        await PgStore.open(pg_server.url("no_such_database"))


async def test_a_newer_schema_is_refused(pg_url):
    store = await PgStore.open(pg_url)
    await store.pool.execute("UPDATE lorebot_schema SET version = version + 1")
    await store.close()
    with pytest.raises(StoreError, match="newer than this lorebot"):
        await PgStore.open(pg_url)


async def test_two_processes_starting_together_migrate_once(pg_url):
    stores = await asyncio.gather(PgStore.open(pg_url), PgStore.open(pg_url))
    try:
        assert [await s.schema_version() for s in stores] == [SCHEMA_VERSION] * 2
        assert await stores[0].pool.fetchval("SELECT COUNT(*) FROM lorebot_schema") == 1
    finally:
        for s in stores:
            await s.close()


async def _until(check, timeout: float) -> float:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, "not within the time allowed"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def test_notify_wakes_another_process_at_once(pg_url):
    one = await LoreService.open(pg_url, canon_pack=MINI_PACK)
    two = await LoreService.open(pg_url, canon_pack=MINI_PACK)  # never polls: only the wake-up moves it
    try:
        await _until(lambda: two.store._listener is not None, 5)
        await one.add_fact(3, "mars", "Heard through NOTIFY.", 0, "a")
        await one.set_progress(99, 8)
        took = await _until(lambda: two.progress(99) == 8, 1.0)
        assert any(f.text == "Heard through NOTIFY." for f in two.get("mars", 3).facts)
        assert two.store.notified >= 1 and took < 1.0
    finally:
        await one.close()
        await two.close()


async def test_a_listener_that_reconnects_catches_up_from_the_feed(pg_url, pg_server):
    one = await LoreService.open(pg_url, canon_pack=MINI_PACK)
    two = await LoreService.open(pg_url, canon_pack=MINI_PACK)
    try:
        await _until(lambda: two.store._listener is not None, 5)
        pid = two.store._listener.get_server_pid()
        admin = await asyncpg.connect(pg_url)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        await _until(lambda: two.store._listener is None or two.store._listener.is_closed(), 5)
        await one.set_policy(5, episode=9)  # notified while nobody in two listens
        await _until(lambda: two.server_setting(5).episode == 9, 5)
        assert two.store._listener is not None and two.store._listener.get_server_pid() != pid
    finally:
        await one.close()
        await two.close()


async def test_writes_of_two_processes_on_one_entry_all_land(pg_url):
    one = await LoreService.open(pg_url, canon_pack=MINI_PACK)
    two = await LoreService.open(pg_url, canon_pack=MINI_PACK)
    try:
        revisions = await asyncio.gather(
            *(
                svc.add_fact(1, "mars", f"Note {i} from {n}.", 0, n)
                for i in range(10)
                for n, svc in (("a", one), ("b", two))
            )
        )
        assert sorted(revisions) == list(range(1, 21))
        await one.refresh(0)
        texts = {f.text for f in one.get("mars", 1).facts}
        assert {f"Note {i} from {n}." for i in range(10) for n in "ab"} <= texts
    finally:
        await one.close()
        await two.close()
