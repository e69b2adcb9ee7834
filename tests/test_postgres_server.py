"""The test suite's own PostgreSQL: started once, unprivileged, on loopback, with full-text search."""

from __future__ import annotations

import os

import asyncpg


async def test_the_server_runs_unprivileged_on_loopback_with_text_search(pg_server, pg_url):
    assert pg_server.host == "127.0.0.1"
    conn = await asyncpg.connect(pg_url)
    try:
        version = await conn.fetchval("SHOW server_version_num")
        assert int(version) >= 130000
        assert await conn.fetchval("SELECT current_schema()") == pg_url.rsplit("=", 1)[-1]
        hit = await conn.fetchval(
            "SELECT to_tsvector('simple', 'Rouge fights the Immortal Nine') @@ plainto_tsquery('simple', 'nine')"
        )
        assert hit is True
    finally:
        await conn.close()
    if os.geteuid() == 0 and pg_server.datadir is not None:
        assert pg_server.datadir.stat().st_uid != 0, "PostgreSQL must not run as root"


async def test_each_test_gets_its_own_schema(pg_server, pg_url):
    other = pg_server.new_schema()
    try:
        a, b = await asyncpg.connect(pg_url), await asyncpg.connect(other)
        try:
            await a.execute("CREATE TABLE only_here (x int)")
            assert await b.fetchval("SELECT to_regclass('only_here')") is None
            assert await a.fetchval("SELECT to_regclass('only_here')") is not None
        finally:
            await a.close()
            await b.close()
    finally:
        pg_server.drop_schema(other)
