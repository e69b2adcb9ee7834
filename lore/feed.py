"""The change feed: every committed write, in order, so that every process sees every write.

Each write transaction appends rows to the ``changes`` table (monotonic ``id``, ``scope``,
``what`` changed, ``key``, the writing process, the time) in the same transaction as the data, so a
row exists exactly when its write committed. Each process remembers the last id it applied
(``seen``) and, before it serves something that depends on the data (throttled to one look every
``POLL_SECONDS``), before each write and from a background loop, reads the rows after it and hands
them to the subscribers of their ``what`` (re-reading that scope, that setting, ...). Applying a
change re-reads the current state from the database, so it is idempotent: applying one twice, or
one the process wrote itself, is harmless.

The feed is the table, not a notification: a process that was away (or a PostgreSQL backend whose
``LISTEN`` connection dropped: notifications are not replayed) catches up from ``seen``. Old rows
are pruned; a process that fell behind the pruned horizon reloads everything instead. In SQLite
writers are serialised, so ids become visible in increasing order; a PostgreSQL backend keeps that
by taking one lock on the feed in each write transaction (``LOCK TABLE changes IN EXCLUSIVE MODE``
just before inserting its rows) and uses ``NOTIFY`` after commit only to wake the pollers early.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: How stale a process may be before it looks at the feed again (each look is one indexed query).
POLL_SECONDS = 0.1
#: Rows kept in the feed: the newest ``KEEP_ROWS``, and anything younger than ``KEEP_SECONDS``.
KEEP_ROWS = 10_000
KEEP_SECONDS = 24 * 3600
#: The ``meta`` key holding the highest id pruned from the feed.
PRUNED_KEY = "changes_pruned_through"

# What changed (the ``what`` column). Other features add their own and subscribe to them.
ENTRY = "entry"  # scope: canon / guild:ID, key: the slug
SERVER_SETTING = "server_setting"  # scope: guild:ID, key: the guild id
CHANNEL_SETTING = "channel_setting"  # scope: guild:ID, key: the channel id
PROGRESS = "progress"  # scope: user, key: the user id
META = "meta"  # scope: meta, key: the meta key


@dataclass(frozen=True, slots=True)
class ChangeRow:
    id: int
    scope: str
    what: str
    key: str
    origin: str
    at: float


Handler = Callable[[list[ChangeRow]], Awaitable[None]]
Fetch = Callable[[str, Sequence[Any]], Awaitable[list[Any]]]


class ChangeFeed:
    """One process's reader of the ``changes`` table (see the module docstring)."""

    def __init__(self, fetch: Fetch):
        self._fetch = fetch
        self.seen = 0
        self._handlers: dict[str, list[Handler]] = {}
        self._reset: list[Callable[[], Awaitable[None]]] = []
        self._lock = asyncio.Lock()
        self._looked_at = 0.0
        self.applied = 0  # rows applied since start (for tests and figures)

    def subscribe(self, what: str, handler: Handler) -> None:
        """Call ``handler`` with every new row about ``what`` (in id order, batched)."""
        self._handlers.setdefault(what, []).append(handler)

    def on_reset(self, handler: Callable[[], Awaitable[None]]) -> None:
        """Call ``handler`` when this process missed rows that were pruned: reload everything."""
        self._reset.append(handler)

    async def head(self) -> int:
        rows = await self._fetch("SELECT COALESCE(MAX(id), 0) FROM changes", ())
        return int(rows[0][0])

    async def start_at(self, head: int) -> None:
        """The process's state reflects every change up to ``head`` (read *before* loading it)."""
        self.seen = max(self.seen, head)
        self._looked_at = time.monotonic()

    async def poll(self, max_age: float = POLL_SECONDS) -> int:
        """Apply new changes unless the feed was looked at less than ``max_age`` seconds ago."""
        if time.monotonic() - self._looked_at < max_age:
            return 0
        return await self.catch_up()

    async def catch_up(self, *, unless_busy: bool = False) -> int:
        """Apply every change committed after ``seen``; returns how many rows were applied.
        ``unless_busy``: return at once if changes are being applied right now."""
        if unless_busy and self._lock.locked():
            return 0
        async with self._lock:
            return await self._apply_new()

    async def reserve(self) -> None:
        """Take the right to apply next (a writer takes it just before it lets the next one in,
        so that its own changes are applied in order); :meth:`apply_reserved` uses and releases it."""
        await self._lock.acquire()

    async def apply_reserved(self) -> int:
        try:
            return await self._apply_new()
        finally:
            self._lock.release()

    async def _apply_new(self) -> int:
        self._looked_at = time.monotonic()
        total = 0
        while True:
            rows = await self._fetch(
                "SELECT id, scope, what, key, origin, at FROM changes WHERE id > ? ORDER BY id LIMIT 5000",
                (self.seen,),
            )
            if not rows:
                return total
            batch = [ChangeRow(int(i), s, w, k, o, float(a)) for i, s, w, k, o, a in rows]
            if batch[0].id != self.seen + 1 and await self._fell_behind():
                log.warning("the change feed was pruned past this process's position: reloading everything")
                head = await self.head()  # before reloading: what commits meanwhile is applied next time
                for reset in self._reset:
                    await reset()
                self.seen = head
                return total
            await self._dispatch(batch)
            self.seen = batch[-1].id
            total += len(batch)
            self.applied += len(batch)
            if len(batch) < 5000:
                return total

    async def _fell_behind(self) -> bool:
        rows = await self._fetch("SELECT value FROM meta WHERE key = ?", (PRUNED_KEY,))
        return bool(rows) and int(rows[0][0]) > self.seen

    async def _dispatch(self, batch: list[ChangeRow]) -> None:
        by_what: dict[str, list[ChangeRow]] = {}
        for row in batch:
            by_what.setdefault(row.what, []).append(row)
        for what, rows in by_what.items():
            for handler in self._handlers.get(what, ()):
                await handler(rows)

    async def run(self, interval: float = 0.2) -> None:
        """Keep applying changes every ``interval`` seconds (a background task; cancel to stop)."""
        while True:
            try:
                await self.poll(interval / 2)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a transient fault: the next round retries from `seen`
                log.warning("could not read the change feed: %s", e)
            await asyncio.sleep(interval)
