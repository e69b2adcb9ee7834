"""The spoiler settings in force: each server's and channel's episode and mode, and each user's
progress, cached from the store (kept current by the change feed) and written through it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from lore import feed
from lore.spoilers import Mode, Policy, Setting, resolve_policy
from lore.store import Store

V = TypeVar("V")


class Settings:
    """Every server's, channel's and user's setting, and the policy a reply gets from them."""

    def __init__(self, store: Store, check_episode: Callable[[int], None]) -> None:
        """``check_episode`` refuses an episode the franchise does not have (a :class:`LoreError`)."""
        self.store = store
        self._check_episode = check_episode
        self._guild_settings: dict[int, Setting] = {}
        self._channel_settings: dict[int, tuple[int, Setting]] = {}
        self._progress: dict[int, int] = {}
        changes = store.feed
        changes.subscribe(feed.SERVER_SETTING, self._on_server_settings)
        changes.subscribe(feed.CHANNEL_SETTING, self._on_channel_settings)
        changes.subscribe(feed.PROGRESS, self._on_progress)

    async def load(self) -> None:
        """Read every setting from the store (at start-up, and when the change feed was pruned
        past this process's position)."""
        g, c, p = await self.store.load_settings()
        self._guild_settings, self._channel_settings, self._progress = g, c, p

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
        server = self._guild_settings.get(guild_id) if guild_id is not None else None
        channel = None
        for cid in (channel_id, parent_id):
            ch = self._channel_settings.get(cid) if cid is not None else None
            if ch is not None:
                channel = ch[1]
                break
        progress = self._progress.get(user_id) if user_id is not None else None
        return resolve_policy(server=server, channel=channel, user_progress=progress, private=private)

    def server_setting(self, guild_id: int) -> Setting:
        return self._guild_settings.get(guild_id, Setting())

    def channel_overrides(self, guild_id: int) -> dict[int, Setting]:
        return {cid: s for cid, (gid, s) in self._channel_settings.items() if gid == guild_id}

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
        if episode is not None:
            self._check_episode(episode)
        async with self.store.write() as tx:
            if channel_id is None:
                old = (await self.store.guild_settings([guild_id], tx)).get(guild_id, Setting())
                new = Setting(episode if episode is not None else old.episode, mode or old.mode)
                await self.store.put_guild_setting(tx, guild_id, new)
            else:
                found = (await self.store.channel_settings([channel_id], tx)).get(channel_id)
                old = found[1] if found is not None else Setting()
                new = Setting(episode if episode is not None else old.episode, mode or old.mode)
                await self.store.put_channel_setting(tx, guild_id, channel_id, new)
        return new

    async def reset_channel(self, guild_id: int, channel_id: int) -> bool:
        async with self.store.write() as tx:
            existed = bool(await self.store.channel_settings([channel_id], tx))
            if existed:
                await self.store.put_channel_setting(tx, guild_id, channel_id, None)
        return existed

    def progress(self, user_id: int) -> int | None:
        return self._progress.get(user_id)

    async def set_progress(self, user_id: int, episode: int | None) -> None:
        if episode is not None:
            self._check_episode(episode)
        async with self.store.write() as tx:
            await self.store.put_progress(tx, user_id, episode)

    async def _on_server_settings(self, rows: list[feed.ChangeRow]) -> None:
        await _reread(self._guild_settings, rows, self.store.guild_settings)

    async def _on_channel_settings(self, rows: list[feed.ChangeRow]) -> None:
        await _reread(self._channel_settings, rows, self.store.channel_settings)

    async def _on_progress(self, rows: list[feed.ChangeRow]) -> None:
        await _reread(self._progress, rows, self.store.progress_of)


async def _reread(
    cache: dict[int, V], rows: list[feed.ChangeRow], read: Callable[[set[int]], Awaitable[Mapping[int, V]]]
) -> None:
    """Read the changed rows' keys into ``cache`` again (a key no longer stored is dropped)."""
    ids = {int(row.key) for row in rows}
    fresh = await read(ids)
    for key in ids:
        if key in fresh:
            cache[key] = fresh[key]
        else:
            cache.pop(key, None)
