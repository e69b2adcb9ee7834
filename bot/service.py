"""What ``lorebot run`` adds around the bot to run it as a service: the heartbeat, the metrics
endpoint, the database lock that keeps a restore away, and the options for all three."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.health import Heartbeat
from bot.metrics import NullMetrics, make_metrics
from lore import DatabaseLock

if TYPE_CHECKING:
    from bot.app import LoreBot
    from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    heartbeat_file: Path | None = None
    heartbeat_interval: float = 10.0
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceOptions:
        return cls(
            heartbeat_file=settings.heartbeat_path,
            heartbeat_interval=settings.heartbeat_interval,
            metrics_port=settings.metrics_port,
            metrics_host=settings.metrics_host,
        )


def database_lock(db_path: str | Path) -> DatabaseLock | None:
    """The lock a bot holds (shared) on an SQLite database file, so that a restore waits for it."""
    from lore import SQLITE, parse_target

    target = parse_target(str(db_path))
    if target.backend == SQLITE and target.location != ":memory:" and not target.location.startswith("file:"):
        return DatabaseLock(target.location)
    return None


class ServiceParts:
    """The heartbeat and metrics of one bot, started after the store opens."""

    def __init__(self, bot: LoreBot, options: ServiceOptions):
        self.options = options
        self.metrics: NullMetrics = make_metrics(bot, options.metrics_port, options.metrics_host)
        self.heartbeat = (
            Heartbeat(bot, options.heartbeat_file, options.heartbeat_interval) if options.heartbeat_file else None
        )

    async def start(self) -> None:
        await self.metrics.start()
        if self.heartbeat is not None:
            self.heartbeat.start()

    async def stop(self) -> None:
        if self.heartbeat is not None:
            await self.heartbeat.stop()
        await self.metrics.stop()
