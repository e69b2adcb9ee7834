"""The single write path: serialised read-modify-write transactions, the change feed rows they
commit, and the process's memory following the database."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from lore.errors import LoreError, StaleEntry
from lore.feed import ChangeRow
from lore.service import LoreService
from lore.spoilers import Mode
from tests.conftest import MINI_PACK


async def test_concurrent_amends_of_one_entry_all_land(mini):
    revisions = await asyncio.gather(*(mini.add_fact(1, "mars", f"Note {i}.", 0, f"admin {i}") for i in range(50)))
    assert sorted(revisions) == list(range(1, 51))
    assert {f"Note {i}." for i in range(50)} <= {f.text for f in mini.get("mars", 1).facts}
    aliases = await asyncio.gather(*(mini.add_alias(1, "mars", f"Red {i}", "admin") for i in range(10)))
    assert sorted(aliases) == list(range(51, 61))
    assert len(mini.get("mars", 1).facts) == len(mini.get("mars").facts) + 50


async def test_concurrent_settings_keep_each_others_parts(mini):
    await asyncio.gather(mini.set_policy(7, episode=4), mini.set_policy(7, mode=Mode.HIDE))
    setting = mini.server_setting(7)
    assert (setting.episode, setting.mode) == (4, Mode.HIDE)
    stored = await mini.store.guild_settings([7])
    assert stored[7] == setting


async def test_a_write_that_fails_writes_nothing_and_records_no_change(mini):
    head = await mini.store.feed.head()
    with pytest.raises(LoreError):
        async with mini.store.write() as tx:
            await mini.store.put_progress(tx, 42, 5)
            raise LoreError("changed my mind")
    assert await mini.store.progress_of([42]) == {} and mini.progress(42) is None
    assert await mini.store.feed.head() == head


async def test_other_features_write_their_own_rows_and_hear_of_them(mini):
    heard: list[ChangeRow] = []

    async def on_quiz(rows: list[ChangeRow]) -> None:
        heard.extend(rows)

    mini.store.feed.subscribe("quiz_score", on_quiz)
    async with mini.store.write() as tx:
        await tx.execute("INSERT INTO meta (key, value) VALUES ('quiz:1', '7')")
        tx.changed("guild:1", "quiz_score", 1)
    assert [(r.scope, r.what, r.key) for r in heard] == [("guild:1", "quiz_score", "1")]
    assert heard[0].origin == mini.store.origin
    assert await mini.store.get_meta("quiz:1") == "7"


async def test_a_save_against_a_changed_entry_is_refused(mini):
    base = mini.get("mars", 2)
    await mini.add_fact(2, "mars", "Someone else's note.", 0, "bob")
    data = base.model_dump() | {"summary": "Mine."}
    with pytest.raises(StaleEntry):
        await mini.save_entry(2, data, "alice", "edit", expect=base)
    assert mini.get("mars", 2).summary != "Mine."
    assert await mini.save_entry(2, data | {"facts": mini.get("mars", 2).model_dump()["facts"]}, "alice", "edit")


async def test_a_second_service_on_the_same_file_sees_every_write(db_target):
    path = db_target
    one = await LoreService.open(path, canon_pack=MINI_PACK)
    two = await LoreService.open(path, canon_pack=MINI_PACK)
    try:
        await one.add_fact(3, "mars", "From the first process.", 0, "a")
        await one.set_policy(3, episode=6, mode=Mode.SHOW)
        await one.set_progress(99, 8)
        await two.refresh(0)
        assert any(f.text == "From the first process." for f in two.get("mars", 3).facts)
        assert two.server_setting(3).episode == 6 and two.progress(99) == 8
        # the second one's amend starts from the first one's version, not from a stale copy
        await two.add_fact(3, "mars", "From the second process.", 0, "b")
        await one.refresh(0)
        texts = {f.text for f in one.get("mars", 3).facts}
        assert {"From the first process.", "From the second process."} <= texts
        await two.set_progress(99, None)
        await one.refresh(0)
        assert one.progress(99) is None
    finally:
        await one.close()
        await two.close()


async def test_out_of_range_values_are_refused_with_a_sentence(mini):
    with pytest.raises(LoreError, match="between 0 and 13"):
        await mini.add_fact(1, "mars", "x", 99, "a")
    with pytest.raises(LoreError, match="1 to 100 characters"):
        await mini.add_alias(1, "mars", "x" * 300, "a")
    with pytest.raises(LoreError, match="revision number"):
        await mini.revert(1, "mars", 10**20, "a")
    with pytest.raises(LoreError, match="between 0 and 13"):
        await mini.set_progress(1, 99)
    with pytest.raises(LoreError, match="between 0 and 13"):
        await mini.set_policy(1, episode=-1)
    assert await mini.store.feed.head() == mini.store.feed.seen  # nothing was written


async def test_a_large_import_keeps_the_full_text_index_exact(mini):
    from lore.spoilers import Policy

    def pack(word: str, n: int = 80) -> str:
        entries = [
            {"slug": f"bulk-{i}", "kind": "concept", "name": f"Bulk {i}", "summary": f"About the {word} {i}."}
            for i in range(n)
        ]
        import json

        return json.dumps({"pack": {"name": "bulk"}, "entries": entries})

    everything = Policy(13, Mode.SHOW)
    await mini.import_pack(pack("zeppelin"), guild_id=4, author="a", filename="p.json")
    assert len((await mini.search_text("zeppelin", everything, 4, limit=200)).hits) == 80
    report = await mini.import_pack(pack("hovercraft"), guild_id=4, author="a", filename="p.json")
    assert len(report.updated) == 80
    assert not (await mini.search_text("zeppelin", everything, 4, limit=200)).hits
    assert len((await mini.search_text("hovercraft", everything, 4, limit=200)).hits) == 80
    assert not (await mini.search_text("hovercraft", everything, 5)).hits  # another server's lore


async def test_writes_cancelled_at_any_moment_leave_the_next_write_working(mini):
    """A handler cancelled while its write starts, runs or commits (a bot shutting down, a task
    torn down) never leaves the writer inside a transaction: the next write lands."""
    for pause in range(16):
        task = asyncio.create_task(mini.set_policy(7, episode=1 + pause % 10))
        for _ in range(pause):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await mini.set_policy(8, episode=1 + pause % 10)
        assert (await mini.store.guild_settings([8]))[8].episode == 1 + pause % 10
