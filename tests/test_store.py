"""The store: creation and migration, guild overrides, revisions, settings and progress."""

from __future__ import annotations

import sqlite3

import pytest

from lore.errors import LoreError, StoreError
from lore.schema import SCHEMA_VERSION
from lore.service import LoreService
from lore.spoilers import Mode, Policy
from lore.sqlitestore import SqliteStore
from tests.conftest import MINI_PACK

LATE = Policy(13, Mode.SHOW)


async def test_new_database_is_created_then_reopened(db_target):
    path = db_target.replace("lore.sqlite3", "sub/lore.sqlite3")  # SQLite: its directory is created too
    svc = await LoreService.open(path, canon_pack=MINI_PACK)
    assert await svc.store.schema_version() == SCHEMA_VERSION
    n = len(svc.entries())
    await svc.set_policy(1, episode=4, mode=Mode.HIDE)
    await svc.close()
    again = await LoreService.open(path, canon_pack=MINI_PACK)
    assert len(again.entries()) == n
    assert again.policy(1) == Policy(4, Mode.HIDE, again.policy(1).source)
    if again.store.backend == "sqlite":
        async with again.store.db.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with again.store.db.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
    await again.close()


async def test_old_schema_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite3"
    sqlite3.connect(path).close()  # an empty, version-0 database
    store = await SqliteStore.open(path)
    assert await store.schema_version() == SCHEMA_VERSION
    assert await store.migrate() == 0  # nothing left to do
    await store.close()


async def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.sqlite3"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        await SqliteStore.open(path)


async def test_guild_override_is_copy_on_write(mini):
    await mini.add_fact(1, "mars", "Server one's own note.", 0, author="alice")
    assert any("Server one" in f.text for f in mini.ask("mars", LATE, guild_id=1).view.facts)
    for other in (None, 2):
        assert not any("Server one" in f.text for f in mini.ask("mars", LATE, guild_id=other).view.facts)
    # removing in one server hides the entry there only
    await mini.remove_entry(2, "naomi-orthmann", author="bob")
    assert mini.ask("naomi", LATE, guild_id=2).view is None
    assert mini.ask("naomi", LATE, guild_id=1).view.slug == "naomi-orthmann"
    assert all(c.slug != "naomi-orthmann" for c in mini.complete("nao", LATE, guild_id=2))


async def test_revisions_list_and_revert(mini):
    await mini.add_alias(5, "mars", "Red Planet", author="alice")
    await mini.add_fact(5, "mars", "A second note.", 2, author="bob")
    scope, revs = await mini.history(5, "mars")
    assert scope == "guild:5" and [r.number for r in revs] == [1, 2]
    assert [r.author for r in revs] == ["alice", "bob"]
    assert mini.ask("red planet", LATE, guild_id=5).view.slug == "mars"
    await mini.revert(5, "mars", 1, author="carol")
    view = mini.ask("mars", LATE, guild_id=5).view
    assert not any("second note" in f.text for f in view.facts)
    assert (await mini.history(5, "mars"))[1][-1].action == "revert to 1"
    with pytest.raises(LoreError):
        await mini.revert(5, "mars", 99, author="carol")


async def test_canon_history_is_shown_when_the_server_has_none(mini):
    scope, revs = await mini.history(9, "mars")
    assert scope == "canon" and revs[0].author == "canon pack"


async def test_settings_and_progress(mini):
    await mini.set_policy(1, episode=5)
    await mini.set_policy(1, mode=Mode.HIDE)
    await mini.set_policy(1, channel_id=10, episode=9)
    assert mini.policy(1, 10) == Policy(9, Mode.HIDE, mini.policy(1, 10).source)
    assert mini.policy(1, 11).episode == 5
    assert mini.policy(2, 10).episode == 9  # a channel id is global
    await mini.set_progress(77, 2)
    assert mini.policy(1, 10, 77, private=True).episode == 2
    assert mini.policy(1, 10, 77, private=False).episode == 9
    await mini.set_progress(77, None)
    assert mini.progress(77) is None
    assert await mini.reset_channel(1, 10)
    assert mini.policy(1, 10).episode == 5
    with pytest.raises(LoreError):
        await mini.set_policy(1, episode=14)


async def test_canon_upgrade_keeps_guild_overrides(tmp_path, db_target):
    import yaml

    path = db_target
    svc = await LoreService.open(path, canon_pack=MINI_PACK)
    await svc.add_fact(3, "mars", "Guild note.", 0, author="a")
    await svc.close()
    data = yaml.safe_load(MINI_PACK.read_text(encoding="utf-8"))
    data["pack"]["version"] = 2
    data["entries"][0]["summary"] = "Upgraded summary."
    data["entries"] = [e for e in data["entries"] if e["slug"] != "ochrona"]
    for e in data["entries"]:
        e["relations"] = [r for r in e.get("relations", []) if r["target"] != "ochrona"]
    newer = tmp_path / "canon-v2.yaml"
    newer.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    svc = await LoreService.open(path, canon_pack=newer)
    assert svc.canon_version == 2
    assert svc.get("rouge-redstar").summary == "Upgraded summary."
    assert svc.get("ochrona") is None
    assert any(f.text == "Guild note." for f in svc.get("mars", 3).facts)
    await svc.close()


async def test_version_1_database_is_migrated_with_its_text_index(tmp_path):
    from lore.schema import MIGRATIONS, statements

    path = tmp_path / "v1.sqlite3"
    con = sqlite3.connect(path, isolation_level=None)
    for statement in statements(MIGRATIONS[0]):
        con.execute(statement)
    con.execute("PRAGMA user_version = 1")
    con.execute(
        "INSERT INTO lore_text (scope, slug, episode, part, text) VALUES ('canon', 'mars', 0, 'fact', 'red dust')"
    )
    con.close()
    store = await SqliteStore.open(path)
    assert await store.schema_version() == SCHEMA_VERSION
    hits = await store.search_text(["dust"], ["canon"])
    assert [(h.slug, h.snippet) for h in hits] == [("mars", "red \x02dust\x03")]
    await store.close()


async def test_replacing_an_entry_replaces_its_searchable_text(mini):
    policy = Policy(13, Mode.SHOW)
    assert (await mini.search_text("colonised", policy)).hits
    await mini.save_entry(None, {"slug": "mars", "kind": "location", "name": "Mars", "summary": "Dusty."}, "t", "edit")
    assert not (await mini.search_text("colonised", policy)).hits
    assert [h.slug for h in (await mini.search_text("dusty", policy)).hits] == ["mars"]


async def test_following_the_canon_again_keeps_the_servers_history(mini):
    await mini.remove_entry(3, "mars", "admin")
    assert mini.get("mars", 3) is None and not mini.follows_canon(3, "mars")
    number = await mini.revert(3, "mars", 0, "admin")
    assert mini.get("mars", 3) == mini.get("mars") and mini.follows_canon(3, "mars")
    scope, revisions = await mini.history(3, "mars")
    assert scope != "canon" and [r.number for r in revisions] == [1, number] == [1, 2]
    # later edits number on from there, and reverting to the "back to the canon" revision does the same again
    await mini.add_fact(3, "mars", "Guild note.", 0, "admin")
    assert [r.number for r in (await mini.history(3, "mars"))[1]] == [1, 2, 3]
    await mini.revert(3, "mars", 2, "admin")
    assert mini.follows_canon(3, "mars")


async def test_own_entry_count_counts_new_entries_and_not_overrides(mini):
    canon = len(mini.index_for(None))
    await mini.save_entry(3, {"slug": "fan-thing", "kind": "concept", "name": "Fan Thing"}, "admin", "add")
    await mini.add_fact(3, "mars", "Guild note.", 0, "admin")
    assert len(mini.index_for(3)) == canon + 1


async def test_version_2_database_keeps_its_revisions_through_migration_3(tmp_path):
    from lore.schema import MIGRATIONS, statements

    path = tmp_path / "v2.sqlite3"
    con = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:2]:
        for statement in statements(script):
            con.execute(statement)
    con.execute("PRAGMA user_version = 2")
    con.execute(
        "INSERT INTO entries (scope, slug, kind, name, introduced, doc, revision, updated_at) "
        "VALUES ('guild:3', 'mars', 'location', 'Mars', 0, NULL, 1, 0)"
    )
    con.execute(
        "INSERT INTO revisions (scope, slug, number, action, author, created_at, doc) "
        "VALUES ('guild:3', 'mars', 1, 'remove', 'admin', 0, NULL)"
    )
    con.close()
    store = await SqliteStore.open(path)
    assert await store.schema_version() == SCHEMA_VERSION
    assert [r.action for r in await store.history("guild:3", "mars")] == ["remove"]
    number = await store.drop("guild:3", "mars", "admin")
    assert number == 2 and [r.number for r in await store.history("guild:3", "mars")] == [1, 2]
    await store.close()
