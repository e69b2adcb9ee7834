"""The SQLite lore store (the embedded default): the portable store of :mod:`lore.sqlstore` on
aiosqlite, with FTS5 for the searchable text.

WAL, foreign keys on, the versioned schema of :mod:`lore.schema` migrated with ``PRAGMA
user_version``. Two aiosqlite connections: one for reads (they never wait for a write, and never
see one half done) and one writer. One writer at a time per process (an asyncio lock), one
``BEGIN IMMEDIATE`` transaction each, SQLite's busy timeout for other processes. Faults become
:class:`lore.errors.StoreError` sentences; nothing is half written. ``lorebot db check`` is
:func:`check_database`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from lore.errors import StoreError, WriteFault
from lore.faults import sqlite_reason
from lore.schema import MIGRATION_STEPS, MIGRATIONS, SCHEMA_VERSION, statements
from lore.sqlitecheck import QuickCheckAside, quick_check
from lore.sqlstore import SqlStore, by_scope
from lore.store import CheckReport, StoredEntry, TextHit, Tx

log = logging.getLogger(__name__)

#: How long a write waits for another process's write transaction before giving up (SQLite's
#: busy timeout). Writes are deferred on Discord first, so this is well inside what a user waits.
BUSY_TIMEOUT_MS = 5000


class SqliteTx(Tx):
    """A write transaction on the writer connection (see :meth:`SqliteStore.write`)."""

    __slots__ = ("_db",)

    def __init__(self, db: aiosqlite.Connection):
        super().__init__()
        self._db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._db.execute_fetchall(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            await self._db.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        rows = await self._db.execute_fetchall(sql, params)
        return next(iter(rows), None)


class SqliteStore(SqlStore):
    """The lore store in an SQLite file (see the module docstring)."""

    backend = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: str, writer: aiosqlite.Connection | None = None):
        super().__init__(path)
        self.db = db  # reads
        self._writer = writer or db  # the one connection that writes
        self._check: QuickCheckAside | None = None  # the integrity check still running (see open)

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    async def open(cls, path: str | Path, *, check: bool = True, check_aside: bool = False) -> SqliteStore:
        """Open (creating and migrating) the database at ``path``; ``check`` runs SQLite's quick
        integrity check first, refusing a damaged database. With ``check_aside``, a database whose
        schema is current is checked on a connection of its own instead, while the caller goes on
        to :meth:`load_all_scopes`, which waits for the verdict (as every write does)."""
        path = str(path)
        memory = path == ":memory:"
        if not memory and not path.startswith("file:"):
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(
                    f"cannot reach the directory of the lore database {path}: {_dir_reason(path, e)}"
                ) from None
        conns: list[aiosqlite.Connection] = []
        try:
            try:
                for _ in range(1 if memory else 2):
                    conns.append(await aiosqlite.connect(path, isolation_level=None, uri=path.startswith("file:")))
            except (sqlite3.Error, OSError) as e:
                raise StoreError(f"cannot open the lore database at {path}: {_reason(e)}") from None
            reader, writer = conns[0], conns[-1]
            try:
                for conn in conns:
                    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                    await conn.execute("PRAGMA foreign_keys = ON")
                aside = check and check_aside and await _schema_is_current(reader)
                if check and not aside:
                    await quick_check(reader, path)
                # read to its end: the statement left open would keep the file locked from the reader
                await writer.execute_fetchall("PRAGMA journal_mode = WAL")
                for conn in conns:
                    await conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as e:  # "file is not a database", a read-only directory, ...
                raise StoreError(f"cannot use {path} as the lore database: {_reason(e)}") from None
            store = cls(reader, path, writer)
            try:
                await store.migrate()
            except sqlite3.Error as e:
                raise StoreError(f"cannot migrate the lore database {path}: {_reason(e)}") from None
            if aside:
                store._check = await QuickCheckAside.start(path, BUSY_TIMEOUT_MS)
        except BaseException:
            for conn in conns:
                with contextlib.suppress(Exception):
                    await conn.close()
            raise
        return store

    async def close(self) -> None:
        if self._check is not None:
            await self._check.stop()
        if self._writer is not self.db:
            await self._writer.close()
        await self.db.close()

    async def _checked(self) -> None:
        """Wait for the integrity check started aside at open, if it still runs (StoreError when
        the database is damaged)."""
        if self._check is not None:
            await self._check.verdict()
            self._check = None

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction (re-reading the version inside it,
        so two processes starting together migrate once). Returns how many ran."""
        applied = 0
        while True:
            async with self._lock:
                await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    rows = await self._writer.execute_fetchall("PRAGMA user_version")
                    current = int(next(iter(rows))[0])
                    if current > SCHEMA_VERSION:
                        raise StoreError(
                            f"the database schema is version {current}, newer than this lorebot "
                            f"({SCHEMA_VERSION}); upgrade lorebot"
                        )
                    if current == SCHEMA_VERSION:
                        await self._writer.execute("ROLLBACK")
                        return applied
                    version = current + 1
                    for statement in statements(MIGRATIONS[version - 1]):
                        await self._writer.execute(statement)
                    step = MIGRATION_STEPS.get(version)
                    if step is not None:
                        await step(SqliteTx(self._writer))
                    await self._writer.execute(f"PRAGMA user_version = {version}")
                    await self._writer.execute("COMMIT")
                except BaseException:
                    await self._rollback()
                    raise
            log.info("lore database migrated to schema version %d", version)
            applied += 1

    # -- the write path ----------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """See :meth:`lore.sqlstore.SqlStore.write`: ``BEGIN IMMEDIATE`` on the writer connection
        (SQLite's busy timeout waits for other processes' writes); the feed is applied after letting
        the next writer in."""
        await self._checked()  # nothing is written into a database not yet found sound
        async with self._lock:
            started = time.perf_counter()
            if self._writer.in_transaction:  # left open by a write cancelled mid-statement
                await self._rollback()
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, OverflowError) as e:
                log.warning("could not start a write: %s", e)
                raise WriteFault(_write_sentence(e)) from None
            except asyncio.CancelledError:
                # The BEGIN still runs on the connection's thread: roll it back behind it, so the
                # next write does not find a transaction already open.
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._writer.execute("ROLLBACK"))
                raise
            tx = SqliteTx(self._writer)
            try:
                # memory at the state this write starts from (unless a write that just committed is
                # being applied: what this write changes, it reads inside the transaction anyway)
                await self.feed.catch_up(unless_busy=True)
                yield tx
                await self._insert_feed_rows(tx)
                await self._writer.execute("COMMIT")
                if self.on_write is not None:
                    self.on_write(time.perf_counter() - started)
            except BaseException as e:
                await self._rollback()
                if isinstance(e, sqlite3.Error | OverflowError):
                    log.warning("a write failed and was rolled back: %s", e)
                    raise WriteFault(_write_sentence(e)) from None
                raise
            await self.feed.reserve()  # applied in commit order, but without holding up the next writer
        try:
            await self.feed.apply_reserved()
        except Exception as e:  # committed all the same: the background loop applies it on its next round
            log.warning("could not apply the change feed after a write: %s", e)

    async def _rollback(self) -> None:
        if not self._writer.in_transaction:
            return  # SQLite already rolled back (e.g. after a full disk), or the commit went through
        try:
            await self._writer.execute("ROLLBACK")
        except Exception as e:  # logged; the error that made us roll back is the one raised
            log.error("ROLLBACK failed after a failed write: %s", e)
        if self._writer.in_transaction:  # a connection stuck in its transaction: start afresh
            await self._reopen_writer()

    async def _reopen_writer(self) -> None:
        old = self._writer
        with contextlib.suppress(Exception):
            await old.close()
        new = await aiosqlite.connect(self.path, isolation_level=None, uri=self.path.startswith("file:"))
        await new.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await new.execute("PRAGMA foreign_keys = ON")
        await new.execute("PRAGMA synchronous = NORMAL")
        if old is self.db:
            self.db = new
        self._writer = new

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of a read on the read connection (the last committed state)."""
        return list(await self.db.execute_fetchall(sql, params))

    # -- what SQLite's SQL does its own way ------------------------------------------------------
    async def load_scope(self, scope: str, *, raw_docs: bool = False) -> list[StoredEntry]:
        """See :meth:`lore.sqlstore.SqlStore.load_scope`; all rows come back in one round trip to the
        database thread."""
        doc = "CAST(doc AS BLOB)" if raw_docs else "doc"
        rows = await self.fetchall(
            f"SELECT slug, kind, name, introduced, keys, {doc} FROM entries WHERE scope = ?", (scope,)
        )
        return [StoredEntry(*row) for row in rows]

    async def load_all_scopes(self, *, raw_docs: bool = False) -> dict[str, list[StoredEntry]]:
        """Every scope's rows in one table scan: at 100,000 entries a scan reads the table in half the
        time the per-scope index walk takes. Returns once the integrity check started aside at open
        has found the database sound (a damaged one raises its StoreError, whatever the scan met)."""
        doc = "CAST(doc AS BLOB)" if raw_docs else "doc"
        try:
            async with self.db.execute(
                f"SELECT scope, slug, kind, name, introduced, keys, {doc} FROM entries NOT INDEXED"
            ) as cur:
                rows = list(await cur.fetchall())
            scopes = by_scope(rows)
        except Exception:
            await self._checked()
            raise
        await self._checked()
        return scopes

    async def _replace_text(self, tx: Tx, scope: str, slugs: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Drop the searchable text of ``slugs`` in ``scope``, then add ``rows``: the text table and
        its full-text index together, each in a statement or two whatever the number of rows."""
        if len(slugs) > 50:
            await tx.execute(
                "CREATE TEMP TABLE IF NOT EXISTS doomed_text (scope TEXT NOT NULL, slug TEXT NOT NULL, "
                "PRIMARY KEY (scope, slug))"
            )
            await tx.execute("DELETE FROM doomed_text")
            await tx.executemany(
                "INSERT OR IGNORE INTO doomed_text (scope, slug) VALUES (?, ?)", [(scope, slug) for slug in slugs]
            )
            doomed = (
                "SELECT r.id, r.text FROM lore_text_rows AS r "
                "JOIN doomed_text AS d ON d.scope = r.scope AND d.slug = r.slug"
            )
            await tx.execute(
                f"INSERT INTO lore_text (lore_text, rowid, text) SELECT 'delete', id, text FROM ({doomed})"
            )
            await tx.execute(f"DELETE FROM lore_text_rows WHERE id IN (SELECT id FROM ({doomed}))")
            await tx.execute("DELETE FROM doomed_text")
        elif slugs:
            keys = [(scope, slug) for slug in slugs]
            await tx.executemany(
                "INSERT INTO lore_text (lore_text, rowid, text) SELECT 'delete', id, text FROM lore_text_rows "
                "WHERE scope = ? AND slug = ?",
                keys,
            )
            await tx.executemany("DELETE FROM lore_text_rows WHERE scope = ? AND slug = ?", keys)
        if rows:
            top = await tx.fetchall("SELECT COALESCE(MAX(id), 0) FROM lore_text_rows")
            await tx.executemany(
                "INSERT INTO lore_text_rows (scope, slug, episode, part, text) VALUES (?, ?, ?, ?, ?)", rows
            )
            await tx.execute(
                "INSERT INTO lore_text (rowid, text) SELECT id, text FROM lore_text_rows WHERE id > ?", (top[0][0],)
            )

    async def search_text(
        self, words: Sequence[str], scopes: list[str], limit: int = 500, *, bound: int | None = None
    ) -> list[TextHit]:
        """See :meth:`lore.sqlstore.SqlStore.search_text`: FTS5, best first by bm25 (which weighs a row
        by every row of the index, later lore included: so not with ``bound``)."""
        if not words:
            return []
        match = " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + f'"{words[-1]}"*'
        marks = ", ".join("?" for _ in scopes)
        where = "" if bound is None else " AND r.episode <= ?"
        order = "bm25(lore_text)" if bound is None else "r.id"
        sql = (
            "SELECT r.scope, r.slug, r.episode, r.part, snippet(lore_text, 0, char(2), char(3), '…', 16), "
            "bm25(lore_text) FROM lore_text JOIN lore_text_rows AS r ON r.id = lore_text.rowid "
            f"WHERE lore_text MATCH ? AND r.scope IN ({marks}){where} ORDER BY {order} LIMIT ?"
        )
        args = (match, *scopes, *(() if bound is None else (bound,)), limit)
        rows = await self.fetchall(sql, args)
        return [TextHit(s, sl, int(ep), p, snip, rank) for s, sl, ep, p, snip, rank in rows]


def _reason(e: BaseException) -> str:
    if isinstance(e, sqlite3.Error):
        return sqlite_reason(e)
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e)


def _dir_reason(path: str, error: OSError) -> str:
    for parent in Path(path).parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a directory"
            break
    return error.strerror or str(error)


def _write_sentence(e: BaseException) -> str:
    reason = _reason(e)
    return f"{reason[0].upper()}{reason[1:]}; nothing was changed."


async def check_database(path: str | Path) -> CheckReport:
    """``lorebot db check``: SQLite's full integrity check and the schema version, without
    creating, migrating or writing anything."""
    path = str(path)
    if not path.startswith("file:") and not Path(path).is_file():
        raise StoreError(f"there is no lore database at {path}")
    uri = path if path.startswith("file:") else f"file:{Path(path).resolve()}?mode=ro"
    try:
        conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    except (sqlite3.Error, OSError) as e:
        raise StoreError(f"cannot open the lore database at {path}: {_reason(e)}") from None
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        schema = int(next(iter(await conn.execute_fetchall("PRAGMA user_version")))[0])
        problems = [str(r[0]) for r in await conn.execute_fetchall("PRAGMA integrity_check(20)")]
        problems = [] if problems == ["ok"] else problems
        entries = changes = 0
        if not problems:
            with contextlib.suppress(sqlite3.Error):
                entries = int(next(iter(await conn.execute_fetchall("SELECT COUNT(*) FROM entries")))[0])
            with contextlib.suppress(sqlite3.Error):
                changes = int(next(iter(await conn.execute_fetchall("SELECT COALESCE(MAX(id), 0) FROM changes")))[0])
    except sqlite3.DatabaseError as e:  # not a database at all, or damaged beyond reading its header
        name = getattr(e, "sqlite_errorname", "")
        if not name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            raise StoreError(f"the lore database {path} cannot be checked: {_reason(e)}") from None
        return CheckReport(path, 0, [f"not readable as an SQLite database ({e})"], 0, 0)
    finally:
        await conn.close()
    return CheckReport(path, schema, problems, entries, changes)


async def _schema_is_current(conn: aiosqlite.Connection) -> bool:
    """Whether the database is at this lorebot's schema (no migration due): false for a new file."""
    rows = await conn.execute_fetchall("PRAGMA user_version")
    return int(next(iter(rows))[0]) == SCHEMA_VERSION
