"""The fake's state: the world (guilds, users, channels, messages, files, registered commands), the
gateway sessions, the interactions in flight, what the bot sent and which rules it broke; with the
look-ups and the message store every other part shares."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import validate
from .errors import FakeDiscordError, ViolationsError
from .gateway import GatewayConnection, GatewaySession
from .interactions import InvalidInteraction
from .models import BOT_DEFAULT, FakeAttachment, FakeChannel, FakeGuild, FakeMember, FakeUser, iso_now, snowflake
from .records import InteractionRecord, is_parked
from .result import (
    EPHEMERAL,
    FakeMessage,
    FileAttachment,
    InteractionResult,
    RecordedRequest,
    Violation,
    iter_components,
)
from .shards import ShardRouter

log = logging.getLogger("fakediscord")

API_PREFIX = "/api/v10"
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9

# Unverified bot: privileged intents "limited" (i.e. enabled in the developer portal).
APPLICATION_FLAGS = (1 << 13) | (1 << 15) | (1 << 19) | (1 << 23)

MESSAGE_FLAGS_SETTABLE = EPHEMERAL | (1 << 2) | (1 << 12) | (1 << 15)


class FakeState:
    """Everything the fake holds, and the look-ups the other parts share (see :mod:`fakediscord.server`)."""

    def __init__(
        self,
        *,
        bot_name: str = "LoreBot",
        application_id: int | None = None,
        timeout: float = 5.0,
        settle: float = 0.05,
        callback_deadline: float | None = 3.0,
        require_no_mentions: bool = True,
        reject_invalid: bool = True,
        openapi: bool | str | Any = True,
        raise_on_violations: bool = True,
        heartbeat_interval: int = 41250,
        bot_permissions: int = BOT_DEFAULT,
        idle_timeout: float = 1.0,
        shards: int | None = None,
        max_concurrency: int = 1,
        identify_interval: float = 5.0,
    ) -> None:
        self.bot_user = FakeUser(bot_name, id=application_id or snowflake(), bot=True)
        self.application_id = self.bot_user.id
        self.owner = FakeUser("AppOwner")
        self.timeout = timeout
        self.settle = settle
        self.idle_timeout = idle_timeout
        self.callback_deadline = callback_deadline
        self.require_no_mentions = require_no_mentions
        self.reject_invalid = reject_invalid
        self.raise_on_violations = raise_on_violations
        self.heartbeat_interval = heartbeat_interval
        self.bot_permissions = bot_permissions

        self.guilds: dict[int, FakeGuild] = {}
        #: Guilds the bot was removed from (:meth:`~fakediscord.world.World.remove_bot`).
        self.left_guilds: dict[int, FakeGuild] = {}
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {None: []}
        self.sync_counts: dict[str | int, int] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.files: dict[int, FileAttachment | FakeAttachment] = {}
        self.requests: list[RecordedRequest] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.bot_errors: list[str] = []
        self.results: list[InteractionResult] = []
        self.last_result: InteractionResult | None = None
        self.token: str | None = None

        self.sessions: dict[str, GatewaySession] = {}
        self.session: GatewaySession | None = None
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        #: Shards (see :mod:`fakediscord.shards`): ``shards`` is the count ``GET /gateway/bot``
        #: recommends (default one per 1,000 guilds), ``max_concurrency`` and ``identify_interval``
        #: the identify rate limit checked on every IDENTIFY.
        self.shards = ShardRouter(shards=shards, max_concurrency=max_concurrency, identify_interval=identify_interval)
        self.resume_count = 0
        self.bot: Any = None

        self._records: dict[str, InteractionRecord] = {}
        self._records_by_id: dict[int, InteractionRecord] = {}
        self._active: set[InteractionRecord] = set()
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._pending: list[asyncio.Task[Any]] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._openapi_setting = openapi
        self._openapi: validate.OpenAPIValidator | None = None

    # ============================================================== addresses
    @property
    def port(self) -> int:
        if self._port is None:
            raise FakeDiscordError("the fake is not started: use `async with FakeDiscord() as fake`")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` is patched to."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` is patched to."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway/resume"

    def _file_url(self, file_id: int, filename: str) -> str:
        return f"{self.base_url}/attachments/{file_id}/{filename}"

    def _me(self) -> dict[str, Any]:
        return {
            **self.bot_user.to_dict(),
            "bot": True,
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
            "premium_type": 0,
        }

    # ================================================================= look-ups
    def _channel_by_id(self, channel_id: int) -> FakeChannel:
        for g in self.guilds.values():
            for ch in g.channels.values():
                if ch.id == channel_id:
                    return ch
        for ch in self.dm_channels.values():
            if ch.id == channel_id:
                return ch
        raise InvalidInteraction(f"unknown channel {channel_id}")

    def channel_messages(self, channel: FakeChannel) -> list[FakeMessage]:
        """Live messages in ``channel`` (interaction responses, follow-ups, channel sends), oldest first."""
        return [m for m in self.messages.values() if m.channel_id == channel.id and not m.deleted]

    def registered_commands(self, guild: FakeGuild | int | None = None) -> list[dict[str, Any]]:
        """Commands the bot registered globally (``guild=None``) or for one guild."""
        key = guild.id if isinstance(guild, FakeGuild) else guild
        return copy.deepcopy(self.commands.get(key, []))

    def find_command(self, name: str, guild: FakeGuild | int | None = None, *, type: int = 1) -> dict[str, Any]:
        """The registered command a user in ``guild`` sees under ``name`` (guild commands shadow global)."""
        gid = guild.id if isinstance(guild, FakeGuild) else guild
        for scope in ([gid] if gid is not None else []) + [None]:
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        names = sorted({c["name"] for scope in ([gid, None] if gid else [None]) for c in self.commands.get(scope, [])})
        raise InvalidInteraction(f"no command {name!r} is registered (did the bot sync?); registered: {names}")

    @property
    def sync_count(self) -> int:
        """Number of bulk-overwrite PUTs, global and per guild together."""
        return sum(self.sync_counts.values())

    @property
    def global_sync_count(self) -> int:
        return self.sync_counts.get("global", 0)

    def guild_sync_count(self, guild: FakeGuild | int) -> int:
        return self.sync_counts.get(guild.id if isinstance(guild, FakeGuild) else guild, 0)

    # ========================================================= gateway sessions
    def _require_session(self, guild_id: int | None = None) -> GatewaySession:
        """The last session that identified or resumed; with ``guild_id``, that guild's shard's."""
        if self.session is None:
            raise FakeDiscordError("no bot is connected: use `async with fake.running(bot):`")
        if guild_id is None:
            return self.session
        session = self.shards.session_for(guild_id)
        if session is None:
            count = self.shards.shard_count
            raise FakeDiscordError(f"no shard of the bot holds guild {guild_id} (shard count {count})")
        return session

    def session_for(self, channel: FakeChannel | FakeGuild | None) -> GatewaySession:
        """The session whose connection gets events about this channel's guild (shard 0 for DMs)."""
        guild = channel if isinstance(channel, FakeGuild) else (channel.guild if channel is not None else None)
        if guild is None:
            session = self.shards.session_for(None) or self.session
            if session is None:
                raise FakeDiscordError("no bot is connected: use `async with fake.running(bot):`")
            return session
        return self._require_session(guild.id)

    def _gateway_event(
        self, event: str, build: Callable[[GatewaySession], dict[str, Any] | None], guild: FakeGuild | None = None
    ) -> None:
        session = self.shards.session_for(guild.id) if guild is not None else self.session
        if session is None:
            return
        data = build(session)
        if data is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("fake discord: %s not dispatched (no running event loop)", event)
            return
        self._pending.append(loop.create_task(session.dispatch(event, data)))

    async def _drain_pending(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # ============================================================= interactions
    def _rec_for(self, app: str, token: str) -> InteractionRecord | None:
        rec = self._records.get(token)
        if rec is None or app != str(self.application_id):
            return None
        return rec

    def _touch(self, rec: InteractionRecord) -> None:
        rec.touch()
        rec.note_tasks(self._parked)

    def _parked(self, task: asyncio.Task[Any]) -> bool:
        """Is ``task`` suspended waiting for user input (``View.wait()`` / ``Client.wait_for``)?"""
        return is_parked(task, self.bot)

    # =============================================================== violations
    def _violation(self, v: Violation, rec: InteractionRecord | None = None) -> None:
        self.violations.append(v)
        if rec is not None:
            rec.violations.append(v)
        log.warning("fake discord violation: %s", v)

    def assert_no_violations(self) -> None:
        if self.violations:
            raise ViolationsError(self.violations)

    def take_violations(self) -> list[Violation]:
        """Return and clear the recorded violations (e.g. after a test that expects some)."""
        out, self.violations = self.violations, []
        return out

    # ================================================================= messages
    def _new_message(
        self, rec: InteractionRecord | None, channel_id: int, guild_id: int | None, *, message_type: int = 0
    ) -> FakeMessage:
        msg = FakeMessage(
            id=snowflake(),
            channel_id=channel_id,
            guild_id=guild_id,
            timestamp=iso_now(),
            message_type=message_type,
            author=self.bot_user.to_dict(),
            application_id=self.application_id if rec is not None else None,
        )
        if rec is not None:
            msg.interaction_id = rec.id
            msg.interaction_type = rec.type
            msg.interaction_user = (rec.actor.user if isinstance(rec.actor, FakeMember) else rec.actor).to_dict()
        self.messages[msg.id] = msg
        return msg

    def _apply(
        self, msg: FakeMessage, body: dict[str, Any] | None, files: list[tuple[int, FileAttachment]], *, create: bool
    ) -> None:
        body = body or {}
        if "content" in body:
            msg.content = body.get("content") or ""
        if "embeds" in body:
            msg.embeds = copy.deepcopy(body.get("embeds") or [])
        if "components" in body:
            msg.components = copy.deepcopy(body.get("components") or [])
            assign_component_ids(msg.components)
        flags = body.get("flags")
        if isinstance(flags, int):
            if create:
                msg.flags = flags & MESSAGE_FLAGS_SETTABLE
            else:
                msg.flags = (msg.flags & EPHEMERAL) | (flags & MESSAGE_FLAGS_SETTABLE & ~EPHEMERAL)
        if "tts" in body:
            msg.tts = bool(body.get("tts"))
        uploads = dict(files)
        for _, f in files:
            self.files[f.id] = f
        entries = body.get("attachments")
        if entries is not None:
            existing = {a.id: a for a in msg.attachments}
            new: list[FileAttachment] = []
            for entry in entries:
                aid = entry.get("id") if isinstance(entry, dict) else None
                num = int(aid) if isinstance(aid, int) or (isinstance(aid, str) and aid.isdigit()) else None
                if num is None:
                    continue
                if num in existing:
                    new.append(existing[num])
                elif num in uploads:
                    f = uploads.pop(num)
                    if entry.get("description"):
                        f.description = entry["description"]
                    new.append(f)
            msg.attachments = new + list(uploads.values())
        elif files:
            msg.attachments = ([] if create else msg.attachments) + [f for _, f in files]
        if not create:
            if msg.loading:
                msg.loading = False
            else:
                msg.edited_timestamp = iso_now()
        msg.history.append(copy.deepcopy(body))


def assign_component_ids(components: list[dict[str, Any]]) -> None:
    """Discord numbers components that have no ``id`` sequentially, skipping used ids."""
    all_comps = list(iter_components(components))
    used = {c["id"] for c in all_comps if isinstance(c.get("id"), int)}
    n = 0
    for c in all_comps:
        if c.get("id") is None:
            n += 1
            while n in used:
                n += 1
            c["id"] = n
            used.add(n)
