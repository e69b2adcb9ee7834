"""The lore service: the one object adapters (the Discord bot, the CLI) talk to.

It owns the store, keeps every scope's documents and name indexes in memory (so lookups and
autocomplete never touch the disk), resolves spoiler policies from cached settings, and performs
writes as single transactions, refreshing the affected index afterwards.

Its parts, each in a module of its own over the state they share (:mod:`lore.state`): loading
and the change feed (:mod:`lore.loading`), what a viewer sees (:mod:`lore.reading`), what an
admin command acts on (:mod:`lore.targets`), one-entry writes (:mod:`lore.authoring`), packs in
and out (:mod:`lore.imports`); the spoiler settings are an object of their own
(:mod:`lore.settings`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from lore.authoring import Authoring
from lore.coordination import Coordination
from lore.imports import Imports
from lore.loading import Loading
from lore.packs import CANON_PACK_PATH, pack_digest
from lore.quotas import Quotas
from lore.schedule_store import Schedules
from lore.scores import QuizScores
from lore.spoilers import Mode, Policy, Setting
from lore.storage import open_store
from lore.store import Store
from lore.targets import Targets


class LoreService(Loading, Imports, Authoring, Targets):
    def __init__(self, store: Store, quotas: Quotas | None = None):
        super().__init__(store)
        self.quotas = quotas if quotas is not None else Quotas()  # the store counts them in each write

    @property
    def quotas(self) -> Quotas:
        """The per-server quotas every write of a server's entries is checked against."""
        return self.store.quotas or Quotas.off()

    @quotas.setter
    def quotas(self, quotas: Quotas) -> None:
        self.store.quotas = quotas

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    async def open(
        cls, path: str | Path, *, canon_pack: Path | None = CANON_PACK_PATH, quotas: Quotas | None = None
    ) -> LoreService:
        """Open (creating and migrating as needed) the database at ``path``; fill or upgrade the
        canon from ``canon_pack`` when it is newer than the one stored. ``quotas`` bound what a
        server's own lore may hold (the defaults unless given; ``Quotas.off()`` for none).

        ``path`` is an SQLite path or a ``postgresql://`` URL (see :mod:`lore.storage`). Raises
        :class:`~lore.faults.LoreFault` (one sentence) for a database that cannot be used,
        a new database without its canon pack, or a damaged canon pack.
        """
        store = await open_store(path, check_aside=True)
        svc = cls(store, quotas)
        # The pack's digest is read on a thread while the load builds the indexes: both take a
        # while at 100,000 entries, and only the load needs the interpreter.
        digest = None
        if canon_pack is not None:
            digest = asyncio.ensure_future(asyncio.to_thread(pack_digest, canon_pack, canon=True))
        try:
            await svc._load()
            if canon_pack is not None:
                await svc.apply_canon_pack(canon_pack, digest=digest)
        except BaseException:
            if digest is not None and not digest.cancel():
                digest.exception()  # taken: the fault raised is the load's
            await store.close()
            raise
        return svc

    async def close(self) -> None:
        await self.stop_watching()
        await self.store.close()

    async def __aenter__(self) -> LoreService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- what adapters keep in the database besides the lore ---------------------------------
    @property
    def schedules(self) -> Schedules:
        """The servers' spoiler schedules (opening episodes up to the franchise's last, as it is now)."""
        return Schedules(self.store, self.franchise.last)

    @property
    def quiz_scores(self) -> QuizScores:
        """The servers' quiz scores."""
        return QuizScores(self.store)

    @property
    def coordination(self) -> Coordination:
        """Leases, paced slots and notes shared by the processes on this database."""
        return self.store

    @property
    def on_write(self) -> Callable[[float], None] | None:
        """Called with the seconds each committed write took (the operator's metrics), or None."""
        return self.store.on_write

    @on_write.setter
    def on_write(self, observer: Callable[[float], None] | None) -> None:
        self.store.on_write = observer

    async def schema_version(self) -> int:
        """The version of the database's schema (:data:`lore.SCHEMA_VERSION` once migrated)."""
        return await self.store.schema_version()

    # -- spoiler settings (lore.settings) ----------------------------------------------------
    def policy(
        self,
        guild_id: int | None,
        channel_id: int | None = None,
        user_id: int | None = None,
        private: bool = False,
        parent_id: int | None = None,
    ) -> Policy:
        """The policy for a reply in ``channel_id``; a thread or forum post (``parent_id`` given)
        without an override of its own follows its parent channel's."""
        return self._settings.policy(guild_id, channel_id, user_id, private, parent_id)

    def server_setting(self, guild_id: int) -> Setting:
        return self._settings.server_setting(guild_id)

    def channel_overrides(self, guild_id: int) -> dict[int, Setting]:
        return self._settings.channel_overrides(guild_id)

    async def set_policy(
        self,
        guild_id: int,
        *,
        channel_id: int | None = None,
        episode: int | None = None,
        mode: Mode | None = None,
    ) -> Setting:
        """Set the server's (or one channel's) episode and/or mode, keeping the other part (as
        stored when the write runs: another process's change to it is kept)."""
        return await self._settings.set_policy(guild_id, channel_id=channel_id, episode=episode, mode=mode)

    async def reset_channel(self, guild_id: int, channel_id: int) -> bool:
        return await self._settings.reset_channel(guild_id, channel_id)

    def progress(self, user_id: int) -> int | None:
        return self._settings.progress(user_id)

    async def set_progress(self, user_id: int, episode: int | None) -> None:
        await self._settings.set_progress(user_id, episode)
