"""What the service gives adapters besides the lore (``bot/`` reaches the store only through it):
leases, paced slots and notes shared by the processes on one database, the write timings and the
schema version. (Its schedules and quiz scores are tested through the bot's commands.)"""

from __future__ import annotations

from lore import SCHEMA_VERSION
from lore.service import LoreService
from tests.conftest import MINI_PACK


async def test_two_processes_share_leases_slots_and_notes(db_target):
    one = await LoreService.open(db_target, canon_pack=MINI_PACK)
    two = await LoreService.open(db_target, canon_pack=MINI_PACK)
    try:
        a, b = one.coordination, two.coordination
        assert await a.try_lease("tick", "one", 30)
        assert not await b.try_lease("tick", "two", 30)
        await b.release_lease("tick", "two")  # not its lease: nothing happens
        assert not await b.try_lease("tick", "two", 30)
        await a.release_lease("tick", "one")
        assert await b.try_lease("tick", "two", 30)

        assert await a.claim_slot("identify", 60) == 0.0
        assert 0.0 < await b.claim_slot("identify", 60) <= 60

        assert await b.get_meta("command_hash:global") is None
        await a.set_meta("command_hash:global", "abc")
        assert await b.get_meta("command_hash:global") == "abc"
    finally:
        await one.close()
        await two.close()


async def test_write_timings_go_to_the_observer_while_it_is_set(mini):
    seen: list[float] = []
    mini.on_write = seen.append
    assert mini.on_write == seen.append
    await mini.set_progress(1, 2)
    assert len(seen) == 1 and seen[0] >= 0.0
    mini.on_write = None
    await mini.set_progress(1, 3)
    assert len(seen) == 1


async def test_the_schema_version_is_the_migrated_one(mini):
    assert await mini.schema_version() == SCHEMA_VERSION
