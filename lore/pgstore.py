"""The PostgreSQL lore store (asyncpg, a connection pool): the same schema versions, write path,
change feed and semantics as the SQLite store, for processes on more than one host.

What the two backends share is written once, in :class:`lore.sqlstore.SqlStore`: every read and
write of entries, revisions, settings, progress and the feed is portable SQL (``?`` placeholders,
turned into ``$1, $2, ...`` here). This module supplies what differs:

- **Connections**: a pool for reads; the process's single writer takes one connection per write.
- **Transactions**: each write takes ``pg_advisory_xact_lock`` first, so writes from every process
  are serialised exactly as SQLite's ``BEGIN IMMEDIATE`` serialises them. A read-modify-write inside
  it sees the current row, and the feed's ids commit in increasing order.
- **Schema versions**: :data:`lore.schema.PG_MIGRATIONS`, numbered as SQLite's, kept in ``lorebot_schema``
  (SQLite keeps them in ``PRAGMA user_version``), each migration in its own transaction under a lock.
- **Full-text search**: a ``tsvector`` column with a GIN index instead of FTS5; the same words, the
  last one as a prefix, the same rows (gated by the service exactly as on SQLite).
- **The change feed**: the ``changes`` table, as on SQLite; ``NOTIFY`` (sent at commit) wakes the
  other processes' listeners at once. Notifications are not replayed, so a listener that
  reconnects catches up from the table, and the feed's own polling stays the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from functools import lru_cache
from typing import Any

from lore.errors import StoreError, WriteFault
from lore.faults import safe_url
from lore.feed import ChangeFeed
from lore.schema import MIGRATION_STEPS, PG_MIGRATIONS, SCHEMA_VERSION
from lore.sqlstore import SqlStore, by_scope
from lore.store import CheckReport, StoredEntry, TextHit, Tx

log = logging.getLogger(__name__)

#: The NOTIFY channel that wakes other processes after a write.
CHANNEL = "lorebot_changes"
#: Advisory lock keys (one database may be shared only by lorebot, so fixed numbers are enough).
WRITE_LOCK = 0x10AE_B07
MIGRATE_LOCK = 0x10AE_B08
POOL_SIZE = 8

_QUOTED_OR_MARK = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?")


@lru_cache(maxsize=1024)
def pg_sql(sql: str) -> str:
    """The store's portable SQL with ``?`` placeholders as PostgreSQL's ``$1, $2, ...``."""
    n = 0

    def number(m: re.Match[str]) -> str:
        nonlocal n
        if m.group(0) != "?":
            return m.group(0)
        n += 1
        return f"${n}"

    return _QUOTED_OR_MARK.sub(number, sql)


def pg_reason(e: BaseException) -> str:
    """What a PostgreSQL or connection error means, as a clause (no SQL, no password)."""
    import asyncpg

    if isinstance(e, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        return "the PostgreSQL server refused the user or password"
    if isinstance(e, asyncpg.InvalidCatalogNameError):
        return "the PostgreSQL database does not exist (create it first)"
    if isinstance(e, asyncpg.InsufficientPrivilegeError):
        return "the PostgreSQL user may not do this (permission denied)"
    if isinstance(e, asyncpg.DiskFullError):
        return "the disk holding the PostgreSQL database is full"
    if isinstance(e, asyncpg.ReadOnlySQLTransactionError):
        return "the PostgreSQL database is read-only (a standby?)"
    if isinstance(e, asyncpg.CheckViolationError | asyncpg.NumericValueOutOfRangeError | OverflowError):
        return "a value is out of range"
    if isinstance(e, asyncpg.PostgresConnectionError | ConnectionError | OSError | asyncio.TimeoutError):
        return "the PostgreSQL server cannot be reached"
    if isinstance(e, asyncpg.PostgresError):
        return f"the PostgreSQL database reported an error ({getattr(e, 'message', e)})"
    return str(e)


def _is_db_error(e: BaseException) -> bool:
    import asyncpg

    return isinstance(
        e, asyncpg.PostgresError | asyncpg.InterfaceError | OSError | OverflowError | asyncio.TimeoutError
    )


class PgTx(Tx):
    """A write transaction on one pooled connection (portable SQL, ``?`` placeholders)."""

    __slots__ = ("conn",)

    def __init__(self, conn: Any):  # an asyncpg connection
        super().__init__()
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self.conn.execute(pg_sql(sql), *params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            await self.conn.executemany(pg_sql(sql), rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self.conn.fetch(pg_sql(sql), *params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        return await self.conn.fetchrow(pg_sql(sql), *params)


class PgStore(SqlStore):
    """The lore store on PostgreSQL (see the module docstring)."""

    backend = "postgresql"

    def __init__(self, pool: Any, url: str):
        super().__init__(safe_url(url))
        self.feed = _ListeningFeed(self)
        self.pool = pool
        self.url = url
        self._listener: Any = None
        self._listen_task: asyncio.Task[None] | None = None
        self._closing = False
        self.notified = 0  # notifications received (for tests and figures)

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    async def open(cls, path: Any, *, check: bool = True, pool_size: int = POOL_SIZE) -> PgStore:
        import asyncpg

        url = str(path)
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size, timeout=10, command_timeout=60)
        except Exception as e:
            if not _is_db_error(e) and not isinstance(e, ValueError):
                raise
            raise StoreError(f"cannot open the lore database at {safe_url(url)}: {pg_reason(e)}") from None
        store = cls(pool, url)
        try:
            try:
                await store.migrate()
            except StoreError:
                raise
            except Exception as e:
                if not _is_db_error(e):
                    raise
                raise StoreError(f"cannot migrate the lore database {safe_url(url)}: {pg_reason(e)}") from None
        except BaseException:
            await pool.close()
            raise
        return store

    async def close(self) -> None:
        self._closing = True
        task, self._listen_task = self._listen_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None
        await self.pool.close()

    async def schema_version(self) -> int:
        rows = await self.pool.fetch("SELECT to_regclass('lorebot_schema') IS NOT NULL")
        if not rows[0][0]:
            return 0
        return int(await self.pool.fetchval("SELECT COALESCE(MAX(version), 0) FROM lorebot_schema"))

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction under one advisory lock (two
        processes starting together migrate once). Returns how many ran."""
        if len(PG_MIGRATIONS) != SCHEMA_VERSION:
            raise StoreError(
                f"this lorebot has {SCHEMA_VERSION} SQLite schema versions but {len(PG_MIGRATIONS)} for PostgreSQL"
            )
        applied = 0
        async with self.pool.acquire() as conn:
            while True:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK)
                    await conn.execute("CREATE TABLE IF NOT EXISTS lorebot_schema (version INTEGER NOT NULL)")
                    current = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM lorebot_schema"))
                    if current > SCHEMA_VERSION:
                        raise StoreError(
                            f"the database schema is version {current}, newer than this lorebot "
                            f"({SCHEMA_VERSION}); upgrade lorebot"
                        )
                    if current == SCHEMA_VERSION:
                        return applied
                    version = current + 1
                    await conn.execute(PG_MIGRATIONS[version - 1])
                    step = MIGRATION_STEPS.get(version)
                    if step is not None:
                        await step(PgTx(conn))
                    await conn.execute("DELETE FROM lorebot_schema")
                    await conn.execute("INSERT INTO lorebot_schema (version) VALUES ($1)", version)
                log.info("lore database migrated to schema version %d", version)
                applied += 1

    # -- the write path ----------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """The one way to write (see :meth:`lore.sqlstore.SqlStore.write`), serialised across processes
        by an advisory lock taken first in the transaction; ``NOTIFY`` goes out with the commit."""
        async with self._lock:
            started = time.perf_counter()
            try:
                conn = await self.pool.acquire()
            except Exception as e:
                if not _is_db_error(e):
                    raise
                log.warning("could not start a write: %s", e)
                raise WriteFault(_sentence(e)) from None
            try:
                txn = conn.transaction()
                try:
                    await txn.start()
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
                except Exception as e:
                    with contextlib.suppress(Exception):
                        await txn.rollback()
                    if not _is_db_error(e):
                        raise
                    raise WriteFault(_sentence(e)) from None
                tx = PgTx(conn)
                try:
                    await self.feed.catch_up()  # memory at the state this write starts from
                    yield tx
                    if await self._insert_feed_rows(tx):
                        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, self.origin)
                    await txn.commit()
                    if self.on_write is not None:
                        self.on_write(time.perf_counter() - started)
                except BaseException as e:
                    try:
                        await txn.rollback()
                    except Exception as rb:  # logged; the error that made us roll back is the one raised
                        log.error("ROLLBACK failed after a failed write: %s", rb)
                    if isinstance(e, Exception) and _is_db_error(e):
                        log.warning("a write failed and was rolled back: %s", e)
                        raise WriteFault(_sentence(e)) from None
                    raise
            finally:
                await self.pool.release(conn)
            await self.feed.catch_up()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self.pool.fetch(pg_sql(sql), *params))

    # -- the wake-up ---------------------------------------------------------------------------
    async def _listen(self) -> None:
        """Hold a LISTEN connection; when it drops, reconnect and catch up from the table. Started
        once the process's feed has its position (see :class:`_ListeningFeed`)."""
        import asyncpg

        if self._listen_task is not None or self._closing:
            return

        woke = asyncio.Event()

        def on_notify(_conn: Any, _pid: int, _channel: str, origin: str) -> None:
            self.notified += 1
            if origin != self.origin:
                woke.set()

        async def connect() -> None:
            self._listener = await asyncpg.connect(self.url, timeout=10)
            await self._listener.add_listener(CHANNEL, on_notify)

        async def loop() -> None:
            delay = 0.1
            while not self._closing:
                try:
                    if self._listener is None or self._listener.is_closed():
                        await connect()
                        delay = 0.1
                        await self.feed.catch_up()  # what was notified while we were away
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(woke.wait(), 1.0)
                    if woke.is_set():
                        woke.clear()
                        await self.feed.catch_up()
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # the server went away: retry, then catch up
                    log.warning("the PostgreSQL change listener is down (%s); retrying", pg_reason(e))
                    with contextlib.suppress(Exception):
                        if self._listener is not None:
                            await self._listener.close()
                    self._listener = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

        self._listen_task = asyncio.create_task(loop(), name="lorebot-pg-listener")

    # -- what the SQL of the two backends does differently --------------------------------------
    async def load_scope(self, scope: str, *, raw_docs: bool = False) -> list[StoredEntry]:
        doc = "convert_to(doc, 'UTF8')" if raw_docs else "doc"
        rows = await self.pool.fetch(
            f"SELECT slug, kind, name, introduced, keys, {doc} FROM entries WHERE scope = $1", scope
        )
        return [StoredEntry(*row) for row in rows]

    async def load_all_scopes(self, *, raw_docs: bool = False) -> dict[str, list[StoredEntry]]:
        doc = "convert_to(doc, 'UTF8')" if raw_docs else "doc"
        rows = await self.pool.fetch(f"SELECT scope, slug, kind, name, introduced, keys, {doc} FROM entries")
        return by_scope(rows)  # in SQLite's binary key order

    async def _replace_text(self, tx: Tx, scope: str, slugs: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Drop the searchable text of ``slugs`` in ``scope``, then add ``rows`` (the tsvector and its
        GIN index follow by themselves)."""
        if slugs:
            await tx.execute("DELETE FROM lore_text_rows WHERE scope = ? AND slug = ANY(?::text[])", (scope, slugs))
        if rows:
            await tx.executemany(
                "INSERT INTO lore_text_rows (scope, slug, episode, part, text) VALUES (?, ?, ?, ?, ?)", rows
            )

    async def search_text(
        self, words: Sequence[str], scopes: list[str], limit: int = 500, *, bound: int | None = None
    ) -> list[TextHit]:
        """See :meth:`lore.sqlstore.SqlStore.search_text`: the tsvector's GIN index, best first by
        ``ts_rank`` (not with ``bound``), the same words and rows as on SQLite."""
        if not words:
            return []
        terms = [_lexeme(w.lower()) for w in words]
        query = " & ".join([*terms[:-1], terms[-1] + ":*"])
        where = "" if bound is None else " AND r.episode <= $5"
        order = "ts_rank(r.tsv, q.q) DESC, r.id" if bound is None else "r.id"
        sql = (
            "WITH q AS (SELECT to_tsquery('simple', $1) AS q) "
            "SELECT r.scope, r.slug, r.episode, r.part, ts_headline('simple', r.text, q.q, $4), "
            "-ts_rank(r.tsv, q.q) "
            f"FROM lore_text_rows AS r, q WHERE r.tsv @@ q.q AND r.scope = ANY($2::text[]){where} "
            f"ORDER BY {order} LIMIT $3"
        )
        options = (
            "StartSel=\x02, StopSel=\x03, MaxWords=16, MinWords=6, ShortWord=1, MaxFragments=1, FragmentDelimiter=…"
        )
        args: list[object] = [query, scopes, limit, options]
        if bound is not None:
            args.append(bound)
        rows = await self.pool.fetch(sql, *args)
        return [TextHit(s, sl, int(ep), p, snip, float(rank)) for s, sl, ep, p, snip, rank in rows]


async def check_postgres(url: str) -> CheckReport:
    """``lorebot db check`` on PostgreSQL: the server answers, the schema version, the row counts
    (PostgreSQL checks its own pages; nothing is created, migrated or written)."""
    import asyncpg

    try:
        conn = await asyncpg.connect(url, timeout=10)
    except Exception as e:
        if not _is_db_error(e) and not isinstance(e, ValueError):
            raise
        raise StoreError(f"cannot open the lore database at {safe_url(url)}: {pg_reason(e)}") from None
    try:
        problems: list[str] = []
        if not await conn.fetchval("SELECT to_regclass('lorebot_schema') IS NOT NULL"):
            return CheckReport(safe_url(url), 0, problems, 0, 0)
        schema = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM lorebot_schema"))
        entries = changes = 0
        for table in ("entries", "revisions", "lore_text_rows", "guild_settings", "meta"):
            if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
                problems.append(f"the table {table} is missing")
        if not problems:
            entries = int(await conn.fetchval("SELECT COUNT(*) FROM entries"))
            if await conn.fetchval("SELECT to_regclass('changes') IS NOT NULL"):
                changes = int(await conn.fetchval("SELECT COALESCE(MAX(id), 0) FROM changes"))
            orphans = await conn.fetchval(
                "SELECT COUNT(*) FROM lore_text_rows AS r WHERE NOT EXISTS "
                "(SELECT 1 FROM entries AS e WHERE e.scope = r.scope AND e.slug = r.slug)"
            )
            if orphans:
                problems.append(f"{orphans} searchable text row(s) belong to no entry")
    except Exception as e:
        if not _is_db_error(e):
            raise
        raise StoreError(f"the lore database {safe_url(url)} cannot be checked: {pg_reason(e)}") from None
    finally:
        await conn.close()
    return CheckReport(safe_url(url), schema, problems, entries, changes)


class _ListeningFeed(ChangeFeed):
    """The change feed, woken by ``NOTIFY`` as soon as the process knows where it stands."""

    def __init__(self, store: PgStore):
        super().__init__(store.fetchall)
        self._store = store

    async def start_at(self, head: int) -> None:
        await super().start_at(head)
        try:
            await self._store._listen()
        except Exception as e:  # polling still applies every change; the wake-up only speeds it up
            log.warning("cannot LISTEN for changes (%s); other processes' writes arrive by polling", pg_reason(e))


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _sentence(e: BaseException) -> str:
    reason = pg_reason(e)
    return f"{reason[0].upper()}{reason[1:]}; nothing was changed."
