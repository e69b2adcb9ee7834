"""Prometheus metrics (the optional extra ``lorebot[metrics]``), served on 127.0.0.1 by default.

``Metrics`` counts what the bot does: interactions by command and outcome, latency per command and
for autocomplete, errors by kind, requests refused by the rate limits, database write latency; and,
refreshed every few seconds on the event loop, the gateway latency, guilds, shards ready and lore
entries per scope. Without ``prometheus-client`` installed (or without ``LOREBOT_METRICS_PORT``)
the bot uses :class:`NullMetrics`, which records nothing and costs nothing.

The endpoint is for the operator: it is bound to loopback unless ``LOREBOT_METRICS_HOST`` says
otherwise, and it holds no lore text (scope labels are ``canon`` or ``guild:<id>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.app import LoreBot

log = logging.getLogger("lorebot.metrics")

#: Interaction latency buckets, in seconds (Discord allows 3 s before an answer or a deferral).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class NullMetrics:
    """Records nothing (metrics off, or ``prometheus-client`` not installed)."""

    enabled = False
    port: int | None = None

    def interaction(self, command: str, outcome: str, seconds: float) -> None:
        pass

    def autocomplete(self, command: str, seconds: float) -> None:
        pass

    def error(self, kind: str) -> None:
        pass

    def rate_limited(self, limit: str) -> None:
        pass

    def db_write(self, seconds: float) -> None:
        pass

    def refresh(self) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class Metrics(NullMetrics):
    enabled = True

    def __init__(self, bot: LoreBot, *, host: str = "127.0.0.1", port: int = 9108, refresh_every: float = 5.0):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.bot = bot
        self.host = host
        self.port = port
        self.refresh_every = refresh_every
        self.registry = CollectorRegistry()
        r = self.registry
        self._interactions = Counter(
            "lorebot_interactions",
            "Slash commands answered, by command and outcome",
            ["command", "outcome"],
            registry=r,
        )
        self._latency = Histogram(
            "lorebot_command_latency_seconds",
            "Time from receiving a command to finishing it",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._autocomplete = Histogram(
            "lorebot_autocomplete_latency_seconds",
            "Time to answer an autocomplete request",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._errors = Counter("lorebot_errors", "Errors answered or logged, by kind", ["kind"], registry=r)
        self._limited = Counter(
            "lorebot_rate_limited_requests", "Requests refused by a rate limit or a cooldown", ["limit"], registry=r
        )
        self._db_write = Histogram(
            "lorebot_db_write_seconds", "Duration of one database write transaction", buckets=DB_BUCKETS, registry=r
        )
        self._gateway = Gauge("lorebot_gateway_latency_seconds", "Gateway heartbeat latency", registry=r)
        self._guilds = Gauge("lorebot_guilds", "Servers the bot is in", registry=r)
        self._shards = Gauge("lorebot_shards", "Shards of the bot", registry=r)
        self._shards_ready = Gauge("lorebot_shards_ready", "Shards connected and ready", registry=r)
        self._entries = Gauge("lorebot_lore_entries", "Lore entries stored, per scope", ["scope"], registry=r)
        self._server: Any = None
        self._thread: Any = None
        self._task: asyncio.Task[None] | None = None

    # -- recording (called on the event loop) --------------------------------------------------
    def interaction(self, command: str, outcome: str, seconds: float) -> None:
        self._interactions.labels(command, outcome).inc()
        self._latency.labels(command).observe(seconds)

    def autocomplete(self, command: str, seconds: float) -> None:
        self._autocomplete.labels(command).observe(seconds)

    def error(self, kind: str) -> None:
        self._errors.labels(kind).inc()

    def rate_limited(self, limit: str) -> None:
        self._limited.labels(limit).inc()

    def db_write(self, seconds: float) -> None:
        self._db_write.observe(seconds)

    def refresh(self) -> None:
        """Gauges read from the bot (on the event loop, so nothing is read while it changes)."""
        bot = self.bot
        latency = bot.latency
        self._gateway.set(latency if math.isfinite(latency) else float("nan"))
        self._guilds.set(len(bot.guilds))
        heartbeat = getattr(bot, "heartbeat", None)
        ready = heartbeat.ready if heartbeat is not None else {0: bot.is_ready()}
        self._shards.set(bot.shard_count or max(len(ready), 1))
        self._shards_ready.set(sum(1 for r in ready.values() if r))
        counts = bot.lore.scope_counts()
        self._entries.clear()
        for scope, n in counts.items():
            self._entries.labels(scope).set(n)

    def scrape(self) -> str:
        """The exposition text (what the endpoint serves)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry).decode()

    # -- serving -------------------------------------------------------------------------------
    async def start(self) -> None:
        from prometheus_client import start_http_server

        self._server, self._thread = start_http_server(self.port or 0, addr=self.host, registry=self.registry)
        self.port = self._server.server_port  # the real one when 0 asked for any free port
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)
        self._task = asyncio.get_running_loop().create_task(self._refresh_loop(), name="lorebot-metrics")

    async def _refresh_loop(self) -> None:
        while True:
            try:
                self.refresh()
            except Exception:  # a gauge must never take the bot down
                log.exception("refreshing the metrics failed")
            await asyncio.sleep(self.refresh_every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._server is not None:
            server, self._server = self._server, None
            await asyncio.to_thread(server.shutdown)
            server.server_close()


def make_metrics(bot: LoreBot, port: int | None, host: str = "127.0.0.1") -> NullMetrics:
    """Metrics when a port is set and ``prometheus-client`` is installed; else the null recorder."""
    if port is None:
        return NullMetrics()
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        log.warning(
            "LOREBOT_METRICS_PORT is set but prometheus-client is not installed: pip install 'lorebot[metrics]'"
        )
        return NullMetrics()
    return Metrics(bot, host=host, port=port)


def outcome_of(error: BaseException | None) -> str:
    """How an interaction ended, for the ``outcome`` label: ok, rate_limited, refused (a check, a
    permission, a submitted placeholder), invalid (input the lore refused), or error (a bug)."""
    if error is None:
        return "ok"
    from discord import app_commands

    from bot.errors import Refused
    from bot.ratelimit import RateLimited
    from lore import LoreError, PackError

    original = getattr(error, "original", error)
    if isinstance(error, app_commands.CommandOnCooldown | RateLimited):
        return "rate_limited"
    if isinstance(error, app_commands.CheckFailure) or isinstance(original, Refused):
        return "refused"
    if isinstance(original, LoreError | PackError) or isinstance(error, app_commands.TransformerError):
        return "invalid"
    return "error"


def error_kind(error: BaseException) -> str:
    """The ``kind`` label of an error: the class name of what was raised (a small, fixed set)."""
    return type(getattr(error, "original", error)).__name__


def observe_interaction(interaction: discord.Interaction, error: BaseException | None, seconds: float) -> None:
    """Count and time one command (by outcome) or autocomplete request (the tree calls this)."""
    metrics = getattr(interaction.client, "metrics", None)
    if metrics is None or not metrics.enabled:
        return
    command = interaction.command.qualified_name if interaction.command else "?"
    if interaction.type is discord.InteractionType.autocomplete:
        metrics.autocomplete(command, seconds)
    else:
        metrics.interaction(command, interaction.extras.get("outcome") or outcome_of(error), seconds)


def observe_error(interaction: discord.Interaction, error: BaseException, *, cooldown: bool = True) -> None:
    """Count an error by kind (and a cooldown as a rate-limited request); remember the outcome."""
    interaction.extras["outcome"] = outcome_of(error)
    metrics = getattr(interaction.client, "metrics", None)
    if metrics is None:
        return
    metrics.error(error_kind(error))
    from discord import app_commands

    if cooldown and isinstance(error, app_commands.CommandOnCooldown):
        metrics.rate_limited("cooldown")
