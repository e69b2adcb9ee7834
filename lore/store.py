"""The SQLite lore store: entries by scope, revisions, full-text index, spoiler settings, progress.

One connection (aiosqlite), WAL, foreign keys on, a versioned schema migrated with
``PRAGMA user_version``. Every write method is one transaction: it all happens or none of it does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import aiosqlite

from lore.errors import StoreError as StoreError
from lore.model import Entry
from lore.spoilers import Mode, Setting

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
        episode INTEGER CHECK (episode BETWEEN 0 AND 13),
        mode TEXT CHECK (mode IN ('hide', 'tag', 'show'))
    );
    CREATE TABLE channel_settings (
        channel_id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        episode INTEGER CHECK (episode BETWEEN 0 AND 13),
        mode TEXT CHECK (mode IN ('hide', 'tag', 'show'))
    );
    CREATE INDEX channel_settings_guild ON channel_settings (guild_id);
    CREATE TABLE user_progress (
        user_id INTEGER PRIMARY KEY,
        episode INTEGER NOT NULL CHECK (episode BETWEEN 0 AND 13),
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
]
SCHEMA_VERSION = len(MIGRATIONS)

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


@dataclass(frozen=True, slots=True)
class TextHit:
    scope: str
    slug: str
    episode: int
    part: str
    snippet: str
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
    """One entry write: a new document, or ``None`` to remove the entry from the scope."""

    slug: str
    entry: Entry | None
    action: str


def _text_rows(scope: str, entry: Entry) -> Iterable[tuple[str, str, int, str, str]]:
    yield scope, entry.slug, entry.introduced, "name", entry.name
    if entry.summary:
        yield scope, entry.slug, entry.introduced, "summary", entry.summary
    for later in entry.later_summaries:
        yield scope, entry.slug, max(later.episode, entry.introduced), "summary", later.text
    for fact in entry.facts:
        yield scope, entry.slug, fact.episode, "fact", fact.text
    for attr in entry.attributes:
        yield scope, entry.slug, attr.episode, "attribute", f"{attr.label}: {attr.value}"
    if entry.episode is not None:
        titles = " / ".join([entry.episode.title, *(entry.episode.alt_titles)])
        yield scope, entry.slug, entry.introduced, "title", titles


class Store:
    def __init__(self, db: aiosqlite.Connection, path: str):
        self.db = db
        self.path = path

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    async def open(cls, path: str | Path) -> Store:
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except Exception as e:  # sqlite3.OperationalError and friends
            raise StoreError(f"cannot open the lore database at {path}: {e}") from None
        try:
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as e:  # "file is not a database", a read-only directory, ...
            await db.close()
            raise StoreError(f"cannot use {path} as the lore database: {e}") from None
        store = cls(db, path)
        try:
            await store.migrate()
        except Exception:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self.db.close()

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction. Returns how many ran."""
        current = await self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the database schema is version {current}, newer than this lorebot ({SCHEMA_VERSION}); upgrade lorebot"
            )
        applied = 0
        for version in range(current + 1, SCHEMA_VERSION + 1):
            async with self.transaction():
                for statement in _statements(MIGRATIONS[version - 1]):
                    await self.db.execute(statement)
                await self.db.execute(f"PRAGMA user_version = {version}")
            log.info("lore database migrated to schema version %d", version)
            applied += 1
        return applied

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        else:
            await self.db.execute("COMMIT")

    # -- meta --------------------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        async with self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    async def claim_slot(self, key: str, interval: float) -> float:
        """Take the slot ``key`` if it was last taken ``interval`` seconds ago or more (one transaction,
        so processes sharing the database take it one at a time); else the seconds left to wait."""
        async with self.transaction() as db:
            now = time.time()
            async with db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
                row = await cur.fetchone()
            last = float(row[0]) if row else 0.0
            if last <= now < last + interval:
                return last + interval - now
            await db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, repr(now)),
            )
        return 0.0

    async def try_lease(self, key: str, owner: str, ttl: float) -> bool:
        """Hold the lease ``key`` for ``ttl`` seconds unless another owner holds an unexpired one."""
        async with self.transaction() as db:
            now = time.time()
            async with db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
                row = await cur.fetchone()
            if row is not None:
                holder, _, until = row[0].rpartition(" ")
                if holder != owner and now < float(until or 0):
                    return False
            await db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, f"{owner} {now + ttl!r}"),
            )
        return True

    async def release_lease(self, key: str, owner: str) -> None:
        async with self.transaction() as db:
            async with db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
                row = await cur.fetchone()
            if row is not None and row[0].rpartition(" ")[0] == owner:
                await db.execute("DELETE FROM meta WHERE key = ?", (key,))

    # -- entries -----------------------------------------------------------------------------
    async def load_scope(self, scope: str, *, raw_docs: bool = False) -> list[StoredEntry]:
        """Every entry row of ``scope`` (removals included, with ``doc`` None).

        ``raw_docs`` gives each document as its UTF-8 bytes (no decoding; half the memory of a
        ``str`` holding kana). All rows come back in one round trip to the database thread.
        """
        doc = "CAST(doc AS BLOB)" if raw_docs else "doc"
        async with self.db.execute(
            f"SELECT slug, kind, name, introduced, keys, {doc} FROM entries WHERE scope = ?", (scope,)
        ) as cur:
            rows = await cur.fetchall()
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

    async def guild_scopes(self) -> list[str]:
        async with self.db.execute("SELECT DISTINCT scope FROM entries WHERE scope != ?", (CANON,)) as cur:
            return [row[0] async for row in cur]

    async def write(self, scope: str, changes: list[Change], author: str, purge: Iterable[str] = ()) -> dict[str, int]:
        """Apply ``changes`` to ``scope`` in one transaction; returns slug -> new revision number.

        ``purge`` deletes entries outright, history included (a canon upgrade dropping an entry).
        """
        now = time.time()
        out: dict[str, int] = {}
        async with self.transaction() as db:
            for slug in purge:
                await db.execute("DELETE FROM lore_text_rows WHERE scope = ? AND slug = ?", (scope, slug))
                await db.execute("DELETE FROM revisions WHERE scope = ? AND slug = ?", (scope, slug))
                await db.execute("DELETE FROM entries WHERE scope = ? AND slug = ?", (scope, slug))
            for ch in changes:
                number = await self._next_revision(scope, ch.slug)
                doc = ch.entry.model_dump_json(exclude_defaults=True) if ch.entry is not None else None
                if ch.entry is not None:
                    kind, name, introduced = ch.entry.kind.value, ch.entry.name, ch.entry.introduced
                    keys = entry_keys(ch.entry)
                else:
                    kind, name, introduced, keys = "removed", ch.slug, 0, "{}"
                await db.execute(
                    "INSERT INTO entries (scope, slug, kind, name, introduced, keys, doc, revision, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, slug) DO UPDATE SET "
                    "kind = excluded.kind, name = excluded.name, introduced = excluded.introduced, "
                    "keys = excluded.keys, doc = excluded.doc, revision = excluded.revision, "
                    "updated_at = excluded.updated_at",
                    (scope, ch.slug, kind, name, introduced, keys, doc, number, now),
                )
                await db.execute(
                    "INSERT INTO revisions (scope, slug, number, action, author, created_at, doc) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (scope, ch.slug, number, ch.action, author, now, doc),
                )
                await db.execute("DELETE FROM lore_text_rows WHERE scope = ? AND slug = ?", (scope, ch.slug))
                if ch.entry is not None:
                    await db.executemany(
                        "INSERT INTO lore_text_rows (scope, slug, episode, part, text) VALUES (?, ?, ?, ?, ?)",
                        list(_text_rows(scope, ch.entry)),
                    )
                out[ch.slug] = number
        return out

    async def _next_revision(self, scope: str, slug: str) -> int:
        async with self.db.execute(
            "SELECT COALESCE(MAX(number), 0) FROM revisions WHERE scope = ? AND slug = ?", (scope, slug)
        ) as cur:
            row = await cur.fetchone()
        assert row is not None  # an aggregate always returns one row
        return int(row[0]) + 1

    async def drop(self, scope: str, slug: str, author: str, action: str = FOLLOW_CANON) -> int:
        """Delete ``scope``'s own row for ``slug`` (what lies beneath shows again), recording it as a
        revision; returns its number. One transaction."""
        async with self.transaction() as db:
            number = await self._next_revision(scope, slug)
            await db.execute("DELETE FROM lore_text_rows WHERE scope = ? AND slug = ?", (scope, slug))
            await db.execute("DELETE FROM entries WHERE scope = ? AND slug = ?", (scope, slug))
            await db.execute(
                "INSERT INTO revisions (scope, slug, number, action, author, created_at, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (scope, slug, number, action, author, time.time()),
            )
        return number

    async def history(self, scope: str, slug: str) -> list[RevisionInfo]:
        async with self.db.execute(
            "SELECT number, action, author, created_at, doc IS NULL FROM revisions "
            "WHERE scope = ? AND slug = ? ORDER BY number",
            (scope, slug),
        ) as cur:
            return [RevisionInfo(n, a, au, t, bool(r)) async for n, a, au, t, r in cur]

    async def revision_doc(self, scope: str, slug: str, number: int) -> tuple[bool, str | None]:
        """(exists, document) of one revision."""
        async with self.db.execute(
            "SELECT doc FROM revisions WHERE scope = ? AND slug = ? AND number = ?", (scope, slug, number)
        ) as cur:
            row = await cur.fetchone()
        return (row is not None, row[0] if row else None)

    async def search_text(self, match: str, scopes: list[str], limit: int = 500) -> list[TextHit]:
        marks = ", ".join("?" for _ in scopes)
        sql = (
            "SELECT r.scope, r.slug, r.episode, r.part, snippet(lore_text, 0, '**', '**', '…', 16), "
            "bm25(lore_text) FROM lore_text JOIN lore_text_rows AS r ON r.id = lore_text.rowid "
            f"WHERE lore_text MATCH ? AND r.scope IN ({marks}) ORDER BY bm25(lore_text) LIMIT ?"
        )
        async with self.db.execute(sql, (match, *scopes, limit)) as cur:
            return [TextHit(s, sl, int(ep), p, snip, rank) async for s, sl, ep, p, snip, rank in cur]

    # -- settings and progress ---------------------------------------------------------------
    async def load_settings(
        self,
    ) -> tuple[dict[int, Setting], dict[int, tuple[int, Setting]], dict[int, int]]:
        guilds: dict[int, Setting] = {}
        channels: dict[int, tuple[int, Setting]] = {}
        progress: dict[int, int] = {}
        async with self.db.execute("SELECT guild_id, episode, mode FROM guild_settings") as cur:
            async for gid, ep, mode in cur:
                guilds[gid] = Setting(ep, Mode(mode) if mode else None)
        async with self.db.execute("SELECT channel_id, guild_id, episode, mode FROM channel_settings") as cur:
            async for cid, gid, ep, mode in cur:
                channels[cid] = (gid, Setting(ep, Mode(mode) if mode else None))
        async with self.db.execute("SELECT user_id, episode FROM user_progress") as cur:
            async for uid, ep in cur:
                progress[uid] = ep
        return guilds, channels, progress

    async def save_guild_setting(self, guild_id: int, setting: Setting) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO guild_settings (guild_id, episode, mode) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET episode = excluded.episode, mode = excluded.mode",
                (guild_id, setting.episode, setting.mode.value if setting.mode else None),
            )

    async def save_channel_setting(self, guild_id: int, channel_id: int, setting: Setting | None) -> None:
        async with self.transaction() as db:
            if setting is None or setting.empty:
                await db.execute("DELETE FROM channel_settings WHERE channel_id = ?", (channel_id,))
            else:
                await db.execute(
                    "INSERT INTO channel_settings (channel_id, guild_id, episode, mode) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id, "
                    "episode = excluded.episode, mode = excluded.mode",
                    (channel_id, guild_id, setting.episode, setting.mode.value if setting.mode else None),
                )

    async def save_progress(self, user_id: int, episode: int | None) -> None:
        async with self.transaction() as db:
            if episode is None:
                await db.execute("DELETE FROM user_progress WHERE user_id = ?", (user_id,))
            else:
                await db.execute(
                    "INSERT INTO user_progress (user_id, episode, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (user_id) DO UPDATE SET episode = excluded.episode, "
                    "updated_at = excluded.updated_at",
                    (user_id, episode, time.time()),
                )
