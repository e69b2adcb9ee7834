"""The worlds every counterfactual test compares: the canon pack, and its visible world at each
episode of :data:`~tests.counterfactual.harness.EPISODES`, opened once for the session."""

from __future__ import annotations

import asyncio

import pytest

from lore.packs import CANON_PACK_PATH, parse_text, validate
from tests.counterfactual.harness import Worlds


@pytest.fixture(scope="session")
def worlds(tmp_path_factory):
    if not CANON_PACK_PATH.exists():
        pytest.skip("canon pack not present")
    loop = asyncio.new_event_loop()
    pack = validate(parse_text(CANON_PACK_PATH.read_bytes(), name=CANON_PACK_PATH.name))
    w = loop.run_until_complete(Worlds.open(pack, tmp_path_factory.mktemp("worlds")))
    yield w, loop
    loop.run_until_complete(w.close())
    loop.close()
