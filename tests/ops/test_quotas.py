"""Per-server quotas: entries, revisions kept, import volume per day. Each refuses with a clear
sentence and nothing written; a write that adds nothing to a count is never refused by it; the
canon has no quota; `LOREBOT_LIMITS=off` refuses nothing."""

from __future__ import annotations

import asyncio

import pytest
import yaml

from bot.cli import main
from lore.errors import LoreError
from lore.quotas import Quotas
from lore.service import LoreService
from tests.conftest import MINI_PACK

G = 4242


def pack(n: int, start: int = 0, word: str = "glimmer") -> bytes:
    entries = [
        {"slug": f"fan-{i}", "kind": "concept", "name": f"Fan {i}", "summary": f"A {word} entry number {i}."}
        for i in range(start, start + n)
    ]
    return yaml.safe_dump({"pack": {"name": "fans"}, "entries": entries}).encode()


def entry(i: int) -> dict:
    return {"slug": f"own-{i}", "kind": "concept", "name": f"Own {i}", "summary": "One of ours."}


async def snapshot(svc: LoreService) -> tuple:
    """What a refusal must leave untouched: the export, every revision count, the stored meta."""
    async with svc.store.db.execute("SELECT COUNT(*) FROM revisions") as cur:
        revisions = (await cur.fetchone())[0]
    async with svc.store.db.execute("SELECT key, value FROM meta ORDER BY key") as cur:
        meta = await cur.fetchall()
    return svc.export(G, "json"), revisions, meta


@pytest.fixture
async def svc(tmp_path):
    s = await LoreService.open(tmp_path / "q.sqlite3", canon_pack=MINI_PACK, quotas=Quotas(3, 6, 4096))
    yield s
    await s.close()


async def test_the_entry_quota_refuses_the_entry_too_many_and_writes_nothing(svc):
    for i in range(3):
        await svc.save_entry(G, entry(i), "admin", "add")
    before = await snapshot(svc)
    with pytest.raises(LoreError, match="at its limit of 3 entries, so nothing was changed"):
        await svc.save_entry(G, entry(3), "admin", "add")
    assert await snapshot(svc) == before
    assert svc.get("own-3", G) is None
    # At the limit, existing entries can still be edited and removed, and then one added again.
    await svc.add_fact(G, "own-0", "Still editable.", 0, "admin")
    await svc.remove_entry(G, "own-1", "admin")
    await svc.save_entry(G, entry(3), "admin", "add")


async def test_edits_of_canon_entries_are_not_entries_of_the_server(tmp_path):
    """An edit of a canon entry is a patch over it: never refused by the entry quota (whether it is
    cannot depend on what the canon holds, later lore included), and not counted towards it."""
    svc = await LoreService.open(tmp_path / "q.sqlite3", canon_pack=MINI_PACK, quotas=Quotas(1, 100, 4096))
    try:
        await svc.save_entry(G, entry(0), "admin", "add")
        await svc.add_fact(G, "rouge-redstar", "A fact.", 1, "admin")
        await svc.add_alias(G, "mars", "The Red One", "admin")
        with pytest.raises(LoreError, match="limit of 1 entries"):
            await svc.save_entry(G, entry(1), "admin", "add")
        await svc.remove_entry(G, "own-0", "admin")
        await svc.save_entry(G, entry(1), "admin", "add")  # the patches took no place
    finally:
        await svc.close()


async def test_an_import_over_the_entry_quota_is_refused_whole(svc):
    before = await snapshot(svc)
    with pytest.raises(LoreError, match="limit of 3 entries"):
        await svc.import_pack(pack(4), guild_id=G, author="admin")
    assert await snapshot(svc) == before and svc.own_entry_count(G) == 0


async def test_the_revision_quota_refuses_and_writes_nothing(svc):
    await svc.save_entry(G, entry(0), "admin", "add")
    for i in range(5):
        await svc.add_fact(G, "own-0", f"Fact {i}.", 0, "admin")
    before = await snapshot(svc)
    with pytest.raises(LoreError, match="keeps at most 6 revisions of its lore"):
        await svc.add_fact(G, "own-0", "One too many.", 0, "admin")
    assert await snapshot(svc) == before
    assert len(svc.get("own-0", G).facts) == 5


async def test_the_daily_import_volume_refuses_and_writes_nothing(tmp_path):
    svc = await LoreService.open(tmp_path / "v.sqlite3", canon_pack=MINI_PACK, quotas=Quotas(None, None, 300))
    try:
        first = pack(2)
        assert len(first) < 300 < len(first) + len(pack(2, start=10))
        await svc.import_pack(first, guild_id=G, author="admin")
        before = await snapshot(svc)
        with pytest.raises(LoreError, match=r"per day \(UTC\) and has .* left today; .* so nothing was imported"):
            await svc.import_pack(pack(2, start=10), guild_id=G, author="admin")
        assert await snapshot(svc) == before
        await svc.import_pack(first, guild_id=G, author="admin")  # unchanged: writes nothing, counts nothing
        await svc.import_pack(pack(1, start=20), guild_id=G + 1, author="admin")  # another server has its own
        await svc.import_pack(pack(40), guild_id=None, author="operator")  # the canon has no quota
    finally:
        await svc.close()


async def test_concurrent_writes_cannot_both_squeeze_under_the_limit(svc):
    await svc.save_entry(G, entry(0), "admin", "add")
    await svc.save_entry(G, entry(1), "admin", "add")
    results = await asyncio.gather(
        *(svc.save_entry(G, entry(i), "admin", "add") for i in (2, 3, 4)), return_exceptions=True
    )
    assert sum(1 for r in results if isinstance(r, LoreError) and "limit of 3" in str(r)) == 2
    assert svc.own_entry_count(G) == 3


async def test_defaults_never_refuse_ordinary_use_and_off_refuses_nothing(tmp_path):
    for quotas in (Quotas(), Quotas.off()):
        svc = await LoreService.open(tmp_path / f"{quotas.enabled}.sqlite3", canon_pack=MINI_PACK, quotas=quotas)
        try:
            await svc.import_pack(pack(120), guild_id=G, author="admin")
            for i in range(20):
                await svc.add_fact(G, "fan-1", f"Fact {i}.", 0, "admin")
            assert svc.own_entry_count(G) == 120
        finally:
            await svc.close()


async def test_a_quota_refusal_reaches_the_admin_as_a_sentence(world, tmp_path):
    world.bot.lore.quotas = Quotas(entries=2)
    att = world.fake.attachment("fans.yaml", pack(3))
    r = await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    assert r.ephemeral and "at its limit of 2 entries, so nothing was changed" in r.all_text
    exported = await world.fake.slash("lore-admin export", user=world.admin, channel=world.ch())
    assert all(b"fan-" not in d for d in exported.files.values())


def test_the_cli_import_says_so_and_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOREBOT_QUOTA_ENTRIES", "2")
    db = tmp_path / "cli.sqlite3"
    (tmp_path / "fans.yaml").write_bytes(pack(3))
    assert main(["--db", str(db), "import", "fans.yaml", "--guild", str(G)]) == 1
    assert "limit of 2 entries" in capsys.readouterr().err
    monkeypatch.setenv("LOREBOT_LIMITS", "off")
    assert main(["--db", str(db), "import", "fans.yaml", "--guild", str(G)]) == 0
