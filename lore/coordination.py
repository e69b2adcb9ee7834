"""What processes sharing one database coordinate through, as an adapter may use it: leases (one
holder at a time, e.g. the process that ticks the spoiler schedules), paced slots (e.g. the
shards' IDENTIFYs) and the notes an adapter keeps there (e.g. the hash of the command tree it
last synced). The store provides all of it; this is the narrow part of it adapters see."""

from __future__ import annotations

from typing import Protocol


class Coordination(Protocol):
    async def try_lease(self, key: str, owner: str, ttl: float) -> bool:
        """Hold the lease ``key`` for ``ttl`` seconds unless another owner holds an unexpired one."""
        ...

    async def release_lease(self, key: str, owner: str) -> None:
        """Give the lease ``key`` up, if ``owner`` holds it."""
        ...

    async def claim_slot(self, key: str, interval: float) -> float:
        """Take the slot ``key`` if it was last taken ``interval`` seconds ago or more; else the
        seconds left to wait."""
        ...

    async def get_meta(self, key: str) -> str | None:
        """The note stored under ``key`` (None: none)."""
        ...

    async def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (one write)."""
        ...
