from __future__ import annotations

from pathlib import Path

import pytest

from lore.service import LoreService
from tests.postgres import PostgresServer, PostgresUnavailable, in_ci, postgres_server

DATA = Path(__file__).parent / "data"
MINI_PACK = DATA / "mini_pack.yaml"
#: A second franchise (synthetic test data): 24 episodes in two seasons, its own roster command.
SECOND_PACK = DATA / "clockwork_orchard.yaml"


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def db_target(request, tmp_path: Path) -> str:
    """A fresh, empty database of each backend, as ``LOREBOT_DB`` would name it: an SQLite file,
    then a PostgreSQL database of the session's server (tests using it run once per backend)."""
    if request.param == "sqlite":
        return str(tmp_path / "lore.sqlite3")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def mini(db_target: str):
    """A service over a fresh database (of each backend) filled from the small test pack."""
    svc = await LoreService.open(db_target, canon_pack=MINI_PACK)
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
    """A fresh, empty PostgreSQL database for one test: a ``postgresql://`` URL whose
    ``search_path`` is a schema of its own (dropped afterwards)."""
    url = pg_server.new_schema()
    yield url
    pg_server.drop_schema(url)
