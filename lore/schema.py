"""The lore database's schema, version by version, for both backends.

:data:`MIGRATIONS` are SQLite's scripts, applied in order (``PRAGMA user_version`` is the number
applied); :data:`PG_MIGRATIONS` are PostgreSQL's form of the same versions (kept in the table
``lorebot_schema``), with the same numbers. A version's work that SQL alone cannot do is a step in
:data:`MIGRATION_STEPS`, run after its SQL in the same transaction on both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from lore.patches import migrate_overrides

if TYPE_CHECKING:
    from lore.store import Tx

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
#: (on both backends: the step reads and writes through a :class:`lore.store.Tx`).
MIGRATION_STEPS: dict[int, Callable[[Tx], Awaitable[None]]] = {8: migrate_overrides}


#: PostgreSQL's form of each schema version in :data:`MIGRATIONS` (same numbers).
PG_MIGRATIONS: list[str] = [
    # 1: entries, revisions, settings, progress; the searchable text rows with their tsvector
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE entries (
        scope TEXT NOT NULL,
        slug TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        introduced INTEGER NOT NULL,
        keys TEXT NOT NULL DEFAULT '{}',
        doc TEXT,
        revision INTEGER NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (scope, slug)
    );
    CREATE TABLE revisions (
        id BIGSERIAL PRIMARY KEY,
        scope TEXT NOT NULL,
        slug TEXT NOT NULL,
        number INTEGER NOT NULL,
        action TEXT NOT NULL,
        author TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        doc TEXT,
        UNIQUE (scope, slug, number),
        FOREIGN KEY (scope, slug) REFERENCES entries (scope, slug) ON DELETE CASCADE
    );
    CREATE TABLE lore_text_rows (
        id BIGSERIAL PRIMARY KEY,
        scope TEXT NOT NULL,
        slug TEXT NOT NULL,
        episode INTEGER NOT NULL,
        part TEXT NOT NULL,
        text TEXT NOT NULL,
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
    );
    CREATE INDEX lore_text_rows_entry ON lore_text_rows (scope, slug);
    CREATE INDEX lore_text_rows_tsv ON lore_text_rows USING GIN (tsv);
    CREATE TABLE guild_settings (
        guild_id BIGINT PRIMARY KEY,
        episode INTEGER CHECK (episode >= 0),
        mode TEXT CHECK (mode IN ('hide', 'tag', 'show'))
    );
    CREATE TABLE channel_settings (
        channel_id BIGINT PRIMARY KEY,
        guild_id BIGINT NOT NULL,
        episode INTEGER CHECK (episode >= 0),
        mode TEXT CHECK (mode IN ('hide', 'tag', 'show'))
    );
    CREATE INDEX channel_settings_guild ON channel_settings (guild_id);
    CREATE TABLE user_progress (
        user_id BIGINT PRIMARY KEY,
        episode INTEGER NOT NULL CHECK (episode >= 0),
        updated_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 2: (SQLite moved its text rows into an ordinary table; here they were one from the start)
    "SELECT 1;",
    # 3: revisions outlive their entry row
    "ALTER TABLE revisions DROP CONSTRAINT revisions_scope_slug_fkey;",
    # 4: the change feed
    """
    CREATE TABLE changes (
        id BIGSERIAL PRIMARY KEY,
        scope TEXT NOT NULL,
        what TEXT NOT NULL,
        key TEXT NOT NULL DEFAULT '',
        origin TEXT NOT NULL DEFAULT '',
        at DOUBLE PRECISION NOT NULL
    );
    """,
    # 5: (SQLite dropped its full-text triggers; here the tsvector is a generated column)
    "SELECT 1;",
    # 6: quiz scores and spoiler schedules (ids as BIGINT, times as DOUBLE PRECISION)
    """
    CREATE TABLE quiz_scores (
        guild_id BIGINT NOT NULL,
        user_id BIGINT NOT NULL,
        points INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        answered INTEGER NOT NULL DEFAULT 0,
        sessions INTEGER NOT NULL DEFAULT 0,
        reached_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (guild_id, user_id)
    );
    CREATE INDEX quiz_scores_rank ON quiz_scores (guild_id, points DESC, reached_at, user_id);
    CREATE TABLE spoiler_schedules (
        guild_id BIGINT NOT NULL,
        channel_id BIGINT NOT NULL,
        next_at DOUBLE PRECISION NOT NULL,
        every_days INTEGER NOT NULL CHECK (every_days BETWEEN 1 AND 365),
        announce_channel_id BIGINT,
        tz TEXT NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0,
        created_by BIGINT,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (guild_id, channel_id)
    );
    """,
    # 7: a schedule's anchor (its first tick) and the ticks applied since
    """
    ALTER TABLE spoiler_schedules ADD COLUMN anchor_at DOUBLE PRECISION NOT NULL DEFAULT 0,
        ADD COLUMN ticks INTEGER NOT NULL DEFAULT 0;
    UPDATE spoiler_schedules SET anchor_at = next_at;
    CREATE INDEX spoiler_schedules_due ON spoiler_schedules (next_at) WHERE paused = 0;
    """,
    # 8: servers' copies of canon entries become patches (MIGRATION_STEPS[8], as on SQLite)
    "SELECT 1;",
    # 9: episode numbers are bounded by the franchise's own episode list, not by one show's count
    """
    ALTER TABLE guild_settings DROP CONSTRAINT IF EXISTS guild_settings_episode_check;
    ALTER TABLE guild_settings ADD CONSTRAINT guild_settings_episode_check CHECK (episode >= 0);
    ALTER TABLE channel_settings DROP CONSTRAINT IF EXISTS channel_settings_episode_check;
    ALTER TABLE channel_settings ADD CONSTRAINT channel_settings_episode_check CHECK (episode >= 0);
    ALTER TABLE user_progress DROP CONSTRAINT IF EXISTS user_progress_episode_check;
    ALTER TABLE user_progress ADD CONSTRAINT user_progress_episode_check CHECK (episode >= 0);
    """,
]


def statements(script: str) -> Iterable[str]:
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
