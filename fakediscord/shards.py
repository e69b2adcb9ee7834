"""Sharding in the fake gateway: which session owns a guild, and Discord's IDENTIFY rules.

Like Discord: ``GET /gateway/bot`` recommends a shard count (one per 1,000 guilds unless the test
says otherwise) and a ``session_start_limit`` with ``max_concurrency``; an IDENTIFY carries
``shard: [id, count]``; a shard's READY and GUILD_CREATEs hold only the guilds with
``(guild_id >> 22) % count == id``; events about a guild (interactions included) go to its shard's
connection, and DMs to shard 0. IDENTIFYs are rate-limited per bucket ``id % max_concurrency``:
one every ``identify_interval`` seconds (5 s on Discord). A faster one is a violation (the test
fails) and is answered with INVALID_SESSION, as Discord does. Without ``shard`` a bot in more than
``sharding_required`` guilds is closed with 4011, a shard id outside the count with 4010.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .gateway import GatewaySession
from .result import Violation

SHARDING_REQUIRED = 2500
DAILY_IDENTIFY_LIMIT = 1000


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


@dataclass
class IdentifyRefusal:
    close_code: int | None  # close the socket with this code; None: answer INVALID_SESSION
    message: str


@dataclass
class ShardRouter:
    """The fake's view of the bot's shards (sessions by shard id) and its identify budget."""

    shards: int | None = None  # the recommended count; None: ceil(guilds / 1000), at least 1
    max_concurrency: int = 1
    identify_interval: float = 5.0
    sharding_required: int = SHARDING_REQUIRED
    by_shard: dict[int, GatewaySession] = field(default_factory=dict)
    shard_count: int = 1  # the count the bot identified with (1 while unsharded)
    identifies: list[tuple[float, int, int]] = field(default_factory=list)  # (monotonic time, shard id, count)
    remaining: int = DAILY_IDENTIFY_LIMIT

    def recommended(self, guild_count: int) -> int:
        if self.shards is not None:
            return self.shards
        return max(1, math.ceil(guild_count / 1000))

    def gateway_bot(self, url: str, guild_count: int) -> dict[str, Any]:
        return {
            "url": url,
            "shards": self.recommended(guild_count),
            "session_start_limit": {
                "total": DAILY_IDENTIFY_LIMIT,
                "remaining": self.remaining,
                "reset_after": 14_400_000,
                "max_concurrency": self.max_concurrency,
            },
        }

    def check_identify(self, d: dict[str, Any], guild_count: int) -> tuple[int, int] | IdentifyRefusal:
        """(shard id, count) of a valid IDENTIFY, or how Discord refuses it."""
        shard = d.get("shard")
        if shard is None:
            if guild_count > self.sharding_required:
                return IdentifyRefusal(4011, "Sharding required.")
            sid, count = 0, 1
        else:
            if not (isinstance(shard, list | tuple) and len(shard) == 2 and all(isinstance(x, int) for x in shard)):
                return IdentifyRefusal(4010, "Invalid shard.")
            sid, count = int(shard[0]), int(shard[1])
            if count < 1 or not 0 <= sid < count:
                return IdentifyRefusal(4010, "Invalid shard.")
            if guild_count / count > self.sharding_required:
                return IdentifyRefusal(4011, "Sharding required.")
        if self.remaining <= 0:
            return IdentifyRefusal(4004, "Authentication failed.")  # Discord resets the token at the limit
        return sid, count

    def pacing_violation(self, sid: int, now: float | None = None) -> Violation | None:
        """Record an IDENTIFY of shard ``sid``; a violation if its bucket identified too recently."""
        now = time.monotonic() if now is None else now
        bucket = sid % self.max_concurrency
        for t, other, _ in reversed(self.identifies):
            if other % self.max_concurrency == bucket:
                if now - t < self.identify_interval:
                    return Violation(
                        "gateway IDENTIFY",
                        "identify.pacing",
                        f"shard {sid} identified {now - t:.2f} s after shard {other} in rate-limit bucket {bucket} "
                        f"(max_concurrency {self.max_concurrency}: one IDENTIFY per bucket every "
                        f"{self.identify_interval:g} s)",
                    )
                break
        return None

    def accept(self, session: GatewaySession, sid: int, count: int, now: float | None = None) -> Violation | None:
        """Register a new session for shard ``sid``; a violation if the counts of live shards differ."""
        now = time.monotonic() if now is None else now
        self.identifies.append((now, sid, count))
        self.remaining -= 1
        session.shard_id, session.shard_count = sid, count
        self.by_shard[sid] = session
        mismatch = None
        if count != self.shard_count and any(
            s is not session and s.connection is not None and not s.connection.closed for s in self.by_shard.values()
        ):
            mismatch = Violation(
                "gateway IDENTIFY",
                "identify.shard_count",
                f"shard {sid} identified with {count} shard(s) while others run with {self.shard_count}",
            )
        self.shard_count = count
        return mismatch

    def owns(self, session: GatewaySession, guild_id: int | None) -> bool:
        if guild_id is None:
            return session.shard_id == 0
        return shard_of(guild_id, session.shard_count) == session.shard_id

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The session that receives events about ``guild_id`` (shard 0 for DMs)."""
        sid = 0 if guild_id is None else shard_of(guild_id, self.shard_count)
        return self.by_shard.get(sid)

    @staticmethod
    def held_by(bot: Any, guild_ids: Iterable[int]) -> list[int]:
        """The guilds a client should hold: all of them, or those of its ``shard_ids`` of ``shard_count``."""
        ids, count = getattr(bot, "shard_ids", None), getattr(bot, "shard_count", None)
        if ids is None or not count:
            return list(guild_ids)
        return [g for g in guild_ids if shard_of(g, count) in ids]

    def sessions(self) -> list[GatewaySession]:
        return [self.by_shard[s] for s in sorted(self.by_shard)]
