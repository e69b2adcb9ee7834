"""The store in portable SQL: everything both backends do alike, written once.

:class:`SqlStore` implements :class:`lore.store.Store` on a small set of primitives that each
backend supplies (:class:`lore.sqlitestore.SqliteStore`, :class:`lore.pgstore.PgStore`): the write
transaction (:meth:`SqlStore.write`), reads of the last committed state (:meth:`SqlStore.fetchall`),
and the few statements whose SQL differs (the searchable text and its index, loading whole scopes).
On those it builds the rows of entries and their revisions, the spoiler settings and progress, the
meta rows with their slots and leases, and the change feed's rows committed with every write.
Its SQL is portable (``?`` placeholders, ``ON CONFLICT ... DO UPDATE``), read and written inside
the caller's transaction where a write depends on what it reads.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from lore import feed
from lore.feed import ChangeFeed
from lore.patches import PATCH_PREFIX, effective
from lore.spoilers import Mode, Setting
from lore.store import (
    CANON,
    FOLLOW_CANON,
    Change,
    RevisionInfo,
    StoredEntry,
    TextHit,
    Tx,
    entry_keys,
    guild_scope,
    searchable_text,
)

if TYPE_CHECKING:
    from lore.quotas import Quotas


class SqlStore(ABC):
    """The portable part of every store (see the module docstring); a backend subclasses it."""

    #: Which backend this is (see :mod:`lore.storage`).
    backend: str

    def __init__(self, path: str):
        self.path = path
        self._lock = asyncio.Lock()  # this process's one writer at a time
        #: This process, as written in the feed's ``origin`` column.
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.feed = ChangeFeed(self.fetchall)
        self._writes = 0
        #: Per-server quotas, checked inside every write of a server's entries (None: no quotas).
        self.quotas: Quotas | None = None
        #: Called with the seconds each committed write transaction took (the bot's metrics).
        self.on_write: Callable[[float], None] | None = None

    # -- what each backend supplies ----------------------------------------------------------
    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def migrate(self) -> int:
        """Apply pending migrations (:mod:`lore.schema`); returns how many ran."""

    @abstractmethod
    def write(self) -> AbstractAsyncContextManager[Tx]:
        """The one way to write: a transaction of this process's single writer, serialised with
        every other process's writes.

        Inside, read what the change depends on through ``tx`` (it is current: no other writer can
        commit until this one ends), write, and record feed rows with ``tx.changed``. On leaving,
        the feed rows are inserted (:meth:`_insert_feed_rows`) and everything commits, or on any
        error nothing does (a failed ``ROLLBACK`` is logged, never raised in place of the error).
        Then the process applies the feed, so its memory shows the write when this returns.
        Database faults raise :class:`lore.errors.WriteFault`.
        """

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of a read of the last committed state."""

    @abstractmethod
    async def load_scope(self, scope: str, *, raw_docs: bool = False) -> list[StoredEntry]:
        """Every entry row of ``scope`` (removals included, with ``doc`` None); ``raw_docs`` gives
        each document as its UTF-8 bytes (no decoding; half the memory of a ``str`` holding kana)."""

    @abstractmethod
    async def load_all_scopes(self, *, raw_docs: bool = False) -> dict[str, list[StoredEntry]]:
        """Every scope's rows, as :meth:`load_scope` gives them, in slug order (see :func:`by_scope`)."""

    @abstractmethod
    async def search_text(
        self, words: Sequence[str], scopes: list[str], limit: int = 500, *, bound: int | None = None
    ) -> list[TextHit]:
        """The text rows of ``scopes`` holding every word (the last one as a prefix), best first;
        with ``bound``, only rows revealed by that episode, in the order they were written (a
        relevance rank weighs a row by every row of the index, later lore included, so its order
        would tell about rows the viewer may not see). Matched words are marked by the characters
        2 and 3."""

    @abstractmethod
    async def _replace_text(self, tx: Tx, scope: str, slugs: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Drop the searchable text of ``slugs`` in ``scope``, then add ``rows`` (with the full-text
        index), in a statement or a few whatever the number of rows."""

    # -- the change feed's rows ----------------------------------------------------------------
    async def _insert_feed_rows(self, tx: Tx) -> bool:
        """Insert the feed rows ``tx`` recorded, last thing before its commit (and every 256th write,
        prune the feed's oldest rows); whether there were any."""
        if not tx.changes:
            return False
        now = time.time()
        await tx.executemany(
            "INSERT INTO changes (scope, what, key, origin, at) VALUES (?, ?, ?, ?, ?)",
            [(scope, what, key, self.origin, now) for scope, what, key in tx.changes],
        )
        self._writes += 1
        if self._writes % 256 == 0:
            await self._prune(tx, now)
        return True

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

    # -- entries and their revisions --------------------------------------------------------
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
                await self._replace_text(tx, scope, [slug], [(scope, *row) for row in searchable_text(entry)])
            tx.changed(scope, feed.ENTRY, slug)

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


def by_scope(rows: Iterable[Sequence[Any]]) -> dict[str, list[StoredEntry]]:
    """Rows of (scope, slug, kind, name, introduced, keys, doc), as :meth:`SqlStore.load_all_scopes`
    gives them: by scope, each in slug order (the primary key's binary order: code points, as in
    UTF-8 bytes)."""
    groups: dict[str, list[Sequence[Any]]] = {}
    for row in rows:  # grouped in one pass, then each group sorted by slug alone (half the time of one sort)
        group = groups.get(row[0])
        if group is None:
            group = groups[row[0]] = []
        group.append(row)
    by_slug = itemgetter(1)
    return {scope: [StoredEntry(*row[1:]) for row in sorted(groups[scope], key=by_slug)] for scope in sorted(groups)}


def _in_chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
