"""``lorebot db copy SOURCE TARGET``: move a lore database between backends (SQLite <-> PostgreSQL).

Every row of the source -- entries of every scope (removals included), their revisions and search
text, server and channel settings, user progress, the canon's metadata -- is written into the
target in one transaction: the copy lands whole or not at all. The target must be empty (a new
file, or a PostgreSQL database lorebot has not filled). Then the copy is verified the way a user
would see it: the export of every scope, every setting and every user's progress read back from
the target must equal the source's. A copy that does not verify is removed again, and the target
is left empty. The change feed is not copied: the target starts its own (stop the bots first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lore import feed
from lore.errors import StoreError
from lore.storage import open_store, parse_target
from lore.store import CANON, Store

#: Tables and the columns copied, in an order that satisfies every constraint.
TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("meta", ("key", "value")),
    ("entries", ("scope", "slug", "kind", "name", "introduced", "keys", "doc", "revision", "updated_at")),
    ("revisions", ("id", "scope", "slug", "number", "action", "author", "created_at", "doc")),
    ("lore_text_rows", ("scope", "slug", "episode", "part", "text")),
    ("guild_settings", ("guild_id", "episode", "mode")),
    ("channel_settings", ("channel_id", "guild_id", "episode", "mode")),
    ("user_progress", ("user_id", "episode", "updated_at")),
]
#: ``meta`` keys that belong to the running processes of one database, not to its lore.
LOCAL_META_PREFIXES = ("identify:", "command_sync_lock", feed.PRUNED_KEY)
BATCH = 2000


class CopyError(StoreError):
    """The copy could not be made (nothing was left in the target); the message is a sentence."""


@dataclass
class CopyReport:
    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    scopes: int = 0

    def summary(self) -> str:
        entries, settings = self.rows.get("entries", 0), self.rows.get("guild_settings", 0)
        channels, progress = self.rows.get("channel_settings", 0), self.rows.get("user_progress", 0)
        return (
            f"{entries} entries in {self.scopes} scope(s), {self.rows.get('revisions', 0)} revisions, "
            f"{settings} server and {channels} channel setting(s), {progress} user progress value(s)"
        )


async def copy_database(source: str | Path, target: str | Path) -> CopyReport:
    src_t, dst_t = parse_target(source), parse_target(target)
    if (src_t.backend, src_t.location) == (dst_t.backend, dst_t.location):
        raise CopyError("the source and the target are the same database")
    if src_t.backend == "sqlite" and src_t.location != ":memory:" and not Path(src_t.location).is_file():
        raise CopyError(f"there is no lore database at {src_t}")
    src = await open_store(source)
    try:
        dst = await open_store(target)
        try:
            await _refuse_filled(dst, str(dst_t))
            report = CopyReport(str(src_t), str(dst_t))
            await _copy_rows(src, dst, report)
            try:
                await verify(src, dst)
            except CopyError:
                await _empty(dst)
                raise
            report.scopes = len(await _guild_scopes(src)) + (1 if report.rows.get("entries") else 0)
            return report
        finally:
            await dst.close()
    finally:
        await src.close()


async def _guild_scopes(store: Store) -> list[str]:
    rows = await store.fetchall("SELECT DISTINCT scope FROM entries WHERE scope != ?", (CANON,))
    return sorted(str(r[0]) for r in rows)


async def _refuse_filled(dst: Store, name: str) -> None:
    for table, _ in TABLES[1:]:
        rows = await dst.fetchall(f"SELECT COUNT(*) FROM {table}", ())
        if int(rows[0][0]):
            raise CopyError(f"the target {name} already holds lore ({table}); copy into an empty database")


async def _copy_rows(src: Store, dst: Store, report: CopyReport) -> None:
    tables = []
    for table, cols in TABLES:
        rows = [tuple(r) for r in await src.fetchall(f"SELECT {', '.join(cols)} FROM {table}", ())]
        if table == "meta":
            rows = [r for r in rows if not str(r[0]).startswith(LOCAL_META_PREFIXES)]
        tables.append((table, cols, rows))
        report.rows[table] = len(rows)
    async with dst.write() as tx:
        for table, cols, rows in tables:
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
            for i in range(0, len(rows), BATCH):
                await tx.executemany(sql, rows[i : i + BATCH])
        if dst.backend == "sqlite":  # the writer keeps the full-text index itself: build it for the copied rows
            await tx.execute("INSERT INTO lore_text (lore_text) VALUES ('rebuild')")
        else:  # ids were copied: move the sequences past them
            for table in ("revisions", "lore_text_rows"):
                await tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
                    f"FROM {table}"
                )


async def _empty(dst: Store) -> None:
    async with dst.write() as tx:
        for table, _ in reversed(TABLES):
            await tx.execute(f"DELETE FROM {table}")


async def verify(src: Store, dst: Store) -> None:
    """Raise :class:`CopyError` unless ``dst`` shows users what ``src`` shows."""
    from lore.service import LoreService

    a, b = LoreService(src), LoreService(dst)
    await a._load()
    await b._load()
    problems: list[str] = []
    scopes = sorted(set(await _guild_scopes(src)) | set(await _guild_scopes(dst)))
    guilds: list[int | None] = [None] + [int(s.split(":", 1)[1]) for s in scopes]
    for gid in guilds:
        if a.export(gid) != b.export(gid):
            problems.append(f"the export of {'the canon' if gid is None else f'server {gid}'} differs")
    if await src.load_settings() != await dst.load_settings():
        problems.append("the spoiler settings or users' progress differ")
    for table, _ in TABLES[1:]:
        n_src = (await src.fetchall(f"SELECT COUNT(*) FROM {table}", ()))[0][0]
        n_dst = (await dst.fetchall(f"SELECT COUNT(*) FROM {table}", ()))[0][0]
        if int(n_src) != int(n_dst):
            problems.append(f"{table} has {n_dst} rows instead of {n_src}")
    if problems:
        raise CopyError("the copy did not verify, so it was removed: " + "; ".join(problems[:5]))
