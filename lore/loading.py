"""Loading a service's lore into memory and keeping it current with other processes' writes
(the change feed): every scope's index, the canon's metadata, the settings."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from lore import feed
from lore.franchise import Franchise
from lore.gcpause import paused_gc
from lore.model import Pack, PackMeta
from lore.scope import Scope, parse_entry
from lore.state import LoreState
from lore.store import CANON, Store

#: Scopes with at least this many rows are rebuilt after a write in a worker thread (a 5,000-entry
#: import's index takes a tenth of a second or two: the event loop keeps serving meanwhile).
THREAD_ROWS = 1000


class Loading(LoreState):
    """Filling the service's state from the store, and applying the change feed to it."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._watcher: asyncio.Task[None] | None = None
        changes = store.feed
        changes.subscribe(feed.ENTRY, self._on_entries)
        changes.subscribe(feed.META, self._on_meta)
        changes.on_reset(self._load_state)

    def start_watching(self, interval: float = 0.2) -> None:
        """Apply other processes' writes in the background (every ``interval`` seconds)."""
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self.store.feed.run(interval), name="lorebot-change-feed")

    async def stop_watching(self) -> None:
        task, self._watcher = self._watcher, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def refresh(self, max_age: float = feed.POLL_SECONDS) -> None:
        """Apply writes other processes committed, unless the feed was read in the last
        ``max_age`` seconds: call before serving anything that depends on stored state."""
        await self.store.feed.poll(max_age)

    async def _load(self) -> None:
        head = await self.store.feed.head()  # read first: whatever commits meanwhile is applied again
        await self._load_state()
        await self.store.feed.start_at(head)

    async def _load_state(self) -> None:
        # Building the indexes allocates millions of small objects, none of them garbage: the
        # cyclic collector would rescan the growing heap over and over (2 s of 5 at 100,000 entries).
        with paused_gc():
            rows = await self.store.load_all_scopes(raw_docs=True)
            canon = Scope(rows.pop(CANON, ()), saved_at=self._snapshot_path())
            self._scopes = {CANON: canon}
            while rows:  # each scope's rows are dropped as soon as its index is built
                scope = next(iter(rows))
                self._scopes[scope] = Scope(rows.pop(scope), canon=canon)
            del rows
        self._layered.clear()
        await self._load_canon_meta()
        await self._settings.load()

    async def _load_canon_meta(self) -> None:
        meta = await self.store.get_meta("canon_meta")
        if meta:
            self.canon_meta = PackMeta.model_validate_json(meta)
        self.franchise = Franchise.of(self.canon_meta, self._stored_canon())

    def _stored_canon(self) -> Pack | None:
        """The canon as a pack, for a database whose stored metadata predates episode lists
        (read only then: the franchise's episodes are the highest the canon names)."""
        if self.canon_meta.episodes is not None or CANON not in self._scopes:
            return None
        docs = self._scopes[CANON].docs.values()
        return Pack(entries=[parse_entry(doc) for doc in docs if doc is not None])

    async def _on_entries(self, rows: list[feed.ChangeRow]) -> None:
        scopes = dict.fromkeys(row.scope for row in rows)
        for scope in sorted(scopes, key=lambda sc: sc != CANON):  # the canon first: servers' patches apply to it
            await self._reload(scope)

    async def _on_meta(self, rows: list[feed.ChangeRow]) -> None:
        if any(row.key == "canon_meta" for row in rows):
            await self._load_canon_meta()

    def _snapshot_path(self) -> Path | None:
        """Where the canon's index snapshot lives: next to the database file (none in memory, and
        none for PostgreSQL, which has no file of its own here)."""
        if self.store.backend != "sqlite" or self.store.path == ":memory:" or self.store.path.startswith("file:"):
            return None
        return Path(f"{self.store.path}-canon-index")

    async def _reload(self, scope: str) -> None:
        rows = await self.store.load_scope(scope, raw_docs=True)
        saved_at = self._snapshot_path() if scope == CANON else None
        canon = None if scope == CANON else self._scopes[CANON]
        if len(rows) >= THREAD_ROWS:  # a large scope is built aside: the loop keeps serving meanwhile
            with paused_gc():
                built = await asyncio.to_thread(Scope, rows, saved_at, canon)
        else:
            built = Scope(rows, saved_at=saved_at, canon=canon)
        self._scopes[scope] = built
        if scope == CANON:
            self._layered.clear()
        else:
            self._layered.pop(int(scope.split(":", 1)[1]), None)
