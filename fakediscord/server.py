"""The fake Discord: an aiohttp server (REST + gateway + attachment CDN) and the test API."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import mimetypes
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from aiohttp import BodyPartReader, WSMsgType, web

from . import validate
from .gateway import (
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE,
    OP_RECONNECT,
    OP_REQUEST_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE,
    GatewayConnection,
    GatewaySession,
)
from .interactions import (
    InvalidInteraction,
    Resolved,
    base_payload,
    check_command_access,
    command_data,
    component_data,
    modal_components,
    split_command_path,
)
from .models import (
    BOT_DEFAULT,
    DM,
    EVERYONE_DEFAULT,
    GUILD_CATEGORY,
    GUILD_TEXT,
    PUBLIC_THREAD,
    THREAD_TYPES,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Perm,
    iso_now,
    snowflake,
)
from .patch import patch_discord
from .result import (
    EPHEMERAL,
    Choice,
    FakeMessage,
    FileAttachment,
    InteractionResult,
    ModalInfo,
    RecordedRequest,
    Violation,
    iter_components,
)
from .shards import IdentifyRefusal, ShardRouter

log = logging.getLogger("fakediscord")

API_PREFIX = "/api/v10"
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
# Unverified bot: privileged intents "limited" (i.e. enabled in the developer portal).
APPLICATION_FLAGS = (1 << 13) | (1 << 15) | (1 << 19) | (1 << 23)
HANDLER_TASK_PREFIXES = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
    "discord-ui-dynamic-item-",
    "discord.py: on_interaction",
    "discord.py: on_app_command",
)
PROJECT_RULES = ("allowed_mentions.",)
MESSAGE_FLAGS_SETTABLE = EPHEMERAL | (1 << 2) | (1 << 12) | (1 << 15)


class FakeDiscordError(Exception):
    """Base class for errors raised by the harness."""


class NoResponse(FakeDiscordError):
    """The bot did not answer an interaction in time."""


class ViolationsError(FakeDiscordError, AssertionError):
    """The bot sent payloads that break Discord's (or the project's) rules."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = list(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(f"{len(self.violations)} Discord payload violation(s):\n{lines}")


class ChoiceList(list[Any]):
    """The choices of an autocomplete answer; ``.result`` is the full InteractionResult."""

    result: InteractionResult

    @property
    def names(self) -> list[str]:
        return [c.name for c in self]

    @property
    def values(self) -> list[Any]:
        return [c.value for c in self]


@dataclass(eq=False)
class _Record:
    payload: dict[str, Any]
    actor: FakeMember | FakeUser
    channel: FakeChannel
    option_type: int | None = None
    source_message_id: int | None = None
    created: float = field(default_factory=time.monotonic)
    callback_type: int | None = None
    callback_body: dict[str, Any] | None = None
    attempted: asyncio.Event = field(default_factory=asyncio.Event)
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    rejected: list[RecordedRequest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    choices: list[Choice] | None = None
    modal: ModalInfo | None = None
    original_deleted: bool = False
    last_activity: float = field(default_factory=time.monotonic)
    inflight: int = 0
    timed_out: bool = False
    tasks_before: set[asyncio.Task[Any]] = field(default_factory=set)
    handler_tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def type(self) -> int:
        return int(self.payload["type"])

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def note_tasks(self, parked: Callable[[asyncio.Task[Any]], bool] | None = None) -> None:
        """Remember the bot's handler tasks for this interaction (discord.py names them).

        With ``parked`` (called while the bot awaits our reply to a request on this token), an
        older handler that is awake right now counts too: e.g. a slash command that waited on a
        confirmation view and now answers the button click itself.
        """
        for t in asyncio.all_tasks():
            if t in self.handler_tasks or not t.get_name().startswith(HANDLER_TASK_PREFIXES):
                continue
            if t not in self.tasks_before or (parked is not None and not t.done() and not parked(t)):
                self.handler_tasks.add(t)


@dataclass
class _Req:
    request: web.Request
    recorded: RecordedRequest
    body: Any
    files: list[tuple[int, FileAttachment]]


class _ErrorCapture(logging.Handler):
    """Collects ERROR records discord.py logs (ignored exceptions in commands, views, modals)."""

    def __init__(self, fake: FakeDiscord) -> None:
        super().__init__(logging.ERROR)
        self.fake = fake
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # pragma: no cover - logging must never raise
            text = record.getMessage()
        self.fake.bot_errors.append(text)
        with suppress(RuntimeError):
            task = asyncio.current_task()
            for rec in list(self.fake._active):
                rec.errors.append(text)
                if task is not None and task.get_name().startswith(HANDLER_TASK_PREFIXES):
                    rec.handler_tasks.add(task)


def _error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> tuple[int, Any]:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return status, body


def _form_errors(issues: Iterable[validate.Issue]) -> dict[str, Any]:
    """Discord-style nested ``errors`` object for an Invalid Form Body response."""
    out: dict[str, Any] = {}
    for issue in issues:
        node = out
        for part in [p for p in re.split(r"[.\[\]]+", issue.where) if p]:
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": issue.rule.upper().replace(".", "_"), "message": issue.message})
    return out


class FakeDiscord:
    """A local fake of Discord's REST API and gateway, driven from tests or a console.

    See the package docstring (``help(fakediscord)``) for a walkthrough.
    """

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

        self._records: dict[str, _Record] = {}
        self._records_by_id: dict[int, _Record] = {}
        self._active: set[_Record] = set()
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._pending: list[asyncio.Task[Any]] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._openapi_setting = openapi
        self._openapi: validate.OpenAPIValidator | None = None
        self._routes = self._build_routes()

    # ================================================================ lifecycle
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            return
        if self._openapi_setting:
            path = None if self._openapi_setting is True else Path(self._openapi_setting)
            self._openapi = validate.OpenAPIValidator.load(path)
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_get("/gateway", self._ws_handler)
        app.router.add_get("/gateway/", self._ws_handler)
        app.router.add_get("/gateway/resume", self._ws_handler)
        app.router.add_get("/attachments/{id}/{filename}", self._cdn_handler)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._api_handler)
        app.router.add_route("*", "/{tail:.*}", self._unknown_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        for f in self.files.values():
            if isinstance(f, FakeAttachment):
                f.url = self._file_url(f.id, f.filename)
        log.debug("fake discord listening on %s", self.base_url)

    async def stop(self) -> None:
        for conn in self.connections:
            if not conn.closed:
                with suppress(Exception):
                    await conn.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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

    def patch(self) -> AbstractContextManager[None]:
        """Context manager pointing discord.py at this fake (``running`` does it for you)."""
        return patch_discord(self.api_base, self.gateway_url)

    @asynccontextmanager
    async def running(
        self,
        bot: Any,
        token: str = "fake-token",
        *,
        timeout: float = 10.0,
        wait_ready: bool = False,
        check_violations: bool | None = None,
    ) -> AsyncIterator[Any]:
        """Log ``bot`` in, connect it and wait until every guild is in its cache.

        On exit the bot is closed, the patches are undone and, unless disabled, a
        :class:`ViolationsError` is raised if any payload broke a rule. ``wait_ready`` also waits
        for ``on_ready`` (discord.py holds it back ``guild_ready_timeout`` seconds, 2 s by default).
        """
        await self.start()
        capture = _ErrorCapture(self)
        dlog = logging.getLogger()  # root: discord.py's "Ignoring exception ..." and the bot's own errors
        dlog.addHandler(capture)
        self.bot = bot
        task: asyncio.Task[Any] | None = None
        try:
            with self.patch():
                try:
                    await bot.login(token)
                    task = asyncio.create_task(bot.connect(reconnect=True), name="fakediscord-bot-connect")
                    await self._wait_connected(bot, task, timeout, wait_ready)
                    yield bot
                finally:
                    with suppress(Exception):
                        await bot.close()
                    if task is not None:
                        try:
                            await asyncio.wait_for(task, 5.0)
                        except (Exception, asyncio.CancelledError):
                            task.cancel()
                    await self._drain_pending()
        finally:
            dlog.removeHandler(capture)
            self.bot = None
        check = self.raise_on_violations if check_violations is None else check_violations
        if check and self.violations:
            raise ViolationsError(self.violations)

    async def _wait_connected(self, bot: Any, task: asyncio.Task[Any], timeout: float, wait_ready: bool) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if task.done():
                exc = task.exception()
                raise FakeDiscordError(f"the bot's connection ended while starting: {exc!r}") from exc
            held = self.shards.held_by(bot, self.guilds)
            ready = self.session is not None and all(
                (g := bot.get_guild(gid)) is not None and not g.unavailable for gid in held
            )
            if ready and wait_ready:
                ready = bot.is_ready()
            if ready:
                return
            if time.monotonic() > deadline:
                raise FakeDiscordError("timed out waiting for the bot to connect and load its guilds")
            await asyncio.sleep(0.005)

    # =================================================================== world
    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        channels: Iterable[str] | dict[str, dict[str, Any]] = ("general",),
        roles: dict[str, int] | None = None,
        locale: str = "en-US",
        owner: FakeUser | None = None,
        premium_tier: int = 0,
        id: int | None = None,
    ) -> FakeGuild:
        """Create a guild the bot is in, with text channels, an @everyone role and the bot's member.

        ``channels`` is a list of names or ``{name: {"type": 0, "topic": ..., "nsfw": ...}}``;
        ``roles`` maps extra role names to permission bits. Call before the bot connects, or
        afterwards (a GUILD_CREATE is then dispatched).
        """
        guild = FakeGuild(name=name, id=id or snowflake(), locale=locale, premium_tier=premium_tier)
        guild.roles["@everyone"] = FakeRole(guild, "@everyone", EVERYONE_DEFAULT, id=guild.id, position=0)
        owner = owner or self.owner
        self.users.setdefault(owner.id, owner)
        guild.owner_id = owner.id
        guild.members[owner.id] = FakeMember(guild, owner, is_owner=True)
        bot_role = FakeRole(guild, self.bot_user.name, self.bot_permissions, managed=True, bot_id=self.bot_user.id)
        guild.roles[bot_role.name] = bot_role
        guild.members[self.bot_user.id] = FakeMember(guild, self.bot_user, roles=[bot_role])
        for i, (rname, perms) in enumerate((roles or {}).items(), start=2):
            guild.roles[rname] = FakeRole(guild, rname, perms, position=i)
        specs = channels if isinstance(channels, dict) else {c: {} for c in channels}
        for i, (cname, spec) in enumerate(specs.items()):
            ch = FakeChannel(cname, guild, position=i, **spec)
            guild.channels[cname] = ch
        self.guilds[guild.id] = guild
        self._gateway_event(
            "GUILD_CREATE",
            lambda s: guild.to_gateway(
                include_members=bool(s.intents & INTENT_GUILD_MEMBERS), bot_user_id=self.bot_user.id
            ),
            guild,
        )
        return guild

    def add_channel(
        self, guild: FakeGuild, name: str, *, type: int = GUILD_TEXT, parent: FakeChannel | None = None, **kw: Any
    ) -> FakeChannel:
        ch = FakeChannel(name, guild, type=type, parent=parent, position=len(guild.channels), **kw)
        guild.channels[name] = ch
        self._gateway_event(
            "THREAD_CREATE" if type in THREAD_TYPES else "CHANNEL_CREATE", lambda s: ch.to_dict(), guild
        )
        return ch

    def add_thread(self, guild: FakeGuild, name: str, parent: FakeChannel) -> FakeChannel:
        """A public thread in a text channel, or a post in a forum channel."""
        return self.add_channel(guild, name, type=PUBLIC_THREAD, parent=parent)

    def add_category(self, guild: FakeGuild, name: str) -> FakeChannel:
        return self.add_channel(guild, name, type=GUILD_CATEGORY)

    def add_role(self, guild: FakeGuild, name: str, permissions: int = 0) -> FakeRole:
        role = FakeRole(guild, name, permissions, position=len(guild.roles))
        guild.roles[name] = role
        self._gateway_event("GUILD_ROLE_CREATE", lambda s: {"guild_id": str(guild.id), "role": role.to_dict()}, guild)
        return role

    def add_user(self, name: str, *, locale: str = "en-US", id: int | None = None) -> FakeUser:
        """A user (not tied to a guild); use it for bot-DM interactions or with ``add_member(user=...)``."""
        user = FakeUser(name, id=id or snowflake(), locale=locale)
        self.users[user.id] = user
        return user

    def add_member(
        self,
        guild: FakeGuild,
        name: str | None = None,
        *,
        user: FakeUser | None = None,
        manage_guild: bool = False,
        administrator: bool = False,
        permissions: int = 0,
        roles: Iterable[FakeRole | str] = (),
        nick: str | None = None,
        locale: str = "en-US",
    ) -> FakeMember:
        """Add a member to ``guild`` (a new user called ``name``, or an existing ``user``).

        ``manage_guild``/``administrator``/``permissions`` give the member a role carrying those
        permission bits on top of @everyone.
        """
        if user is None:
            if name is None:
                raise ValueError("give a name or a user")
            user = self.add_user(name, locale=locale)
        member_roles = [guild.roles[r] if isinstance(r, str) else r for r in roles]
        extra = permissions | (Perm.MANAGE_GUILD if manage_guild else 0) | (Perm.ADMINISTRATOR if administrator else 0)
        if extra:
            role_name = "Admins" if administrator else ("Moderators" if manage_guild else f"perms-{extra}")
            role = guild.roles.get(role_name)
            if role is None or role.permissions != extra:
                role = FakeRole(
                    guild, role_name if role is None else f"{role_name}-{extra}", extra, position=len(guild.roles)
                )
                guild.roles[role.name] = role
                self._gateway_event(
                    "GUILD_ROLE_CREATE", lambda s: {"guild_id": str(guild.id), "role": role.to_dict()}, guild
                )
            member_roles.append(role)
        member = FakeMember(guild, user, roles=member_roles, nick=nick)
        guild.members[user.id] = member

        def member_add(s: GatewaySession) -> dict[str, Any] | None:
            if not s.intents & INTENT_GUILD_MEMBERS:
                return None
            return {"guild_id": str(guild.id), **member.to_dict()}

        self._gateway_event("GUILD_MEMBER_ADD", member_add, guild)
        return member

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        ch = self.dm_channels.get(user.id)
        if ch is None:
            ch = FakeChannel(f"dm-{user.name}", None, type=DM, recipient=user)
            self.dm_channels[user.id] = ch
        return ch

    def attachment(
        self, filename: str, data: bytes | str, content_type: str | None = None, *, description: str | None = None
    ) -> FakeAttachment:
        """A file a user attaches (to an ATTACHMENT option or a modal file upload), served by the fake."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        att = FakeAttachment(filename, data, content_type or _guess_type(filename), description=description)
        if self._port is not None:
            att.url = self._file_url(att.id, filename)
        self.files[att.id] = att
        return att

    def _file_url(self, file_id: int, filename: str) -> str:
        return f"{self.base_url}/attachments/{file_id}/{filename}"

    # ----------------------------------------------------------- gateway events
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

    async def dispatch_event(self, event: str, data: dict[str, Any]) -> int:
        """Send any gateway DISPATCH event to the bot (on the shard of ``data["guild_id"]``, if any);
        returns its sequence number."""
        await self._drain_pending()
        gid = data.get("guild_id") if isinstance(data, dict) else None
        return await self._require_session(int(gid) if gid else None).dispatch(event, data)

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

    async def disconnect(
        self,
        code: int = 4000,
        *,
        invalidate: bool = False,
        wait_resume: bool = True,
        timeout: float = 5.0,
        shard: int | None = None,
    ) -> None:
        """Close the bot's websocket from the server side and wait for it to come back.

        With a resumable code (4000 and most 4xxx; discord.py gives up on 1000, 4004, 4010-4014)
        the bot RESUMEs and gets the events it missed. ``invalidate=True`` forgets the session
        first, so the RESUME is answered with INVALID_SESSION and the bot IDENTIFYs again.
        """
        session = self._require_session() if shard is None else self.shards.by_shard[shard]
        conn = session.connection
        resumes, identifies = self.resume_count, self.identify_count
        if invalidate:
            session.invalidated = True
        if conn is not None:
            await conn.close(code=code)
        if wait_resume:
            await self._wait_for(
                lambda: self.resume_count > resumes or self.identify_count > identifies,
                timeout,
                "the bot did not reconnect",
            )

    async def request_reconnect(self, *, timeout: float = 5.0) -> None:
        """Send opcode 7 RECONNECT and wait for the bot to RESUME."""
        session = self._require_session()
        resumes = self.resume_count
        if session.connection is not None:
            await session.connection.send({"op": OP_RECONNECT, "d": None})
        await self._wait_for(lambda: self.resume_count > resumes, timeout, "the bot did not resume")

    async def _wait_for(self, cond: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise FakeDiscordError(f"{what} within {timeout}s")
            await asyncio.sleep(0.005)

    # ================================================================= commands
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

    # ============================================================ violations
    def assert_no_violations(self) -> None:
        if self.violations:
            raise ViolationsError(self.violations)

    def take_violations(self) -> list[Violation]:
        """Return and clear the recorded violations (e.g. after a test that expects some)."""
        out, self.violations = self.violations, []
        return out

    # ============================================================ test API
    def _actor_and_channel(
        self, user: FakeMember | FakeUser, channel: FakeChannel | None
    ) -> tuple[FakeMember | FakeUser, FakeChannel]:
        if channel is None:
            if isinstance(user, FakeMember):
                texts = user.guild.text_channels
                if not texts:
                    raise InvalidInteraction(f"guild {user.guild.name!r} has no text channel; pass channel=")
                return user, texts[0]
            return user, self.dm_channel(user)
        if channel.type == DM:
            u = user.user if isinstance(user, FakeMember) else user
            return u, channel
        guild = channel.guild
        assert guild is not None
        if isinstance(user, FakeMember):
            if user.guild is not guild:
                member = guild.members.get(user.id)
                if member is None:
                    raise InvalidInteraction(f"{user.name} is not a member of {guild.name!r}")
                return member, channel
            return user, channel
        member = guild.members.get(user.id)
        if member is None:
            raise InvalidInteraction(f"{user.name} is not a member of {guild.name!r}")
        return member, channel

    def _app_permissions(self, channel: FakeChannel) -> int:
        if channel.guild is None:
            return Perm.ATTACH_FILES | Perm.EMBED_LINKS | Perm.MENTION_EVERYONE | Perm.USE_EXTERNAL_EMOJIS
        return channel.guild.members[self.bot_user.id].permissions

    async def slash(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeMember | FakeUser,
        channel: FakeChannel | None = None,
        locale: str | None = None,
        check_permissions: bool = True,
        timeout: float | None = None,
        settle: float | None = None,
        followups: int = 0,
        require_response: bool = True,
    ) -> InteractionResult:
        """Run a slash command as ``user`` and return what the bot answered.

        ``command`` is the command name, optionally followed by subcommand group/subcommand
        (``"lore-admin import"``); alternatively nest subcommands in ``options``
        (``{"import": {"file": att}}``). Option values are Python values: str, int, float,
        bool, FakeMember/FakeUser, FakeChannel, FakeRole, FakeAttachment; a choice may be given
        by value or by name. Raises :class:`InvalidInteraction` for input Discord would not send,
        :class:`CommandUnavailable` when the user could not see the command, :class:`NoResponse`
        if the bot never answers (unless ``require_response=False``).
        """
        path = split_command_path(command)
        actor, ch = self._actor_and_channel(user, channel)
        cmd = self.find_command(path[0], ch.guild)
        if check_permissions:
            check_command_access(cmd, actor, ch)
        resolved = Resolved(actor.permissions if isinstance(actor, FakeMember) else 0)
        data, _ = command_data(cmd, options, path[1:], resolved)
        payload = base_payload(
            application_id=self.application_id,
            itype=2,
            data=data,
            user=actor,
            channel=ch,
            app_permissions=self._app_permissions(ch),
            locale=locale,
        )
        return await self._run(
            payload, actor, ch, timeout=timeout, settle=settle, followups=followups, require_response=require_response
        )

    async def autocomplete(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        focused: str,
        user: FakeMember | FakeUser,
        channel: FakeChannel | None = None,
        locale: str | None = None,
        timeout: float | None = None,
        require_response: bool = True,
    ) -> ChoiceList:
        """Send an autocomplete interaction for option ``focused`` (typed text in ``options``).

        Returns the choices (``.names``, ``.values``; ``.result`` has the full result).
        """
        path = split_command_path(command)
        actor, ch = self._actor_and_channel(user, channel)
        cmd = self.find_command(path[0], ch.guild)
        resolved = Resolved(actor.permissions if isinstance(actor, FakeMember) else 0)
        data, fdef = command_data(cmd, options, path[1:], resolved, focused=focused)
        payload = base_payload(
            application_id=self.application_id,
            itype=4,
            data=data,
            user=actor,
            channel=ch,
            app_permissions=self._app_permissions(ch),
            locale=locale,
        )
        result = await self._run(
            payload,
            actor,
            ch,
            option_type=fdef["type"] if fdef else None,
            timeout=timeout,
            require_response=require_response,
        )
        choices = ChoiceList(result.choices or [])
        choices.result = result
        return choices

    async def context_menu(
        self,
        name: str,
        target: FakeMember | FakeUser | FakeMessage | InteractionResult,
        *,
        user: FakeMember | FakeUser,
        channel: FakeChannel | None = None,
        locale: str | None = None,
        check_permissions: bool = True,
        timeout: float | None = None,
        settle: float | None = None,
        followups: int = 0,
        require_response: bool = True,
    ) -> InteractionResult:
        """Run a user command (target: member/user) or message command (target: a message or result)."""
        actor, ch = self._actor_and_channel(user, channel)
        resolved = Resolved(actor.permissions if isinstance(actor, FakeMember) else 0)
        if isinstance(target, (FakeMember, FakeUser)):
            cmd = self.find_command(name, ch.guild, type=2)
            if isinstance(target, FakeUser) and ch.guild is not None and target.id in ch.guild.members:
                target = ch.guild.members[target.id]
            target_id = resolved.user(target)
        else:
            cmd = self.find_command(name, ch.guild, type=3)
            live, _ = self._live_message(target)
            target_id = str(live.id)
            resolved.data.setdefault("messages", {})[target_id] = live.to_discord()
        if check_permissions:
            check_command_access(cmd, actor, ch)
        data: dict[str, Any] = {
            "id": str(cmd["id"]),
            "name": cmd["name"],
            "type": cmd["type"],
            "target_id": target_id,
            "resolved": resolved.data,
        }
        if cmd.get("guild_id"):
            data["guild_id"] = str(cmd["guild_id"])
        payload = base_payload(
            application_id=self.application_id,
            itype=2,
            data=data,
            user=actor,
            channel=ch,
            app_permissions=self._app_permissions(ch),
            locale=locale,
        )
        return await self._run(
            payload, actor, ch, timeout=timeout, settle=settle, followups=followups, require_response=require_response
        )

    def _live_message(self, target: InteractionResult | FakeMessage | int) -> tuple[FakeMessage, _Record | None]:
        if isinstance(target, InteractionResult):
            msg = target.message or (target.followups[-1] if target.followups else None)
            if msg is None:
                raise InvalidInteraction("that interaction produced no message to interact with")
            mid = msg.id
            rec = self._records_by_id.get(target.interaction_id)
        elif isinstance(target, FakeMessage):
            mid, rec = target.id, None
        else:
            mid, rec = int(target), None
        live = self.messages.get(mid)
        if live is None or live.deleted:
            raise InvalidInteraction(f"message {mid} does not exist (deleted?)")
        if rec is None and live.interaction_id is not None:
            rec = self._records_by_id.get(live.interaction_id)
        return live, rec

    def _component_actor(
        self, live: FakeMessage, rec: _Record | None, user: FakeMember | FakeUser | None
    ) -> tuple[FakeMember | FakeUser, FakeChannel]:
        if user is None:
            if rec is None:
                raise InvalidInteraction("pass user=: cannot tell who should click")
            user = rec.actor
        channel = self._channel_by_id(live.channel_id)
        return self._actor_and_channel(user, channel)

    def _channel_by_id(self, channel_id: int) -> FakeChannel:
        for g in self.guilds.values():
            for ch in g.channels.values():
                if ch.id == channel_id:
                    return ch
        for ch in self.dm_channels.values():
            if ch.id == channel_id:
                return ch
        raise InvalidInteraction(f"unknown channel {channel_id}")

    async def click(
        self,
        target: InteractionResult | FakeMessage | int,
        custom_id: str | None = None,
        *,
        label: str | None = None,
        user: FakeMember | FakeUser | None = None,
        locale: str | None = None,
        timeout: float | None = None,
        settle: float | None = None,
        followups: int = 0,
        require_response: bool = True,
    ) -> InteractionResult:
        """Click a button (by ``custom_id`` or ``label``; either may be omitted if there is one button)
        on the message ``target`` produced. ``user`` defaults to whoever ran the original interaction."""
        live, rec = self._live_message(target)
        button = live.find_button(custom_id, label=label)
        if button.get("style") in (5, 6):
            raise InvalidInteraction("link/premium buttons do not send interactions")
        if button.get("disabled"):
            raise InvalidInteraction(f"button {button.get('custom_id')!r} is disabled")
        return await self._component(
            live, rec, button, None, user, locale, timeout, settle, followups, require_response
        )

    async def select(
        self,
        target: InteractionResult | FakeMessage | int,
        custom_id: str | None = None,
        values: list[Any] | None = None,
        *,
        user: FakeMember | FakeUser | None = None,
        locale: str | None = None,
        timeout: float | None = None,
        settle: float | None = None,
        followups: int = 0,
        require_response: bool = True,
    ) -> InteractionResult:
        """Pick ``values`` in a select menu (string values or labels; members/roles/channels for
        auto-populated selects)."""
        live, rec = self._live_message(target)
        sel = live.find_select(custom_id)
        if sel.get("disabled"):
            raise InvalidInteraction(f"select {sel.get('custom_id')!r} is disabled")
        return await self._component(
            live, rec, sel, list(values or []), user, locale, timeout, settle, followups, require_response
        )

    async def _component(
        self,
        live: FakeMessage,
        rec: _Record | None,
        comp: dict[str, Any],
        values: list[Any] | None,
        user: FakeMember | FakeUser | None,
        locale: str | None,
        timeout: float | None,
        settle: float | None,
        followups: int,
        require_response: bool,
    ) -> InteractionResult:
        actor, ch = self._component_actor(live, rec, user)
        if live.ephemeral and rec is not None and actor.id != rec.actor.id:
            raise InvalidInteraction(f"only {rec.actor.name} can see that ephemeral message, not {actor.name}")
        resolved = Resolved(actor.permissions if isinstance(actor, FakeMember) else 0)
        data = component_data(live, comp, values, resolved)
        payload = base_payload(
            application_id=self.application_id,
            itype=3,
            data=data,
            user=actor,
            channel=ch,
            app_permissions=self._app_permissions(ch),
            locale=locale,
            message=live.to_discord(),
        )
        return await self._run(
            payload,
            actor,
            ch,
            source_message_id=live.id,
            timeout=timeout,
            settle=settle,
            followups=followups,
            require_response=require_response,
        )

    async def submit_modal(
        self,
        target: InteractionResult,
        values: dict[str, Any] | None = None,
        *,
        user: FakeMember | FakeUser | None = None,
        channel: FakeChannel | None = None,
        locale: str | None = None,
        timeout: float | None = None,
        settle: float | None = None,
        followups: int = 0,
        require_response: bool = True,
    ) -> InteractionResult:
        """Fill in and submit the modal ``target`` opened: ``values`` maps input custom_ids to a str
        (text input, radio), a list (selects, checkbox group, file upload) or a bool (checkbox).
        Unfilled text inputs keep their pre-filled value; a missing required one is an error.
        ``user`` and ``channel`` default to where the modal was opened; others forge a submit (a
        client cannot do that, but a bot must not trust that nobody will)."""
        rec0 = self._records_by_id.get(target.interaction_id)
        modal = target.modal
        if modal is None or rec0 is None:
            raise InvalidInteraction("that interaction did not open a modal")
        actor, ch = self._actor_and_channel(user or rec0.actor, channel or rec0.channel)
        resolved = Resolved(actor.permissions if isinstance(actor, FakeMember) else 0)
        comps = modal_components(modal, dict(values or {}), resolved)
        data: dict[str, Any] = {"custom_id": modal.custom_id, "components": comps}
        if resolved.data:
            data["resolved"] = resolved.data
        message = None
        src = rec0.source_message_id
        if src is not None and src in self.messages:
            message = self.messages[src].to_discord()
        payload = base_payload(
            application_id=self.application_id,
            itype=5,
            data=data,
            user=actor,
            channel=ch,
            app_permissions=self._app_permissions(ch),
            locale=locale,
            message=message,
        )
        return await self._run(
            payload,
            actor,
            ch,
            source_message_id=src,
            timeout=timeout,
            settle=settle,
            followups=followups,
            require_response=require_response,
        )

    async def send_interaction(
        self,
        payload: dict[str, Any],
        *,
        actor: FakeMember | FakeUser,
        channel: FakeChannel,
        timeout: float | None = None,
        settle: float | None = None,
        followups: int = 0,
        require_response: bool = True,
    ) -> InteractionResult:
        """Dispatch a hand-made INTERACTION_CREATE payload (see :mod:`fakediscord.interactions`)."""
        return await self._run(
            payload,
            actor,
            channel,
            timeout=timeout,
            settle=settle,
            followups=followups,
            require_response=require_response,
        )

    async def _run(
        self,
        payload: dict[str, Any],
        actor: FakeMember | FakeUser,
        channel: FakeChannel,
        *,
        option_type: int | None = None,
        source_message_id: int | None = None,
        timeout: float | None = None,
        settle: float | None = None,
        followups: int = 0,
        require_response: bool = True,
    ) -> InteractionResult:
        session = self.session_for(channel)
        await self._drain_pending()
        rec = _Record(payload, actor, channel, option_type=option_type, source_message_id=source_message_id)
        self._records[rec.token] = rec
        self._records_by_id[rec.id] = rec
        self._active.add(rec)
        rec.tasks_before = asyncio.all_tasks()
        try:
            await session.dispatch("INTERACTION_CREATE", payload)
            await self._settle(
                rec, self.timeout if timeout is None else timeout, self.settle if settle is None else settle, followups
            )
        finally:
            self._active.discard(rec)
        result = self._result(rec)
        self.results.append(result)
        self.last_result = result
        if require_response and not result.responded:
            detail = "\n".join(rec.errors[-3:]) or "no error was logged"
            rejected = "".join(f"\n  rejected: {r} {r.response}" for r in rec.rejected)
            raise NoResponse(
                f"the bot did not answer interaction {INTERACTION_KIND.get(rec.type, rec.type)} "
                f"within {timeout or self.timeout}s{rejected}\nbot errors:\n{detail}"
            )
        return result

    async def _settle(self, rec: _Record, timeout: float, settle: float, followups: int) -> None:
        deadline = time.monotonic() + timeout
        # Wait for the callback. Meanwhile spot the bot's handler task(s): if they all finish
        # without answering (e.g. the command raised), stop early instead of timing out.
        while not rec.attempted.is_set():
            rec.note_tasks()
            if rec.handler_tasks and all(t.done() for t in rec.handler_tasks):
                await asyncio.sleep(0)
                if not rec.attempted.is_set():
                    return
            if time.monotonic() > deadline:
                rec.timed_out = True
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(rec.attempted.wait(), 0.005)
        # Then wait until the bot is done with it: its handler tasks have finished or are parked
        # waiting for the user (View.wait(), bot.wait_for()), a deferred "thinking" message has
        # been filled in, the requested number of follow-ups arrived, and nothing was sent for
        # `settle` seconds. A handler that keeps running without talking to Discord is given
        # `idle_timeout` seconds; a bot in another event loop (no visible tasks) 0.3 s of quiet.
        while time.monotonic() < deadline:
            rec.note_tasks()
            quiet = time.monotonic() - rec.last_activity
            busy = [t for t in rec.handler_tasks if not t.done() and not self._parked(t)]
            if rec.inflight:
                pass
            elif rec.handler_tasks and not busy:
                if quiet >= settle:
                    break
            else:
                original = self.messages.get(rec.original_id) if rec.original_id is not None else None
                unfilled = rec.callback_type == 5 and original is not None and original.loading
                if len(rec.followup_ids) >= followups and not unfilled:
                    limit = self.idle_timeout if rec.handler_tasks else max(settle, 0.3)
                    if quiet >= limit:
                        break
            await asyncio.sleep(0.005)

    def _touch(self, rec: _Record) -> None:
        rec.touch()
        rec.note_tasks(self._parked)

    def _parked(self, task: asyncio.Task[Any]) -> bool:
        """Is ``task`` suspended waiting for user input (``View.wait()`` / ``Client.wait_for``)?"""
        listeners = getattr(self.bot, "_listeners", None) or {}
        futures = {id(fut) for entries in listeners.values() for fut, _check in entries}
        coro: Any = task.get_coro()
        for _ in range(64):
            if coro is None:
                return False
            code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
            if (
                code is not None
                and code.co_name == "wait"
                and code.co_filename.replace("\\", "/").endswith("discord/ui/view.py")
            ):
                return True
            frame = getattr(coro, "cr_frame", None)
            if frame is not None and id(frame.f_locals.get("fut")) in futures:
                return True
            awaited = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
            if awaited is not None and id(awaited) in futures:
                return True
            coro = awaited
        return False

    def _result(self, rec: _Record) -> InteractionResult:
        msg = self.messages.get(rec.original_id) if rec.original_id is not None else None
        return InteractionResult(
            interaction=rec.payload,
            type=rec.callback_type,
            callback=copy.deepcopy(rec.callback_body),
            message=msg.snapshot() if msg is not None else None,
            followups=[self.messages[i].snapshot() for i in rec.followup_ids],
            edits=copy.deepcopy(rec.edits),
            choices=list(rec.choices) if rec.choices is not None else None,
            modal=copy.deepcopy(rec.modal),
            requests=list(rec.requests),
            violations=list(rec.violations),
            rejected=list(rec.rejected),
            errors=list(rec.errors),
            original_deleted=rec.original_deleted,
            timed_out=rec.timed_out,
        )

    def channel_messages(self, channel: FakeChannel) -> list[FakeMessage]:
        """Live messages in ``channel`` (interaction responses, follow-ups, channel sends), oldest first."""
        return [m for m in self.messages.values() if m.channel_id == channel.id and not m.deleted]

    # ================================================================ HTTP side
    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Awaitable[tuple[int, Any]]], bool]]:
        s = r"(?P<%s>[^/]+)"
        table = [
            ("GET", "/users/@me", self._get_me, True),
            ("GET", "/users/" + s % "user_id", self._get_user, True),
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/applications/" + s % "app" + "/commands", self._get_commands, True),
            ("PUT", "/applications/" + s % "app" + "/commands", self._put_commands, True),
            ("POST", "/applications/" + s % "app" + "/commands", self._post_command, True),
            ("GET", "/applications/" + s % "app" + "/commands/" + s % "cmd", self._get_command, True),
            ("PATCH", "/applications/" + s % "app" + "/commands/" + s % "cmd", self._patch_command, True),
            ("DELETE", "/applications/" + s % "app" + "/commands/" + s % "cmd", self._delete_command, True),
            ("GET", "/applications/" + s % "app" + "/guilds/" + s % "guild" + "/commands", self._get_commands, True),
            ("PUT", "/applications/" + s % "app" + "/guilds/" + s % "guild" + "/commands", self._put_commands, True),
            ("POST", "/applications/" + s % "app" + "/guilds/" + s % "guild" + "/commands", self._post_command, True),
            (
                "GET",
                "/applications/" + s % "app" + "/guilds/" + s % "guild" + "/commands/" + s % "cmd",
                self._get_command,
                True,
            ),
            (
                "PATCH",
                "/applications/" + s % "app" + "/guilds/" + s % "guild" + "/commands/" + s % "cmd",
                self._patch_command,
                True,
            ),
            (
                "DELETE",
                "/applications/" + s % "app" + "/guilds/" + s % "guild" + "/commands/" + s % "cmd",
                self._delete_command,
                True,
            ),
            ("POST", "/interactions/" + s % "iid" + "/" + s % "token" + "/callback", self._callback, False),
            ("POST", "/webhooks/" + s % "app" + "/" + s % "token", self._followup, False),
            (
                "GET",
                "/webhooks/" + s % "app" + "/" + s % "token" + "/messages/" + s % "mid",
                self._get_wh_message,
                False,
            ),
            (
                "PATCH",
                "/webhooks/" + s % "app" + "/" + s % "token" + "/messages/" + s % "mid",
                self._edit_wh_message,
                False,
            ),
            (
                "DELETE",
                "/webhooks/" + s % "app" + "/" + s % "token" + "/messages/" + s % "mid",
                self._delete_wh_message,
                False,
            ),
            ("GET", "/channels/" + s % "cid", self._get_channel, True),
            ("POST", "/channels/" + s % "cid" + "/messages", self._post_channel_message, True),
            ("GET", "/channels/" + s % "cid" + "/messages/" + s % "mid", self._get_channel_message, True),
            ("PATCH", "/channels/" + s % "cid" + "/messages/" + s % "mid", self._edit_channel_message, True),
            ("DELETE", "/channels/" + s % "cid" + "/messages/" + s % "mid", self._delete_channel_message, True),
            ("GET", "/guilds/" + s % "guild", self._get_guild, True),
            ("GET", "/guilds/" + s % "guild" + "/channels", self._get_guild_channels, True),
            ("GET", "/guilds/" + s % "guild" + "/roles", self._get_guild_roles, True),
            ("GET", "/guilds/" + s % "guild" + "/members/" + s % "user_id", self._get_guild_member, True),
        ]
        return [(m, re.compile("^" + p + "$"), h, auth) for m, p, h, auth in table]  # type: ignore[misc]

    def _headers(self, path: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": f"fake{abs(hash(re.sub(r'[0-9]{15,}', '0', path))) % 10**8}",
        }

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[int, FileAttachment]]]:
        ctype = request.content_type
        files: list[tuple[int, FileAttachment]] = []
        if ctype.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                assert isinstance(part, BodyPartReader)  # a form's parts are flat
                name = part.name or ""
                if name == "payload_json":
                    body = json.loads(await part.text())
                    continue
                m = re.fullmatch(r"files\[(\d+)\]", name) or re.fullmatch(r"file(\d*)", name)
                data = await part.read(decode=False)
                if m is None:
                    continue
                index = int(m.group(1) or 0)
                filename = part.filename or f"file{index}"
                fid = snowflake()
                f = FileAttachment(
                    fid,
                    filename,
                    bytes(data),
                    _guess_type(filename),
                    url=self._file_url(fid, filename),
                    spoiler=filename.startswith("SPOILER_"),
                )
                files.append((index, f))
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode("utf-8", errors="replace"), files

    async def _api_handler(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        try:
            body, files = await self._read_body(request)
        except ValueError as exc:
            body, files = None, []
            recorded = RecordedRequest(request.method, path, dict(request.query), None, [], 400, None)
            self.requests.append(recorded)
            self._violation(Violation(_redact(f"{request.method} {path}"), "body.json", f"unparseable body: {exc}"))
            return _json_response({"message": "400: Bad Request", "code": 50109}, 400)
        recorded = RecordedRequest(request.method, path, dict(request.query), body, [f for _, f in files])
        self.requests.append(recorded)
        try:
            status, payload = await self._route(request, path, recorded, body, files)
        except Exception as exc:
            # A bug in the fake must not look like a Discord outage (discord.py retries 5xx with
            # back-off): answer 400 and make it fail the run.
            log.exception("fake discord: internal error on %s %s", request.method, path)
            self._violation(
                Violation(_redact(f"{request.method} {path}"), "fake.internal_error", f"{type(exc).__name__}: {exc}")
            )
            status, payload = _error(400, 0, f"fake discord internal error: {exc!r}")
        recorded.status, recorded.response = status, payload
        headers = self._headers(path)
        if status == 204 or payload is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        return _json_response(payload, status, headers)

    def _violation(self, v: Violation, rec: _Record | None = None) -> None:
        self.violations.append(v)
        if rec is not None:
            rec.violations.append(v)
        log.warning("fake discord violation: %s", v)

    async def _route(
        self,
        request: web.Request,
        path: str,
        recorded: RecordedRequest,
        body: Any,
        files: list[tuple[int, FileAttachment]],
    ) -> tuple[int, Any]:
        for method, regex, handler, auth in self._routes:
            m = regex.match(path)
            if m is None or method != request.method:
                continue
            if auth:
                header = request.headers.get("Authorization", "")
                if not header.startswith("Bot ") or (self.token is not None and header[4:] != self.token):
                    return _error(401, 0, "401: Unauthorized")
            return await handler(_Req(request, recorded, body, files), **m.groupdict())
        recorded.known = False
        self.unknown_requests.append(recorded)
        log.warning("fake discord: unhandled %s %s", request.method, path)
        return _error(404, 0, "404: Not Found")

    async def _unknown_handler(self, request: web.Request) -> web.StreamResponse:
        recorded = RecordedRequest(request.method, request.path, dict(request.query), None, [], 404, None, False)
        self.requests.append(recorded)
        self.unknown_requests.append(recorded)
        return _json_response({"message": "404: Not Found", "code": 0}, 404)

    async def _cdn_handler(self, request: web.Request) -> web.StreamResponse:
        try:
            f = self.files[int(request.match_info["id"])]
        except (KeyError, ValueError):
            return web.Response(status=404, text="Not Found")
        if f.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=f.data, content_type=(f.content_type or "application/octet-stream").split(";")[0])

    # ------------------------------------------------------------ validation
    def _check(self, ctx: _Req, issues: list[validate.Issue], rec: _Record | None = None) -> tuple[int, Any] | None:
        """Record violations (hand-written rules + OpenAPI); return a 400 response if rejecting."""
        req = f"{ctx.recorded.method} {ctx.recorded.path.split('?')[0]}"
        if self._openapi is not None:
            issues = issues + self._openapi.validate(ctx.recorded.method, ctx.recorded.path, ctx.body)
        for i in issues:
            self._violation(Violation(_redact(req), i.rule, i.message, i.where), rec)
        fatal = [i for i in issues if i.rule != "openapi" and not i.rule.startswith(PROJECT_RULES)]
        if fatal and self.reject_invalid:
            return _error(400, 50035, "Invalid Form Body", _form_errors(fatal))
        return None

    # ------------------------------------------------------------ identity
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

    async def _get_me(self, ctx: _Req) -> tuple[int, Any]:
        header = ctx.request.headers.get("Authorization", "")
        if self.token is None:
            self.token = header[4:]
        return 200, self._me()

    async def _get_user(self, ctx: _Req, user_id: str) -> tuple[int, Any]:
        user = self.users.get(int(user_id)) if user_id.isdigit() else None
        if user is None:
            return _error(404, 10013, "Unknown User")
        return 200, user.to_dict()

    async def _get_gateway(self, ctx: _Req) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, ctx: _Req) -> tuple[int, Any]:
        return 200, self.shards.gateway_bot(self.gateway_url, len(self.guilds))

    async def _get_application(self, ctx: _Req) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": APPLICATION_FLAGS,
            "owner": self.owner.to_dict(),
            "team": None,
            "bot": self.bot_user.to_dict(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "hook": True,
            "is_monetized": False,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
        }

    # ------------------------------------------------------------ commands
    def _scope(self, app: str, guild: str | None) -> int | tuple[int, Any] | None:
        if app != str(self.application_id):
            return _error(403, 50001, "Missing Access")
        if guild is None:
            return None
        if not guild.isdigit() or int(guild) not in self.guilds:
            return _error(403, 50001, "Missing Access")
        return int(guild)

    def _store_command(self, scope: int | None, body: dict[str, Any]) -> dict[str, Any]:
        ctype = body.get("type") or 1
        key = (scope, ctype, body.get("name", ""))
        cid = self._command_ids.setdefault(key, snowflake())
        cmd: dict[str, Any] = {
            "id": str(cid),
            "application_id": str(self.application_id),
            "version": str(snowflake()),
            "type": ctype,
            "name": body.get("name"),
            "description": body.get("description") or "",
            "default_member_permissions": (
                None if body.get("default_member_permissions") is None else str(body["default_member_permissions"])
            ),
            "dm_permission": body.get("dm_permission", True),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": bool(body.get("nsfw", False)),
        }
        for key2 in ("name_localizations", "description_localizations"):
            if body.get(key2):
                cmd[key2] = body[key2]
        if body.get("options"):
            cmd["options"] = copy.deepcopy(body["options"])
        if scope is not None:
            cmd["guild_id"] = str(scope)
        return cmd

    async def _get_commands(self, ctx: _Req, app: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        return 200, copy.deepcopy(self.commands.get(scope, []))

    async def _put_commands(self, ctx: _Req, app: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        rejected = self._check(ctx, validate.check_commands(ctx.body))
        if rejected:
            return rejected
        key = "global" if scope is None else scope
        self.sync_counts[key] = self.sync_counts.get(key, 0) + 1
        self.commands[scope] = [self._store_command(scope, c) for c in ctx.body or []]
        return 200, copy.deepcopy(self.commands[scope])

    async def _post_command(self, ctx: _Req, app: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        rejected = self._check(ctx, validate.check_command(ctx.body))
        if rejected:
            return rejected
        cmd = self._store_command(scope, ctx.body)
        cmds = [c for c in self.commands.get(scope, []) if not (c["name"] == cmd["name"] and c["type"] == cmd["type"])]
        created = len(cmds) == len(self.commands.get(scope, []))
        self.commands[scope] = [*cmds, cmd]
        return (201 if created else 200), copy.deepcopy(cmd)

    def _find_command_by_id(self, scope: int | None, cmd: str) -> dict[str, Any] | None:
        return next((c for c in self.commands.get(scope, []) if c["id"] == cmd), None)

    async def _get_command(self, ctx: _Req, app: str, cmd: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        found = self._find_command_by_id(scope, cmd)
        return (200, copy.deepcopy(found)) if found else _error(404, 10063, "Unknown application command")

    async def _patch_command(self, ctx: _Req, app: str, cmd: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        found = self._find_command_by_id(scope, cmd)
        if found is None:
            return _error(404, 10063, "Unknown application command")
        merged = {**found, **(ctx.body or {})}
        rejected = self._check(ctx, validate.check_command(merged))
        if rejected:
            return rejected
        found.update(ctx.body or {})
        return 200, copy.deepcopy(found)

    async def _delete_command(self, ctx: _Req, app: str, cmd: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        before = self.commands.get(scope, [])
        self.commands[scope] = [c for c in before if c["id"] != cmd]
        if len(before) == len(self.commands[scope]):
            return _error(404, 10063, "Unknown application command")
        return 204, None

    # ------------------------------------------------------------ messages
    def _new_message(
        self, rec: _Record | None, channel_id: int, guild_id: int | None, *, message_type: int = 0
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
            _assign_component_ids(msg.components)
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

    def _rec_for(self, app: str, token: str) -> _Record | None:
        rec = self._records.get(token)
        if rec is None or app != str(self.application_id):
            return None
        return rec

    async def _callback(self, ctx: _Req, iid: str, token: str) -> tuple[int, Any]:
        rec = self._records.get(token)
        if rec is None or str(rec.id) != iid:
            return _error(404, 10062, "Unknown interaction")
        rec.requests.append(ctx.recorded)
        rec.inflight += 1
        self._touch(rec)
        try:
            return self._do_callback(ctx, rec)
        finally:
            rec.inflight -= 1
            self._touch(rec)
            rec.attempted.set()

    def _do_callback(self, ctx: _Req, rec: _Record) -> tuple[int, Any]:
        req = f"POST /interactions/{rec.id}/<token>/callback"
        if rec.callback_type is not None:
            rec.rejected.append(ctx.recorded)
            return _error(400, 40060, "Interaction has already been acknowledged.")
        elapsed = time.monotonic() - rec.created
        if self.callback_deadline is not None and elapsed > self.callback_deadline:
            v = Violation(
                req,
                "callback.deadline",
                f"interaction answered after {elapsed:.2f}s; Discord allows {self.callback_deadline}s",
            )
            self._violation(v, rec)
            rec.rejected.append(ctx.recorded)
            return _error(404, 10062, "Unknown interaction")
        body = ctx.body
        issues = validate.check_callback(
            body,
            interaction_type=rec.type,
            files=len(ctx.files),
            option_type=rec.option_type,
            from_component=rec.source_message_id is not None,
            require_no_mentions=self.require_no_mentions,
        )
        issues += validate.check_uploads([len(f.data) for _, f in ctx.files])
        rejected = self._check(ctx, issues, rec)
        if rejected:
            rec.rejected.append(ctx.recorded)
            return rejected
        t = body["type"]
        data = body.get("data") or {}
        guild_id = int(rec.payload["guild_id"]) if "guild_id" in rec.payload else None
        channel_id = rec.channel.id
        msg: FakeMessage | None = None
        if t == 4:
            msg = self._new_message(rec, channel_id, guild_id, message_type=20 if rec.type == 2 else 0)
            self._apply(msg, data, ctx.files, create=True)
            rec.original_id = msg.id
        elif t == 5:
            msg = self._new_message(rec, channel_id, guild_id, message_type=20 if rec.type == 2 else 0)
            msg.flags = (data.get("flags") or 0) & (EPHEMERAL | (1 << 12))
            msg.loading = True
            rec.original_id = msg.id
        elif t in (6, 7):
            if rec.source_message_id is None:
                rec.rejected.append(ctx.recorded)
                return _error(400, 50035, "Invalid Form Body")
            msg = self.messages[rec.source_message_id]
            rec.original_id = msg.id
            if t == 7:
                self._apply(msg, data, ctx.files, create=False)
        elif t == 8:
            rec.choices = [
                Choice(c.get("name"), c.get("value"), c.get("name_localizations")) for c in data.get("choices") or []
            ]
        elif t == 9:
            rec.modal = ModalInfo(
                data.get("custom_id", ""), data.get("title", ""), copy.deepcopy(data.get("components") or [])
            )
            _assign_component_ids(rec.modal.components)
        rec.callback_type = t
        rec.callback_body = copy.deepcopy(body)
        if not _truthy(ctx.request.query.get("with_response")):
            return 204, None
        interaction: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
        resource: dict[str, Any] = {"type": t}
        if msg is not None:
            interaction["response_message_id"] = str(msg.id)
            interaction["response_message_loading"] = msg.loading
            interaction["response_message_ephemeral"] = msg.ephemeral
            if t in (4, 7):
                resource["message"] = msg.to_discord()
        out: dict[str, Any] = {"interaction": interaction}
        if t in (4, 7, 8, 9) or t == 5:
            out["resource"] = resource
        return 200, out

    async def _followup(self, ctx: _Req, app: str, token: str) -> tuple[int, Any]:
        rec = self._rec_for(app, token)
        if rec is None:
            return _error(404, 10015, "Unknown Webhook")
        rec.requests.append(ctx.recorded)
        rec.inflight += 1
        try:
            if rec.callback_type is None or rec.callback_type in (8, 9):
                rec.rejected.append(ctx.recorded)
                return _error(404, 10015, "Unknown Webhook")
            issues = validate.check_message(
                ctx.body, files=len(ctx.files), require_no_mentions=self.require_no_mentions
            )
            issues += validate.check_uploads([len(f.data) for _, f in ctx.files])
            rejected = self._check(ctx, issues, rec)
            if rejected:
                rec.rejected.append(ctx.recorded)
                return rejected
            original = self.messages.get(rec.original_id) if rec.original_id is not None else None
            if rec.callback_type == 5 and original is not None and original.loading:
                # The first follow-up after a deferred "thinking" response replaces it.
                msg = original
                flags = msg.flags
                self._apply(msg, ctx.body, ctx.files, create=True)
                msg.flags = flags | ((ctx.body or {}).get("flags") or 0) & ~EPHEMERAL & MESSAGE_FLAGS_SETTABLE
                msg.loading = False
            else:
                guild_id = int(rec.payload["guild_id"]) if "guild_id" in rec.payload else None
                msg = self._new_message(rec, rec.channel.id, guild_id)
                self._apply(msg, ctx.body, ctx.files, create=True)
            rec.followup_ids.append(msg.id)
            if _truthy(ctx.request.query.get("wait")):
                return 200, msg.to_discord()
            return 204, None
        finally:
            rec.inflight -= 1
            self._touch(rec)

    def _wh_target(self, rec: _Record, mid: str) -> FakeMessage | None:
        if mid == "@original":
            return self.messages.get(rec.original_id) if rec.original_id is not None else None
        if not mid.isdigit():
            return None
        msg = self.messages.get(int(mid))
        if msg is None or (msg.id not in rec.followup_ids and msg.id != rec.original_id):
            return None
        return msg

    async def _get_wh_message(self, ctx: _Req, app: str, token: str, mid: str) -> tuple[int, Any]:
        rec = self._rec_for(app, token)
        if rec is None:
            return _error(404, 10015, "Unknown Webhook")
        rec.requests.append(ctx.recorded)
        msg = self._wh_target(rec, mid)
        if msg is None or msg.deleted:
            return _error(404, 10008, "Unknown Message")
        return 200, msg.to_discord()

    async def _edit_wh_message(self, ctx: _Req, app: str, token: str, mid: str) -> tuple[int, Any]:
        rec = self._rec_for(app, token)
        if rec is None:
            return _error(404, 10015, "Unknown Webhook")
        rec.requests.append(ctx.recorded)
        rec.inflight += 1
        try:
            msg = self._wh_target(rec, mid)
            if msg is None or msg.deleted:
                rec.rejected.append(ctx.recorded)
                return _error(404, 10008, "Unknown Message")
            issues = validate.check_message(
                ctx.body, files=len(ctx.files), create=False, require_no_mentions=self.require_no_mentions
            )
            issues += validate.check_uploads([len(f.data) for _, f in ctx.files])
            rejected = self._check(ctx, issues, rec)
            if rejected:
                rec.rejected.append(ctx.recorded)
                return rejected
            self._apply(msg, ctx.body, ctx.files, create=False)
            if msg.id == rec.original_id:
                rec.edits.append(copy.deepcopy(ctx.body or {}))
            return 200, msg.to_discord()
        finally:
            rec.inflight -= 1
            self._touch(rec)

    async def _delete_wh_message(self, ctx: _Req, app: str, token: str, mid: str) -> tuple[int, Any]:
        rec = self._rec_for(app, token)
        if rec is None:
            return _error(404, 10015, "Unknown Webhook")
        rec.requests.append(ctx.recorded)
        msg = self._wh_target(rec, mid)
        if msg is None or msg.deleted:
            return _error(404, 10008, "Unknown Message")
        msg.deleted = True
        if msg.id == rec.original_id:
            rec.original_deleted = True
        self._touch(rec)
        return 204, None

    def _channel_for(self, cid: str) -> FakeChannel | None:
        try:
            return self._channel_by_id(int(cid))
        except (InvalidInteraction, ValueError):
            return None

    async def _get_channel(self, ctx: _Req, cid: str) -> tuple[int, Any]:
        ch = self._channel_for(cid)
        return (200, ch.to_dict()) if ch else _error(404, 10003, "Unknown Channel")

    async def _post_channel_message(self, ctx: _Req, cid: str) -> tuple[int, Any]:
        ch = self._channel_for(cid)
        if ch is None:
            return _error(404, 10003, "Unknown Channel")
        issues = validate.check_message(ctx.body, files=len(ctx.files), require_no_mentions=self.require_no_mentions)
        issues += validate.check_uploads([len(f.data) for _, f in ctx.files])
        if isinstance(ctx.body, dict) and (ctx.body.get("flags") or 0) & EPHEMERAL:
            issues.append(validate.Issue("message.flags", "flags", "only interaction responses can be ephemeral"))
        rejected = self._check(ctx, issues)
        if rejected:
            return rejected
        msg = self._new_message(None, ch.id, ch.guild.id if ch.guild else None)
        self._apply(msg, ctx.body, ctx.files, create=True)
        data = msg.to_discord()
        session = self.shards.session_for(ch.guild.id if ch.guild else None) or self.session
        if session is not None and (session.intents & INTENT_GUILD_MESSAGES or ch.guild is None):
            self._pending.append(asyncio.get_running_loop().create_task(session.dispatch("MESSAGE_CREATE", data)))
        return 200, data

    def _channel_msg(self, cid: str, mid: str) -> FakeMessage | None:
        msg = self.messages.get(int(mid)) if mid.isdigit() else None
        if msg is None or msg.deleted or str(msg.channel_id) != cid or msg.ephemeral:
            return None
        return msg

    async def _get_channel_message(self, ctx: _Req, cid: str, mid: str) -> tuple[int, Any]:
        msg = self._channel_msg(cid, mid)
        return (200, msg.to_discord()) if msg else _error(404, 10008, "Unknown Message")

    async def _edit_channel_message(self, ctx: _Req, cid: str, mid: str) -> tuple[int, Any]:
        msg = self._channel_msg(cid, mid)
        if msg is None:
            return _error(404, 10008, "Unknown Message")
        issues = validate.check_message(
            ctx.body, files=len(ctx.files), create=False, require_no_mentions=self.require_no_mentions
        )
        issues += validate.check_uploads([len(f.data) for _, f in ctx.files])
        rejected = self._check(ctx, issues)
        if rejected:
            return rejected
        self._apply(msg, ctx.body, ctx.files, create=False)
        return 200, msg.to_discord()

    async def _delete_channel_message(self, ctx: _Req, cid: str, mid: str) -> tuple[int, Any]:
        msg = self._channel_msg(cid, mid)
        if msg is None:
            return _error(404, 10008, "Unknown Message")
        msg.deleted = True
        return 204, None

    def _guild_for(self, gid: str) -> FakeGuild | None:
        return self.guilds.get(int(gid)) if gid.isdigit() else None

    async def _get_guild(self, ctx: _Req, guild: str) -> tuple[int, Any]:
        g = self._guild_for(guild)
        if g is None:
            return _error(404, 10004, "Unknown Guild")
        data = g.to_gateway(include_members=False, bot_user_id=self.bot_user.id)
        for key in ("channels", "members", "threads", "voice_states", "presences", "joined_at", "member_count"):
            data.pop(key, None)
        return 200, data

    async def _get_guild_channels(self, ctx: _Req, guild: str) -> tuple[int, Any]:
        g = self._guild_for(guild)
        return (200, [c.to_dict() for c in g.channels.values()]) if g else _error(404, 10004, "Unknown Guild")

    async def _get_guild_roles(self, ctx: _Req, guild: str) -> tuple[int, Any]:
        g = self._guild_for(guild)
        return (200, [r.to_dict() for r in g.roles.values()]) if g else _error(404, 10004, "Unknown Guild")

    async def _get_guild_member(self, ctx: _Req, guild: str, user_id: str) -> tuple[int, Any]:
        g = self._guild_for(guild)
        if g is None:
            return _error(404, 10004, "Unknown Guild")
        m = g.members.get(int(user_id)) if user_id.isdigit() else None
        return (200, m.to_dict()) if m else _error(404, 10007, "Unknown Member")

    # ================================================================ gateway
    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(ws, request)
        self.connections.append(conn)
        if conn.query.get("encoding", "json") != "json":
            await conn.close(code=4002, message=b"Error while decoding payload.")
            return ws
        await conn.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval, "_trace": ['["fake-gateway",{}]']},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    await conn.close(code=4002, message=b"Error while decoding payload.")
                    break
                conn.received.append(data)
                await self._on_op(conn, data)
        finally:
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
        return ws

    async def _on_op(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        op, d = data.get("op"), data.get("d")
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, d or {})
        elif op == OP_RESUME:
            await self._resume(conn, d or {})
        elif op == OP_REQUEST_MEMBERS:
            await self._request_members(conn, d or {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE):
            return
        else:
            await conn.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        token = d.get("token")
        if conn.session is not None:
            await conn.close(code=4005, message=b"Already authenticated.")
            return
        if not token or (self.token is not None and token != self.token):
            await conn.close(code=4004, message=b"Authentication failed.")
            return
        shard = self.shards.check_identify(d, len(self.guilds))
        if isinstance(shard, IdentifyRefusal):
            await conn.close(code=shard.close_code or 4000, message=shard.message.encode())
            return
        pacing = self.shards.pacing_violation(shard[0])
        if pacing is not None:
            self._violation(pacing)
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        session = GatewaySession(token, d)
        mismatch = self.shards.accept(session, *shard)
        if mismatch is not None:
            self._violation(mismatch)
        self.sessions[session.id] = session
        self.session = session
        session.connection = conn
        conn.session = session
        self.identify_count += 1
        guilds = [g for g in self.guilds.values() if self.shards.owns(session, g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self._me(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": APPLICATION_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "_trace": ['["fake-gateway",{}]'],
        }
        if d.get("shard") is not None:
            ready["shard"] = d["shard"]
        await session.dispatch("READY", ready)
        members = bool(session.intents & INTENT_GUILD_MEMBERS)
        for g in guilds:
            await session.dispatch("GUILD_CREATE", g.to_gateway(include_members=members, bot_user_id=self.bot_user.id))

    async def _resume(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        session = self.sessions.get(d.get("session_id") or "")
        if session is None or session.invalidated or d.get("token") != session.token:
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        old = session.connection
        if old is not None and old is not conn and not old.closed:
            session.connection = None
            await old.close(code=4000)
        last = d.get("seq")
        while True:  # replay until caught up, then attach without yielding in between
            missed = [p for p in session.buffer if last is None or p["s"] > last]
            if not missed:
                break
            for p in missed:
                await conn.send(p)
                last = p["s"]
        session.connection = conn
        conn.session = session
        self.session = session
        self.resume_count += 1
        await session.dispatch("RESUMED", {"_trace": ['["fake-gateway",{}]']})

    async def _request_members(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        session = conn.session
        if session is None:
            return
        guild = self.guilds.get(int(d.get("guild_id") or 0))
        if guild is None:
            return
        members = list(guild.members.values())
        query = d.get("query")
        if d.get("user_ids"):
            ids = {int(u) for u in (d["user_ids"] if isinstance(d["user_ids"], list) else [d["user_ids"]])}
            members = [m for m in members if m.id in ids]
        elif query:
            members = [m for m in members if m.user.name.lower().startswith(query.lower())]
        limit = d.get("limit") or 0
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.to_dict() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        if d.get("presences"):
            chunk["presences"] = []
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)


INTERACTION_KIND = {2: "APPLICATION_COMMAND", 3: "MESSAGE_COMPONENT", 4: "AUTOCOMPLETE", 5: "MODAL_SUBMIT"}


def _assign_component_ids(components: list[dict[str, Any]]) -> None:
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


def _json_response(payload: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only parses bodies whose Content-Type is exactly "application/json" (like Discord
    # sends); aiohttp's json_response would add "; charset=utf-8" and turn them into plain text.
    return web.Response(
        body=json.dumps(payload, separators=(",", ":")).encode("utf-8"),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def _redact(request: str) -> str:
    """Hide interaction tokens in request descriptions."""
    return re.sub(r"(/(?:interactions|webhooks)/\d+/)[^/\s]+", r"\1<token>", request)


def _guess_type(filename: str) -> str | None:
    lower = filename.lower()
    if lower.endswith((".yaml", ".yml")):
        return "application/x-yaml"
    if lower.endswith(".md"):
        return "text/markdown; charset=utf-8"
    ctype, _ = mimetypes.guess_type(filename)
    if ctype and ctype.startswith("text/"):
        return ctype + "; charset=utf-8"
    return ctype
