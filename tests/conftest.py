from __future__ import annotations

from pathlib import Path

import pytest

from lore.service import LoreService
from tests.postgres import PostgresServer, PostgresUnavailable, in_ci, postgres_server

DATA = Path(__file__).parent / "data"
MINI_PACK = DATA / "mini_pack.yaml"


@pytest.fixture
async def mini(tmp_path: Path):
    """A service over a fresh database filled from the small test pack."""
    svc = await LoreService.open(tmp_path / "lore.sqlite3", canon_pack=MINI_PACK)
    yield svc
    await svc.close()


@pytest.fixture(scope="module")
def mini_sync(tmp_path_factory):
    """The small-pack service for synchronous (hypothesis) tests: opened once per module."""
    import asyncio

    loop = asyncio.new_event_loop()
    path = tmp_path_factory.mktemp("mini") / "lore.sqlite3"
    svc = loop.run_until_complete(LoreService.open(path, canon_pack=MINI_PACK))
    yield svc
    loop.run_until_complete(svc.close())
    loop.close()


@pytest.fixture(scope="session")
def pg_server():
    """One real PostgreSQL for the whole test session (see tests/postgres.py); skipped when none
    can be started, except in CI, where that fails the run."""
    cm = postgres_server()
    try:
        server: PostgresServer = cm.__enter__()
    except PostgresUnavailable as e:
        if in_ci():
            pytest.fail(f"PostgreSQL is required in CI and could not be started: {e}", pytrace=False)
        pytest.skip(f"no PostgreSQL: {e}")
    try:
        yield server
    finally:
        cm.__exit__(None, None, None)


@pytest.fixture
def pg_url(pg_server: PostgresServer):
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    url = pg_server.new_database()
    yield url
    pg_server.drop_database(url)
