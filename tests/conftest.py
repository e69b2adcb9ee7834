from __future__ import annotations

from pathlib import Path

import pytest

from lore.service import LoreService

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
