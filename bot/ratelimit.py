"""The bot's self-protection: a per-user token bucket for every interaction (autocomplete too),
per-server-and-user cooldowns on the heavy commands, and a cap on the length of a query.

Everything here is settable (``Limits.from_settings``) and ``Limits.off()`` switches it all off
(tests, benchmarks, the console). The defaults never refuse ordinary use: a member typing at any
human speed stays far below the bucket's refill, and an admin's edits are bounded by the server's
quotas (``lore.quotas``), not by a rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from discord import app_commands

if TYPE_CHECKING:
    import discord

    from bot.settings import Settings

#: The one autocomplete choice shown to a user over the limit (never an empty list: the Discord
#: client caches that), and its value, refused if it is submitted.
SLOW_DOWN_LABEL = "Slow down… (too many requests; wait a moment)"
SLOW_DOWN = "\u2063slow-down"

T = TypeVar("T")


def parse_cooldown(text: str) -> tuple[int, float] | None:
    """``"6/30"`` -> 6 uses per 30 seconds; ``"off"`` (or ``0``) -> no cooldown."""
    text = text.strip().lower()
    if text in ("off", "0", "none", ""):
        return None
    rate, sep, per = text.partition("/")
    try:
        parsed = int(rate), float(per)
    except ValueError:
        parsed = None
    if not sep or parsed is None or parsed[0] < 1 or parsed[1] <= 0:
        raise ValueError(f"must be USES/SECONDS such as 6/30, or off (got {text!r})")
    return parsed


class RateLimited(app_commands.CommandOnCooldown):
    """A user went over the token bucket: a cooldown of the whole bot, answered by the error path
    with the same "Slow down" sentence (never "try again in 0 s")."""

    def __init__(self, limits: Limits, retry_after: float):
        super().__init__(app_commands.Cooldown(limits.burst, limits.burst / limits.per_second), max(retry_after, 1.0))


class SentinelSubmitted(app_commands.CheckFailure):
    """A placeholder autocomplete choice (such as "Slow down…") was submitted as a value; the error
    path answers with its ``original`` refusal."""

    def __init__(self) -> None:
        from bot.errors import Refused

        super().__init__("a placeholder choice was submitted")
        self.original = Refused("Type a name, or pick one of the suggestions.")


class TokenBucket:
    """One bucket per key: ``capacity`` tokens, refilled at ``rate`` per second; one token per use.

    Idle keys are dropped when the table grows, so its size is bounded by the users active in the
    last few seconds (a full bucket carries no state worth keeping).
    """

    __slots__ = ("_buckets", "capacity", "prune_at", "rate")

    def __init__(self, capacity: int, rate: float, prune_at: int = 10_000):
        self.capacity = float(capacity)
        self.rate = float(rate)
        self.prune_at = prune_at
        self._buckets: dict[Any, tuple[float, float]] = {}

    def take(self, key: Any, now: float | None = None) -> float:
        """Take one token for ``key``: 0.0 if granted, else the seconds until one is available."""
        if now is None:
            now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > self.prune_at:
            self._prune(now)
        return 0.0

    def _prune(self, now: float) -> None:
        full = self.capacity / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}

    def __len__(self) -> int:
        return len(self._buckets)


class Cooldowns:
    """Per-key cooldowns (discord.py's :class:`~discord.app_commands.Cooldown` for the arithmetic).

    discord.py's ``dynamic_cooldown`` scans every key on every call (a millisecond at 10,000 active
    users); this table drops expired keys only when it has grown, so a check costs microseconds.
    """

    __slots__ = ("_buckets", "_prune_at")

    def __init__(self, prune_at: int = 10_000):
        self._buckets: dict[Any, app_commands.Cooldown] = {}
        self._prune_at = prune_at

    def hit(self, key: Any, rate: int, per: float, now: float) -> float | None:
        """Count one use for ``key``; None if allowed, else the seconds to wait."""
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.per != per:
            bucket = self._buckets[key] = app_commands.Cooldown(rate, per)
            if len(self._buckets) > self._prune_at:
                self._buckets = {k: v for k, v in self._buckets.items() if now <= v._last + v.per}
                self._prune_at = max(self._prune_at, 2 * len(self._buckets))
        return bucket.update_rate_limit(now)

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass(slots=True)
class Limits:
    """What the bot refuses, and how soon it serves again. ``enabled=False`` refuses nothing."""

    enabled: bool = True
    burst: int = 30
    per_second: float = 10.0
    cooldowns: dict[str, tuple[int, float] | None] = field(
        default_factory=lambda: {"search": (6, 30.0), "import": (3, 60.0), "export": (3, 60.0), "pictures": (4, 30.0)}
    )
    max_query: int = 100
    bucket: TokenBucket = field(init=False)
    cooling: Cooldowns = field(init=False)

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(self.burst, self.per_second)
        self.cooling = Cooldowns()

    @classmethod
    def off(cls) -> Limits:
        return cls(enabled=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            enabled=settings.limits,
            burst=settings.rate_burst,
            per_second=settings.rate_per_second,
            cooldowns={
                "search": parse_cooldown(settings.cooldown_search),
                "import": parse_cooldown(settings.cooldown_import),
                "export": parse_cooldown(settings.cooldown_export),
                "pictures": parse_cooldown(settings.cooldown_pictures),
            },
            max_query=settings.max_query,
        )

    def cooldown(self, name: str) -> app_commands.Cooldown | None:
        spec = self.cooldowns.get(name) if self.enabled else None
        return app_commands.Cooldown(*spec) if spec else None

    def check_cooldown(self, name: str, guild_id: int | None, user_id: int, now: float) -> None:
        """Raise ``CommandOnCooldown`` when ``user_id`` used ``name`` in ``guild_id`` too often."""
        spec = self.cooldowns.get(name) if self.enabled else None
        if spec is None:
            return
        wait = self.cooling.hit((name, guild_id, user_id), spec[0], spec[1], now)
        if wait is not None:
            raise app_commands.CommandOnCooldown(app_commands.Cooldown(*spec), wait)

    def too_long(self, text: str) -> bool:
        return self.enabled and len(text) > self.max_query

    def too_long_message(self) -> str:
        return f"That is too long to look up (at most {self.max_query} characters); try a shorter name."


def limits_of(interaction: discord.Interaction) -> Limits:
    return getattr(interaction.client, "limits", None) or _NO_LIMITS


_NO_LIMITS = Limits.off()


def heavy(name: str) -> Callable[[T], T]:
    """A cooldown keyed by server and user on a heavy command (``name`` picks its setting); over
    it, the error path answers with the "Slow down" sentence (``CommandOnCooldown``)."""

    def predicate(interaction: discord.Interaction) -> bool:
        limits_of(interaction).check_cooldown(
            name, interaction.guild_id, interaction.user.id, interaction.created_at.timestamp()
        )
        return True

    return app_commands.check(predicate)


def _focused(options: list[dict[str, Any]]) -> dict[str, Any] | None:
    for opt in options:
        if opt.get("focused"):
            return opt
        found = _focused(opt.get("options", ()))
        if found is not None:
            return found
    return None


def _has_sentinel(options: list[dict[str, Any]]) -> bool:
    for opt in options:
        if opt.get("value") == SLOW_DOWN:
            return True
        if "options" in opt and _has_sentinel(opt["options"]):
            return True
    return False


async def check_interaction(interaction: discord.Interaction) -> bool:
    """The tree's ``interaction_check``: every command and autocomplete request takes a token.

    Over the limit, an autocomplete request is answered with the single "Slow down…" choice and
    goes no further; a command raises :class:`RateLimited` (the error path sends the sentence).
    """
    import discord

    data: Any = interaction.data or {}
    is_autocomplete = interaction.type is discord.InteractionType.autocomplete
    if not is_autocomplete and _has_sentinel(data.get("options", ())):
        raise SentinelSubmitted()
    limits = limits_of(interaction)
    if not limits.enabled:
        return True
    wait = limits.bucket.take(interaction.user.id)
    if not wait:
        return True
    metrics = getattr(interaction.client, "metrics", None)
    if metrics is not None:
        metrics.rate_limited("autocomplete" if is_autocomplete else "bucket")
    if is_autocomplete:
        focused = _focused(data.get("options", ())) or {}
        if focused.get("type", 3) == 3:  # a string option (a number option has no neutral value to offer)
            choice = app_commands.Choice(name=SLOW_DOWN_LABEL, value=SLOW_DOWN)
            await interaction.response.autocomplete([choice])
        return False
    raise RateLimited(limits, wait)
