"""The SQLite lore store: entries by scope, revisions, full-text index, spoiler settings, progress.

WAL, foreign keys on, a versioned schema migrated with ``PRAGMA user_version``. Two aiosqlite
connections: one for reads (they never wait for a write, and never see one half done) and one
writer. Every write goes through :meth:`Store.write`, the single write path of the process::

    async with store.write() as tx:
        row = await tx.fetchone("SELECT ... WHERE ...", (...,))   # the current row, read inside
        await tx.execute("UPDATE ...", (...,))                    # the change, applied to it
        tx.changed(scope, "what", key)                            # a row of the change feed

One writer at a time per process (an asyncio lock), one ``BEGIN IMMEDIATE`` transaction each,
SQLite's busy timeout for other processes; the change-feed rows commit with the data, then the
process applies the feed (so its memory follows the database, its own writes included). Faults
become :class:`StoreError` sentences; nothing is half written.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite

from lore import feed
from lore.errors import StoreError as StoreError
from lore.errors import WriteFault as WriteFault
from lore.faults import sqlite_reason
from lore.feed import ChangeFeed
from lore.model import Entry, EntryPatch
from lore.patches import PATCH_PREFIX, effective, migrate_overrides, patch_doc
from lore.spoilers import Mode, Setting
from lore.visible import title_episode

if TYPE_CHECKING:
    from lore.quotas import Quotas

log = logging.getLogger(__name__)

CANON = "canon"


def guild_scope(guild_id: int) -> str:
    return f"guild:{int(guild_id)}"


#: Schema migrations, applied in order; ``PRAGMA user_version`` is the number applied.
MIGRATIONS: list[str] = [
    # 1: entries, revisions, full-text index, settings
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE entries (
        scope TEXT NOT NULL,
        slug TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        introduced INTEGER NOT NULL,
        keys TEXT NOT NULL DEFAULT '{}', -- names/aliases and memberships, for building indexes without parsing docs
        doc TEXT,                      -- the entry as JSON, or NULL for a removal (tombstone)
        revision INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (scope, slug)
    );
    CREATE TABLE revisions (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        slug TEXT NOT NULL,
        number INTEGER NOT NULL,
        action TEXT NOT NULL,
        author TEXT NOT NULL,
        created_at REAL NOT NULL,
        doc TEXT,
        UNIQUE (scope, slug, number),
        FOREIGN KEY (scope, slug) REFERENCES entries (scope, slug) ON DELETE CASCADE
    );
    CREATE VIRTUAL TABLE lore_text USING fts5 (
        scope UNINDEXED, slug UNINDEXED, episode UNINDEXED, part UNINDEXED, text,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TABLE guild_settings (
        guild_id INTEGER PRIMARY KEY,
        episode INTEGER CHECK (episode >= 0),
        mode TEXT CHECK (mode IN ('hide', 'tag', 'show'))
    );
    CREATE TABLE channel_settings (
        channel_id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        episode INTEGER CHECK (episode >= 0),
        mode TEXT CHECK (mode IN ('hide', 'tag', 'show'))
    );
    CREATE INDEX channel_settings_guild ON channel_settings (guild_id);
    CREATE TABLE user_progress (
        user_id INTEGER PRIMARY KEY,
        episode INTEGER NOT NULL CHECK (episode >= 0),
        updated_at REAL NOT NULL
    );
    """,
    # 2: full-text rows in an ordinary table indexed by entry (the FTS index reads them as external
    # content), so replacing one entry's text no longer scans the whole index
    """
    CREATE TABLE lore_text_rows (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        slug TEXT NOT NULL,
        episode INTEGER NOT NULL,
        part TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX lore_text_rows_entry ON lore_text_rows (scope, slug);
    INSERT INTO lore_text_rows (scope, slug, episode, part, text)
        SELECT scope, slug, episode, part, text FROM lore_text;
    DROP TABLE lore_text;
    CREATE VIRTUAL TABLE lore_text USING fts5 (
        text, content = 'lore_text_rows', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER lore_text_rows_insert AFTER INSERT ON lore_text_rows BEGIN
        INSERT INTO lore_text (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER lore_text_rows_delete AFTER DELETE ON lore_text_rows BEGIN
        INSERT INTO lore_text (lore_text, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    INSERT INTO lore_text (lore_text) VALUES ('rebuild');
    """,
    # 3: revisions outlive their entry row, so that a server can go back to following the canon
    # (its override row is deleted) and keep the history of what it did
    """
    CREATE TABLE revisions_v3 (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        slug TEXT NOT NULL,
        number INTEGER NOT NULL,
        action TEXT NOT NULL,
        author TEXT NOT NULL,
        created_at REAL NOT NULL,
        doc TEXT,
        UNIQUE (scope, slug, number)
    );
    INSERT INTO revisions_v3 (id, scope, slug, number, action, author, created_at, doc)
        SELECT id, scope, slug, number, action, author, created_at, doc FROM revisions;
    DROP TABLE revisions;
    ALTER TABLE revisions_v3 RENAME TO revisions;
    """,
    # 4: the change feed (see lore.feed): one row per committed change, written in its transaction
    """
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope TEXT NOT NULL,
        what TEXT NOT NULL,
        key TEXT NOT NULL DEFAULT '',
        origin TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL
    );
    """,
    # 5: the full-text index is kept up to date by the writer in bulk (one statement per write
    # instead of a trigger per row: an import of thousands of entries holds the writer 5x shorter)
    """
    DROP TRIGGER lore_text_rows_insert;
    DROP TRIGGER lore_text_rows_delete;
    """,
    # 6: watch-along: quiz scores per server and member, and spoiler schedules (ticked by the one
    # process holding the schedule lease, see Store.try_lease)
    """
    CREATE TABLE quiz_scores (
        guild_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        points INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        answered INTEGER NOT NULL DEFAULT 0,
        sessions INTEGER NOT NULL DEFAULT 0,
        reached_at REAL NOT NULL,   -- when the member reached their current points (ties: first there first)
        updated_at REAL NOT NULL,
        PRIMARY KEY (guild_id, user_id)
    );
    CREATE INDEX quiz_scores_rank ON quiz_scores (guild_id, points DESC, reached_at, user_id);
    CREATE TABLE spoiler_schedules (
        guild_id INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,       -- 0: the server's own setting
        next_at REAL NOT NULL,             -- UTC seconds of the next tick
        every_days INTEGER NOT NULL CHECK (every_days BETWEEN 1 AND 365),
        announce_channel_id INTEGER,
        tz TEXT NOT NULL,                  -- the zone the start was given in (for display)
        paused INTEGER NOT NULL DEFAULT 0,
        created_by INTEGER,
        updated_at REAL NOT NULL,
        PRIMARY KEY (guild_id, channel_id)
    );
    """,
    # 7: a schedule's ticks count from its first one (anchor_at) on the wall clock of its zone, so
    # a weekly 20:00 stays at 20:00 across summer time (see lore.schedule)
    """
    ALTER TABLE spoiler_schedules ADD COLUMN anchor_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE spoiler_schedules ADD COLUMN ticks INTEGER NOT NULL DEFAULT 0;
    UPDATE spoiler_schedules SET anchor_at = next_at;
    CREATE INDEX spoiler_schedules_due ON spoiler_schedules (next_at) WHERE paused = 0;
    """,
    # 8: a server's edit of a canon entry is a patch over it, not a copy (lore.patches): every
    # existing copy, and every revision of one, becomes its patch (MIGRATION_STEPS[8])
    "SELECT 1;",
    # 9: episode numbers are bounded by the franchise's own episode list (the canon pack's
    # ``pack.episodes``, checked by the service), not by one show's count: the settings and progress
    # tables are rebuilt without that bound (SQLite cannot drop a CHECK in place)
    """
    CREATE TABLE guild_settings_v9 (
        guild_id INTEGER PRIMARY KEY,
        episode INTEGER CHECK (episode >= 0),
        mode TEXT CHECK (mode IN ('hide', 'tag', 'show'))
    );
    INSERT INTO guild_settings_v9 (guild_id, episode, mode) SELECT guild_id, episode, mode FROM guild_settings;
    DROP TABLE guild_settings;
    ALTER TABLE guild_settings_v9 RENAME TO guild_settings;
    CREATE TABLE channel_settings_v9 (
        channel_id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        episode INTEGER CHECK (episode >= 0),
        mode TEXT CHECK (mode IN ('hide', 'tag', 'show'))
    );
    INSERT INTO channel_settings_v9 (channel_id, guild_id, episode, mode)
        SELECT channel_id, guild_id, episode, mode FROM channel_settings;
    DROP TABLE channel_settings;
    ALTER TABLE channel_settings_v9 RENAME TO channel_settings;
    CREATE INDEX channel_settings_guild ON channel_settings (guild_id);
    CREATE TABLE user_progress_v9 (
        user_id INTEGER PRIMARY KEY,
        episode INTEGER NOT NULL CHECK (episode >= 0),
        updated_at REAL NOT NULL
    );
    INSERT INTO user_progress_v9 (user_id, episode, updated_at) SELECT user_id, episode, updated_at FROM user_progress;
    DROP TABLE user_progress;
    ALTER TABLE user_progress_v9 RENAME TO user_progress;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

#: Work of a schema version that SQL alone cannot do, run after its SQL in the same transaction
#: (on both backends: the step reads and writes through a :class:`Tx`).
MIGRATION_STEPS: dict[int, Callable[[Tx], Awaitable[None]]] = {8: migrate_overrides}

#: The action of the revision that drops a server's override (the server follows the canon again).
FOLLOW_CANON = "back to the canon"


def _statements(script: str) -> Iterable[str]:
    """Split a migration script into complete SQL statements (trigger bodies included)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf
            buf = ""
    if buf.strip():
        yield buf


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    number: int
    action: str
    author: str
    created_at: float
    removed: bool

    @property
    def is_removal(self) -> bool:
        """Whether this revision removed the entry (going back to the canon is not a removal)."""
        return self.removed and self.action != FOLLOW_CANON


@dataclass(frozen=True, slots=True)
class TextHit:
    scope: str
    slug: str
    episode: int
    part: str
    snippet: str  # the matched words between \x02 and \x03
    rank: float


@dataclass(frozen=True, slots=True)
class StoredEntry:
    slug: str
    kind: str
    name: str
    introduced: int
    keys: str  # JSON: {"names": [[text, episode], ...], "member_of": [[slug, episode], ...]}
    doc: str | bytes | None  # the entry as JSON (UTF-8 bytes from ``load_scope(raw_docs=True)``)


def entry_keys(entry: Entry) -> str:
    return json.dumps(
        {
            "names": entry.all_names(),
            "member_of": [[r.target, r.episode] for r in entry.relations if r.type.value == "member_of"],
        },
        ensure_ascii=False,
    )


@dataclass(frozen=True, slots=True)
class Change:
    """One entry write: a new document, or ``None`` to remove the entry from the scope.

    With ``patch``, a server's edit of a canon entry: the patch is what is stored (see
    :mod:`lore.patches`), ``entry`` the patched entry its index keys and text are made from.

    Its rows (the JSON document, the index keys, the searchable text) are computed when the change
    is made, so that a large import computes them before it takes the writer, not while holding it.
    """

    slug: str
    entry: Entry | None
    action: str
    patch: EntryPatch | None = None
    doc: str | None = field(init=False, default=None)
    keys: str = field(init=False, default="{}")
    text: list[tuple[str, int, str, str]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.entry is not None:
            doc = patch_doc(self.patch) if self.patch is not None else self.entry.model_dump_json(exclude_defaults=True)
            object.__setattr__(self, "doc", doc)
            object.__setattr__(self, "keys", entry_keys(self.entry))
            object.__setattr__(self, "text", list(_text_rows(self.entry)))


#: How long a write waits for another process's write transaction before giving up (SQLite's
#: busy timeout). Writes are deferred on Discord first, so this is well inside what a user waits.
BUSY_TIMEOUT_MS = 5000


def _text_rows(entry: Entry) -> Iterable[tuple[str, int, str, str]]:
    yield entry.slug, entry.introduced, "name", entry.name
    if entry.summary:
        yield entry.slug, entry.introduced, "summary", entry.summary
    for later in entry.later_summaries:
        yield entry.slug, max(later.episode, entry.introduced), "summary", later.text
    for fact in entry.facts:
        yield entry.slug, fact.episode, "fact", fact.text
    for attr in entry.attributes:
        yield entry.slug, attr.episode, "attribute", f"{attr.label}: {attr.value}"
    if entry.episode is not None:
        titles = " / ".join([entry.episode.title, *(entry.episode.alt_titles)])
        yield entry.slug, title_episode(entry) or entry.introduced, "title", titles


class Tx:
    """One write transaction (see :meth:`Store.write`): reads see the transaction's own writes."""

    __slots__ = ("_db", "changes")

    def __init__(self, db: aiosqlite.Connection):
        self._db = db
        self.changes: list[tuple[str, str, str]] = []

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

    def changed(self, scope: str, what: str, key: object = "") -> None:
        """Record a row of the change feed, committed with this transaction."""
        self.changes.append((scope, what, str(key)))


def _in_chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


class Store:
    #: Which backend this is (see :mod:`lore.storage`); the PostgreSQL store says ``"postgresql"``.
    backend = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: str, writer: aiosqlite.Connection | None = None):
        self.db = db  # reads
        self._writer = writer or db  # the one connection that writes
        self.path = path
        self._lock = asyncio.Lock()
        #: This process, as written in the feed's ``origin`` column.
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.feed = ChangeFeed(self.fetchall)
        self._writes = 0
        #: Per-server quotas, checked inside every write of a server's entries (None: no quotas).
        self.quotas: Quotas | None = None
        #: Called with the seconds each committed write transaction took (the bot's metrics).
        self.on_write: Callable[[float], None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    async def open(cls, path: str | Path, *, check: bool = True) -> Store:
        """Open (creating and migrating) the database at ``path``; ``check`` runs SQLite's quick
        integrity check first, refusing a damaged database."""
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
                if check:
                    await _quick_check(reader, path)
                await writer.execute("PRAGMA journal_mode = WAL")
                for conn in conns:
                    await conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as e:  # "file is not a database", a read-only directory, ...
                raise StoreError(f"cannot use {path} as the lore database: {_reason(e)}") from None
            store = cls(reader, path, writer)
            try:
                await store.migrate()
            except sqlite3.Error as e:
                raise StoreError(f"cannot migrate the lore database {path}: {_reason(e)}") from None
        except BaseException:
            for conn in conns:
                with contextlib.suppress(Exception):
                    await conn.close()
            raise
        return store

    async def close(self) -> None:
        if self._writer is not self.db:
            await self._writer.close()
        await self.db.close()

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
                    for statement in _statements(MIGRATIONS[version - 1]):
                        await self._writer.execute(statement)
                    step = MIGRATION_STEPS.get(version)
                    if step is not None:
                        await step(Tx(self._writer))
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
        """The one way to write: a transaction of this process's single writer.

        Inside, read what the change depends on through ``tx`` (it is current: no other writer can
        commit until this one ends), write, and record feed rows with ``tx.changed``. On leaving,
        the feed rows are inserted and everything commits, or on any error nothing does (a failed
        ``ROLLBACK`` is logged, never raised in place of the error). Then the process applies the
        feed (after letting the next writer in), so its memory shows the write when this returns.
        Database faults raise :class:`WriteFault`.
        """
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
            tx = Tx(self._writer)
            try:
                # memory at the state this write starts from (unless a write that just committed is
                # being applied: what this write changes, it reads inside the transaction anyway)
                await self.feed.catch_up(unless_busy=True)
                yield tx
                if tx.changes:
                    now = time.time()
                    await self._writer.executemany(
                        "INSERT INTO changes (scope, what, key, origin, at) VALUES (?, ?, ?, ?, ?)",
                        [(scope, what, key, self.origin, now) for scope, what, key in tx.changes],
                    )
                    self._writes += 1
                    if self._writes % 256 == 0:
                        await self._prune(tx, now)
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

    async def _prune(self, tx: Tx, now: float) -> None:
        rows = await tx.fetchall("SELECT COALESCE(MAX(id), 0) FROM changes")
        upto = int(rows[0][0]) - feed.KEEP_ROWS
        if upto <= 0:
            return
        row = await tx.fetchone("SELECT MAX(id) FROM changes WHERE id <= ? AND at < ?", (upto, now - feed.KEEP_SECONDS))
        if row is None or row[0] is None:
            return
        await tx.execute("DELETE FROM changes WHERE id <= ?", (int(row[0]),))
        await self.put_meta(tx, feed.PRUNED_KEY, str(int(row[0])), record=False)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of a read on the read connection (the last committed state)."""
        return list(await self.db.execute_fetchall(sql, params))

    def _reader(self, tx: Tx | None) -> Callable[[str, Sequence[Any]], Awaitable[list[Any]]]:
        return tx.fetchall if tx is not None else self.fetchall

    # -- meta --------------------------------------------------------------------------------
    async def get_meta(self, key: str, tx: Tx | None = None) -> str | None:
        rows = await self._reader(tx)("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def put_meta(self, tx: Tx, key: str, value: str, *, record: bool = True) -> None:
        await tx.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        if record:
            tx.changed("meta", feed.META, key)

    async def set_meta(self, key: str, value: str) -> None:
        async with self.write() as tx:
            await self.put_meta(tx, key, value)

    async def claim_slot(self, key: str, interval: float) -> float:
        """Take the slot ``key`` if it was last taken ``interval`` seconds ago or more (one write,
        so processes sharing the database take it one at a time); else the seconds left to wait."""
        async with self.write() as tx:
            now = time.time()
            value = await self.get_meta(key, tx)
            last = float(value) if value else 0.0
            if last <= now < last + interval:
                return last + interval - now
            await self.put_meta(tx, key, repr(now), record=False)
        return 0.0

    async def try_lease(self, key: str, owner: str, ttl: float) -> bool:
        """Hold the lease ``key`` for ``ttl`` seconds unless another owner holds an unexpired one."""
        async with self.write() as tx:
            now = time.time()
            value = await self.get_meta(key, tx)
            if value is not None:
                holder, _, until = value.rpartition(" ")
                if holder != owner and now < float(until or 0):
                    return False
            await self.put_meta(tx, key, f"{owner} {now + ttl!r}", record=False)
        return True

    async def release_lease(self, key: str, owner: str) -> None:
        async with self.write() as tx:
            value = await self.get_meta(key, tx)
            if value is not None and value.rpartition(" ")[0] == owner:
                await tx.execute("DELETE FROM meta WHERE key = ?", (key,))

    # -- entries -----------------------------------------------------------------------------
    async def load_scope(self, scope: str, *, raw_docs: bool = False) -> list[StoredEntry]:
        """Every entry row of ``scope`` (removals included, with ``doc`` None).

        ``raw_docs`` gives each document as its UTF-8 bytes (no decoding; half the memory of a
        ``str`` holding kana). All rows come back in one round trip to the database thread.
        """
        doc = "CAST(doc AS BLOB)" if raw_docs else "doc"
        rows = await self.fetchall(
            f"SELECT slug, kind, name, introduced, keys, {doc} FROM entries WHERE scope = ?", (scope,)
        )
        return [StoredEntry(*row) for row in rows]

    async def load_all_scopes(self, *, raw_docs: bool = False) -> dict[str, list[StoredEntry]]:
        """Every scope's rows, as :meth:`load_scope` gives them (in slug order), in one table scan:
        at 100,000 entries a scan reads the table in half the time the per-scope index walk takes."""
        doc = "CAST(doc AS BLOB)" if raw_docs else "doc"
        async with self.db.execute(
            f"SELECT scope, slug, kind, name, introduced, keys, {doc} FROM entries NOT INDEXED"
        ) as cur:
            rows = list(await cur.fetchall())
        rows.sort(key=itemgetter(0, 1))  # scope, slug: the primary key's (binary) order
        out: dict[str, list[StoredEntry]] = {}
        for scope, group in groupby(rows, itemgetter(0)):
            out[scope] = [StoredEntry(*row[1:]) for row in group]
        return out

    async def read_entry(self, tx: Tx | None, scope: str, slug: str) -> tuple[bool, str | None]:
        """(the scope has a row for ``slug``, its document or None for a removal)."""
        rows = await self._reader(tx)("SELECT doc FROM entries WHERE scope = ? AND slug = ?", (scope, slug))
        return (True, rows[0][0]) if rows else (False, None)

    async def read_docs(self, tx: Tx | None, scope: str) -> dict[str, str | None]:
        """Every row of ``scope``: slug -> document (None for a removal)."""
        rows = await self._reader(tx)("SELECT slug, doc FROM entries WHERE scope = ?", (scope,))
        return dict(rows)

    async def put_entries(
        self,
        tx: Tx,
        scope: str,
        changes: list[Change],
        author: str,
        purge: Iterable[str] = (),
        *,
        import_bytes: int = 0,
    ) -> dict[str, int]:
        """Apply ``changes`` to ``scope`` within ``tx``; returns slug -> new revision number.

        ``purge`` deletes entries outright, history included (a canon upgrade dropping an entry).
        A few statements whatever the number of changes (an import of thousands holds the writer
        for a moment, not for thousands of round trips). A server's quotas (:mod:`lore.quotas`)
        are counted in the same transaction, after the write: a refusal (``QuotaExceeded``) rolls
        it all back. ``import_bytes`` counts towards the server's daily import volume.
        """
        guard = self.quotas.guard(scope, import_bytes=import_bytes) if self.quotas is not None else None
        if guard is not None:
            await guard.begin(tx, len(changes))
        purge = list(purge)
        out = await self._put_entries(tx, scope, changes, author, purge)
        if scope == CANON:
            await self._refresh_patches(tx, [*purge, *out])
        if guard is not None:
            await guard.end(tx)
        return out

    async def _put_entries(
        self, tx: Tx, scope: str, changes: list[Change], author: str, purge: Iterable[str]
    ) -> dict[str, int]:
        now = time.time()
        purge = list(purge)
        if purge:
            keys = [(scope, slug) for slug in purge]
            await self._replace_text(tx, scope, purge, [])
            await tx.executemany("DELETE FROM revisions WHERE scope = ? AND slug = ?", keys)
            await tx.executemany("DELETE FROM entries WHERE scope = ? AND slug = ?", keys)
            for slug in purge:
                tx.changed(scope, feed.ENTRY, slug)
        if not changes:
            return {}
        last = await self._last_revisions(tx, scope, [ch.slug for ch in changes])
        out: dict[str, int] = {}
        entry_rows: list[tuple[Any, ...]] = []
        revision_rows: list[tuple[Any, ...]] = []
        text_rows: list[tuple[Any, ...]] = []
        for ch in changes:
            number = last.get(ch.slug, 0) + 1
            last[ch.slug] = out[ch.slug] = number
            doc = ch.doc
            if ch.entry is not None:
                kind, name, introduced = ch.entry.kind.value, ch.entry.name, ch.entry.introduced
                keys_json = ch.keys
                text_rows.extend((scope, *row) for row in ch.text)
            else:
                kind, name, introduced, keys_json = "removed", ch.slug, 0, "{}"
            entry_rows.append((scope, ch.slug, kind, name, introduced, keys_json, doc, number, now))
            revision_rows.append((scope, ch.slug, number, ch.action, author, now, doc))
            tx.changed(scope, feed.ENTRY, ch.slug)
        await tx.executemany(
            "INSERT INTO entries (scope, slug, kind, name, introduced, keys, doc, revision, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, slug) DO UPDATE SET "
            "kind = excluded.kind, name = excluded.name, introduced = excluded.introduced, "
            "keys = excluded.keys, doc = excluded.doc, revision = excluded.revision, "
            "updated_at = excluded.updated_at",
            entry_rows,
        )
        await tx.executemany(
            "INSERT INTO revisions (scope, slug, number, action, author, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            revision_rows,
        )
        await self._replace_text(tx, scope, list(out), text_rows)
        return out

    async def _refresh_patches(self, tx: Tx, slugs: Iterable[str]) -> None:
        """After a write of canon entries: the servers' patches of them give new entries, so their
        rows' names, index keys and search text are made again from the new canon (the patches
        themselves, what the servers wrote, stay as they are)."""
        slugs = set(slugs)
        if not slugs:
            return
        rows = await tx.fetchall(
            "SELECT scope, slug, doc FROM entries WHERE scope != ? AND doc LIKE ?", (CANON, PATCH_PREFIX + "%")
        )
        rows = [row for row in rows if row[1] in slugs]
        for scope, slug, doc in rows:
            _, canon_doc = await self.read_entry(tx, CANON, slug)
            entry = effective(canon_doc, doc)
            if entry is None:  # the canon dropped the entry: the patch stays, showing nothing
                await self._replace_text(tx, scope, [slug], [])
            else:
                await tx.execute(
                    "UPDATE entries SET kind = ?, name = ?, introduced = ?, keys = ? WHERE scope = ? AND slug = ?",
                    (entry.kind.value, entry.name, entry.introduced, entry_keys(entry), scope, slug),
                )
                await self._replace_text(tx, scope, [slug], [(scope, *row) for row in _text_rows(entry)])
            tx.changed(scope, feed.ENTRY, slug)

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

    async def _last_revisions(self, tx: Tx, scope: str, slugs: list[str]) -> dict[str, int]:
        if len(slugs) > 200:  # an import: one pass over the scope's history
            rows = await tx.fetchall("SELECT slug, MAX(number) FROM revisions WHERE scope = ? GROUP BY slug", (scope,))
        else:
            rows = []
            for chunk in _in_chunks(sorted(set(slugs))):
                marks = ", ".join("?" for _ in chunk)
                rows += await tx.fetchall(
                    f"SELECT slug, MAX(number) FROM revisions WHERE scope = ? AND slug IN ({marks}) GROUP BY slug",
                    (scope, *chunk),
                )
        return {slug: int(n) for slug, n in rows}

    async def drop_entry(self, tx: Tx, scope: str, slug: str, author: str, action: str = FOLLOW_CANON) -> int:
        """Delete ``scope``'s own row for ``slug`` (what lies beneath shows again), recording it as a
        revision; returns its number."""
        number = (await self._last_revisions(tx, scope, [slug])).get(slug, 0) + 1
        await self._replace_text(tx, scope, [slug], [])
        await tx.execute("DELETE FROM entries WHERE scope = ? AND slug = ?", (scope, slug))
        await tx.execute(
            "INSERT INTO revisions (scope, slug, number, action, author, created_at, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (scope, slug, number, action, author, time.time()),
        )
        tx.changed(scope, feed.ENTRY, slug)
        return number

    async def drop(self, scope: str, slug: str, author: str, action: str = FOLLOW_CANON) -> int:
        """:meth:`drop_entry` in a write of its own."""
        async with self.write() as tx:
            return await self.drop_entry(tx, scope, slug, author, action)

    async def history(self, scope: str, slug: str, tx: Tx | None = None) -> list[RevisionInfo]:
        rows = await self._reader(tx)(
            "SELECT number, action, author, created_at, doc IS NULL FROM revisions "
            "WHERE scope = ? AND slug = ? ORDER BY number",
            (scope, slug),
        )
        return [RevisionInfo(n, a, au, t, bool(r)) for n, a, au, t, r in rows]

    async def revision_doc(self, scope: str, slug: str, number: int, tx: Tx | None = None) -> tuple[bool, str | None]:
        """(exists, document) of one revision."""
        rows = await self._reader(tx)(
            "SELECT doc FROM revisions WHERE scope = ? AND slug = ? AND number = ?", (scope, slug, number)
        )
        return (bool(rows), rows[0][0] if rows else None)

    async def search_text(
        self, words: Sequence[str], scopes: list[str], limit: int = 500, *, bound: int | None = None
    ) -> list[TextHit]:
        """The text rows of ``scopes`` holding every word (the last one as a prefix), best first;
        with ``bound``, only rows revealed by that episode, in the order they were written (bm25
        weighs a row by every row of the index, later lore included, so its order would tell about
        rows the viewer may not see). Matched words are marked by the characters 2 and 3."""
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

    # -- settings and progress ---------------------------------------------------------------
    async def load_settings(
        self,
    ) -> tuple[dict[int, Setting], dict[int, tuple[int, Setting]], dict[int, int]]:
        guilds = {gid: _setting(ep, mode) for gid, ep, mode in await self.fetchall(_GUILD_SQL)}
        channels = {cid: (gid, _setting(ep, mode)) for cid, gid, ep, mode in await self.fetchall(_CHANNEL_SQL)}
        progress = {uid: ep for uid, ep in await self.fetchall(_PROGRESS_SQL)}
        return guilds, channels, progress

    async def _select_in(self, tx: Tx | None, sql: str, column: str, ids: Iterable[int]) -> list[Any]:
        ids = sorted({int(i) for i in ids})
        rows: list[Any] = []
        for chunk in _in_chunks(ids):
            marks = ", ".join("?" for _ in chunk)
            rows += await self._reader(tx)(f"{sql} WHERE {column} IN ({marks})", chunk)
        return rows

    async def guild_settings(self, guild_ids: Iterable[int], tx: Tx | None = None) -> dict[int, Setting]:
        return {gid: _setting(ep, m) for gid, ep, m in await self._select_in(tx, _GUILD_SQL, "guild_id", guild_ids)}

    async def channel_settings(
        self, channel_ids: Iterable[int], tx: Tx | None = None
    ) -> dict[int, tuple[int, Setting]]:
        rows = await self._select_in(tx, _CHANNEL_SQL, "channel_id", channel_ids)
        return {cid: (gid, _setting(ep, m)) for cid, gid, ep, m in rows}

    async def progress_of(self, user_ids: Iterable[int], tx: Tx | None = None) -> dict[int, int]:
        return dict(await self._select_in(tx, _PROGRESS_SQL, "user_id", user_ids))

    async def put_guild_setting(self, tx: Tx, guild_id: int, setting: Setting) -> None:
        await tx.execute(
            "INSERT INTO guild_settings (guild_id, episode, mode) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET episode = excluded.episode, mode = excluded.mode",
            (guild_id, setting.episode, setting.mode.value if setting.mode else None),
        )
        tx.changed(guild_scope(guild_id), feed.SERVER_SETTING, guild_id)

    async def put_channel_setting(self, tx: Tx, guild_id: int, channel_id: int, setting: Setting | None) -> None:
        if setting is None or setting.empty:
            await tx.execute("DELETE FROM channel_settings WHERE channel_id = ?", (channel_id,))
        else:
            await tx.execute(
                "INSERT INTO channel_settings (channel_id, guild_id, episode, mode) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id, "
                "episode = excluded.episode, mode = excluded.mode",
                (channel_id, guild_id, setting.episode, setting.mode.value if setting.mode else None),
            )
        tx.changed(guild_scope(guild_id), feed.CHANNEL_SETTING, channel_id)

    async def put_progress(self, tx: Tx, user_id: int, episode: int | None) -> None:
        if episode is None:
            await tx.execute("DELETE FROM user_progress WHERE user_id = ?", (user_id,))
        else:
            await tx.execute(
                "INSERT INTO user_progress (user_id, episode, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET episode = excluded.episode, "
                "updated_at = excluded.updated_at",
                (user_id, episode, time.time()),
            )
        tx.changed("user", feed.PROGRESS, user_id)


_GUILD_SQL = "SELECT guild_id, episode, mode FROM guild_settings"
_CHANNEL_SQL = "SELECT channel_id, guild_id, episode, mode FROM channel_settings"
_PROGRESS_SQL = "SELECT user_id, episode FROM user_progress"


def _setting(episode: int | None, mode: str | None) -> Setting:
    return Setting(episode, Mode(mode) if mode else None)


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


async def _quick_check(conn: aiosqlite.Connection, path: str) -> None:
    """Refuse a database damaged inside its pages (SQLite's ``PRAGMA quick_check``)."""
    problems = [row[0] for row in await conn.execute_fetchall("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        detail = "; ".join(" ".join(str(p).split()) for p in problems)
        raise StoreError(
            f"the lore database {path} is damaged ({detail[:300]}); run `lorebot db check`, then restore a backup "
            "or move the file away to start afresh"
        )


@dataclass(frozen=True, slots=True)
class CheckReport:
    path: str
    schema: int
    problems: list[str]
    entries: int
    changes: int

    @property
    def ok(self) -> bool:
        return not self.problems and self.schema == SCHEMA_VERSION


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
