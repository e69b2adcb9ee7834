"""The bot: a ``commands.Bot`` whose ``setup_hook`` opens the lore store and loads the cogs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import metrics as _metrics
from bot.errors import StartupError, report_error
from bot.expiry import answer_expired, is_known
from bot.names import roster_clash
from bot.ratelimit import Limits, RateLimited, check_interaction
from bot.scheduler import INTERVAL as SCHEDULE_INTERVAL
from bot.service import ServiceOptions, ServiceParts, database_lock
from bot.settings import Settings
from bot.sharding import IDENTIFY_INTERVAL, ShardedLaunch, check_plan, format_ids
from lore import CANON_PACK_PATH, LoreService, Quotas, __version__

log = logging.getLogger("lorebot")

EXTENSIONS: tuple[str, ...] = (
    "bot.cogs.lookup",
    "bot.cogs.progress",
    "bot.cogs.info",
    "bot.cogs.spoilers",
    "bot.cogs.lore_admin",
    "bot.cogs.pictures",
    "bot.cogs.quiz",
    "bot.cogs.messages",
)


class LoreTree(app_commands.CommandTree):
    """Every command's failure goes down the bot's one error path (:func:`bot.errors.report_error`).

    Every command and autocomplete request first passes the rate limits (:mod:`bot.ratelimit`),
    then the lore catches up with other processes' writes; each is counted and timed for the
    metrics (:mod:`bot.metrics`)."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if not await check_interaction(interaction):
            return False
        lore = getattr(interaction.client, "lore", None)
        if isinstance(lore, LoreService):
            try:
                await lore.refresh()
            except Exception as e:  # served from memory; the background loop retries
                log.warning("could not read the change feed: %s", e)
        return True

    async def _call(self, interaction: discord.Interaction) -> None:
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            await super()._call(interaction)
        except app_commands.AppCommandError as e:
            error = e
            raise
        finally:
            _metrics.observe_interaction(interaction, error, time.perf_counter() - started)

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        _metrics.observe_error(interaction, error, cooldown=not isinstance(error, RateLimited))
        await report_error(interaction, error, source="command")


#: How long one process may hold the command-sync lock before others may take it over (seconds).
SYNC_LEASE_TTL = 60.0


class LoreBot(ShardedLaunch, commands.AutoShardedBot):
    """The bot. Sharded the way Discord recommends unless ``shard_count``/``shard_ids`` say otherwise
    (a cluster: each process holds some shards of one count); see :mod:`bot.sharding`."""

    def __init__(
        self,
        lore: LoreService,
        *,
        dev_guild: int | None = None,
        owner_ids: set[int] | None = None,
        auto_sync: bool = True,
        freeze_gc: bool = False,
        shard_count: int | None = None,
        shard_ids: list[int] | None = None,
        identify_interval: float = IDENTIFY_INTERVAL,
        limits: Limits | None = None,
        quotas: Quotas | None = None,
        service: ServiceOptions | None = None,
        clock: Callable[[], float] = time.time,
        schedule_interval: float = SCHEDULE_INTERVAL,
    ):
        check_plan(shard_count, shard_ids)
        shards: dict[str, Any] = {"shard_count": shard_count}  # None: the count Discord recommends
        if shard_ids is not None:
            shards["shard_ids"] = shard_ids
        intents = discord.Intents.none()
        intents.guilds = True  # channels and roles of the servers we are in: not privileged
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=LoreTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            owner_ids=owner_ids or None,
            **shards,
        )
        #: The lore the bot serves: opened (and closed) by whoever runs the bot, see :func:`open_lore`.
        self.lore = lore
        self.dev_guild = dev_guild
        self.auto_sync = auto_sync
        self.freeze_gc = freeze_gc
        self.version = __version__
        self.identify_interval = identify_interval
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._expiry_tasks: set[asyncio.Task[None]] = set()
        self.limits = limits if limits is not None else Limits()
        self.quotas = quotas if quotas is not None else (Quotas() if self.limits.enabled else Quotas.off())
        lore.quotas = self.quotas
        self._service = ServiceParts(self, service or ServiceOptions())
        self.metrics = self._service.metrics
        self.heartbeat = self._service.heartbeat
        #: The wall clock spoiler schedules tick by, and how often they look (tests drive both).
        self.clock = clock
        self.schedule_interval = schedule_interval

    @classmethod
    def from_settings(cls, settings: Settings, lore: LoreService, **kwargs: object) -> LoreBot:
        quotas = Quotas(settings.quota_entries, settings.quota_revisions, settings.quota_import_bytes)
        options: dict[str, object] = {
            "dev_guild": settings.lorebot_dev_guild,
            "owner_ids": set(settings.lorebot_owner_ids),
            "shard_count": settings.lorebot_shard_count,
            "shard_ids": settings.lorebot_shard_ids,
            "limits": Limits.from_settings(settings),
            "quotas": quotas if settings.limits else Quotas.off(),
            "service": ServiceOptions.from_settings(settings),
            "schedule_interval": settings.schedule_interval,
        }
        return cls(lore, **{**options, **kwargs})  # type: ignore[arg-type]

    async def setup_hook(self) -> None:
        if clash := roster_clash(self.lore.franchise):  # before anything is loaded, let alone synced
            raise StartupError(clash)
        if self.metrics.enabled:
            self.lore.on_write = self.metrics.db_write
        await self._service.start()
        self.identify_claim = self.lore.coordination.claim_slot  # processes sharing the database pace together
        self.lore.start_watching()  # other processes' writes (the CLI, a second bot) within 0.2 s
        failed: list[str] = []
        for ext in EXTENSIONS:
            try:
                await self.load_extension(ext)
            except commands.ExtensionError:
                log.exception("failed to load extension %s", ext)
                failed.append(ext)
        if failed and self.auto_sync:
            # Syncing a tree without those commands would unregister them from every server.
            raise StartupError(
                f"could not load {', '.join(failed)} (see the log above); commands were not synced, "
                "so that no command disappears from Discord. Fix the error and start again."
            )
        if self.auto_sync:
            await self.sync_if_changed(self.dev_guild)
        if self.freeze_gc:
            # The loaded lore indexes live as long as the process: keep the garbage collector from
            # walking them again on every collection (about a fifth off lookup times at 100,000 entries).
            gc.freeze()

    # -- command sync ------------------------------------------------------------------------
    def _tree_payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
        return [cmd.to_dict(self.tree) for cmd in self.tree.get_commands(guild=guild)]

    def tree_hash(self, guild_id: int | None = None) -> str:
        guild = discord.Object(guild_id) if guild_id is not None else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = json.dumps(self._tree_payload(guild), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    async def sync_commands(self, guild_id: int | None = None) -> int:
        """Register the command tree now (to one server, or globally) and remember its hash."""
        digest = self.tree_hash(guild_id)
        guild = discord.Object(guild_id) if guild_id is not None else None
        synced = await self.tree.sync(guild=guild)
        await self.lore.coordination.set_meta(self._hash_key(guild_id), digest)
        log.info("synced %d commands %s", len(synced), f"to guild {guild_id}" if guild_id else "globally")
        return len(synced)

    async def sync_if_changed(self, guild_id: int | None = None) -> bool:
        """Sync only when the tree differs from the last one synced (Discord rate-limits syncs).

        Processes sharing the database take a lock first, so a cluster starting at once syncs once."""
        shared, lock = self.lore.coordination, "command_sync_lock"
        for _ in range(int(SYNC_LEASE_TTL * 10) + 1):
            if await shared.get_meta(self._hash_key(guild_id)) == self.tree_hash(guild_id):
                log.info("command tree unchanged since the last sync; not syncing")
                return False
            if await shared.try_lease(lock, self.instance, SYNC_LEASE_TTL):
                break
            await asyncio.sleep(0.1)  # another process is syncing: then the hash will match
        try:
            if await shared.get_meta(self._hash_key(guild_id)) == self.tree_hash(guild_id):
                return False
            await self.sync_commands(guild_id)
        finally:
            await shared.release_lease(lock, self.instance)
        return True

    @staticmethod
    def _hash_key(guild_id: int | None) -> str:
        return f"command_hash:{guild_id if guild_id is not None else 'global'}"

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        # discord.py dispatches "interaction" right after routing it to the views and forms it
        # knows: one that nothing took (a menu from before a restart, an unknown id) is answered here.
        if event_name == "interaction" and args and not is_known(self, args[0]):
            task = asyncio.create_task(answer_expired(args[0]), name="lorebot-expired-component")
            self._expiry_tasks.add(task)
            task.add_done_callback(self._expiry_tasks.discard)
        super().dispatch(event_name, *args, **kwargs)

    async def on_ready(self) -> None:
        shards = format_ids(self.shards) or "none"
        count = self.shard_count
        log.info("ready as %s in %d server(s), shard(s) %s of %s", self.user, len(self.guilds), shards, count)

    async def on_shard_ready(self, shard_id: int) -> None:
        count = sum(1 for g in self.guilds if g.shard_id == shard_id)
        log.info("shard %d of %s ready with %d server(s)", shard_id, self.shard_count, count)

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            await self.lore.stop_watching()
            await self._service.stop()


@contextlib.asynccontextmanager
async def open_lore(
    db_path: str | Path, *, canon_pack: Path | None = CANON_PACK_PATH, quotas: Quotas | None = None
) -> AsyncIterator[LoreService]:
    """The lore a bot serves, open for as long as the block runs (as discord.py's
    ``examples/advanced_startup.py`` opens its pool before the bot and hands it over): the
    database is held against a restore first, and closed (and let go) after the bot."""
    lock = database_lock(db_path)
    if lock is not None:
        lock.acquire_shared()  # a restore waits for the bot to stop
    try:
        async with await LoreService.open(db_path, canon_pack=canon_pack, quotas=quotas) as lore:
            yield lore
        log.info("lore database closed")
    finally:
        if lock is not None:
            lock.release()
