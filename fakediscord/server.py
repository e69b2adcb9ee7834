"""The fake Discord: an aiohttp server (REST + gateway + attachment CDN) and the test API.

:class:`FakeDiscord` is assembled from one part per concept, each in its own module:
:mod:`~fakediscord.state` (everything the fake holds), :mod:`~fakediscord.world` (building guilds,
members, ...), :mod:`~fakediscord.driver` (the test API: ``slash``, ``click``, ...), the REST routes
(:mod:`~fakediscord.rest` and one ``rest_*`` module per resource) and
:mod:`~fakediscord.gateway_server`. This module starts and stops the server and runs a bot on it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager, suppress
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from . import validate
from .driver import Driver
from .errors import FakeDiscordError, NoResponse, ViolationsError
from .gateway_server import GatewayServer
from .models import FakeAttachment
from .patch import patch_discord
from .records import HANDLER_TASK_PREFIXES
from .rest import Route
from .rest_app import AppRoutes
from .rest_channels import ChannelRoutes
from .rest_commands import CommandRoutes
from .rest_webhooks import WebhookRoutes
from .result import ChoiceList
from .state import API_PREFIX

__all__ = ["ChoiceList", "FakeDiscord", "FakeDiscordError", "NoResponse", "ViolationsError"]

log = logging.getLogger("fakediscord")


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


class FakeDiscord(Driver, AppRoutes, CommandRoutes, WebhookRoutes, ChannelRoutes, GatewayServer):
    """A local fake of Discord's REST API and gateway, driven from tests or a console.

    See the package docstring (``help(fakediscord)``) for a walkthrough.
    """

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
        self._routes = tuple(self._build_routes())
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

    def _build_routes(self) -> list[Route]:
        table = [*self._app_routes(), *self._command_routes(), *self._webhook_routes(), *self._channel_routes()]
        return [(m, re.compile("^" + p + "$"), h, auth) for m, p, h, auth in table]
