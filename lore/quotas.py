"""Per-server quotas: how many entries a server's own lore may hold, how many revisions it keeps,
and how many bytes of packs it may import per day (UTC).

The check runs inside the write's own transaction, after the write and before the commit, and
counts what is really stored: two admins writing at once cannot both squeeze under the limit, and
a refusal rolls everything back (nothing is written). A write that does not add to a count is never
refused by it, so a server over a lowered quota can still edit and remove. The entry quota counts
the entries a server added, not its edits of canon entries (patches, see :mod:`lore.patches`). The canon (written by
the operator) has no quota. ``Quotas.off()`` (``LOREBOT_LIMITS=off``) refuses nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lore.errors import LoreError
from lore.patches import PATCH_PREFIX

if TYPE_CHECKING:
    from lore.store import Tx

MIB = 1024 * 1024


class QuotaExceeded(LoreError):
    """A write refused by a quota; nothing was written. The message is safe to show."""


def _day(now: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(now))


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MB" if n >= MIB else f"{n / 1024:.0f} KB"


@dataclass(frozen=True, slots=True)
class Quotas:
    entries: int | None = 5000
    revisions: int | None = 100_000
    import_bytes_per_day: int | None = 8 * MIB

    @classmethod
    def off(cls) -> Quotas:
        return cls(None, None, None)

    @property
    def enabled(self) -> bool:
        return any(v is not None for v in (self.entries, self.revisions, self.import_bytes_per_day))

    def guard(self, scope: str, *, import_bytes: int = 0, now: float | None = None) -> QuotaGuard | None:
        """The in-transaction check for a write to ``scope`` (None: nothing to check)."""
        if scope == "canon" or not self.enabled:
            return None
        return QuotaGuard(self, scope, import_bytes, time.time() if now is None else now)


class QuotaGuard:
    """Runs inside one write transaction: ``begin`` before the write, ``end`` before the commit
    (raising :class:`QuotaExceeded` there rolls the whole write back).

    Counting a server's live entries reads their rows; counting its rows (removals included) and
    its revisions reads only an index. So the live count is made only when the rows could pass
    the limit: in ordinary use a write costs two index counts."""

    def __init__(self, quotas: Quotas, scope: str, import_bytes: int, now: float):
        self.quotas, self.scope, self.import_bytes, self.now = quotas, scope, import_bytes, now
        self._rows = self._revisions = 0
        self._live: int | None = None

    async def begin(self, db: Tx, changes: int = 0) -> None:
        """Before the write of ``changes`` entries: what the scope holds now."""
        self._rows, self._revisions = await _index_counts(db, self.scope)
        limit = self.quotas.entries
        if limit is not None and self._rows + changes > limit:
            self._live = await _live_entries(db, self.scope)

    async def end(self, db: Tx) -> None:
        q = self.quotas
        rows, revisions = await _index_counts(db, self.scope)
        if q.entries is not None and rows > q.entries:  # live entries are at most the rows
            live = await _live_entries(db, self.scope)
            if live > q.entries and live > (self._live if self._live is not None else live):
                raise QuotaExceeded(
                    f"This server's lore is at its limit of {q.entries:,} entries, so nothing was changed. "
                    "Remove entries it no longer needs, or ask the bot's operator to raise the limit."
                )
        if q.revisions is not None and revisions > q.revisions and revisions > self._revisions:
            raise QuotaExceeded(
                f"This server keeps at most {q.revisions:,} revisions of its lore and has reached that, "
                "so nothing was changed. Ask the bot's operator to raise the limit."
            )
        if self.import_bytes:
            await self._record_import(db)

    async def _record_import(self, db: Tx) -> None:
        key = f"import_bytes:{self.scope}:{_day(self.now)}"
        row = await db.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        used = int(row[0]) if row else 0
        limit, size = self.quotas.import_bytes_per_day, self.import_bytes
        if limit is not None and used + size > limit:
            left = max(limit - used, 0)
            raise QuotaExceeded(
                f"This server may import {_size(limit)} of lore packs per day (UTC) and has {_size(left)} left "
                f"today; this pack is {_size(size)}, so nothing was imported. Try again tomorrow."
            )
        await db.execute("DELETE FROM meta WHERE key LIKE ? AND key != ?", (f"import_bytes:{self.scope}:%", key))
        await db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, str(used + size)),
        )


async def _index_counts(db: Tx, scope: str) -> tuple[int, int]:
    """(rows, revisions) of ``scope`` from the primary-key indexes, in one round trip."""
    row = await db.fetchone(
        "SELECT (SELECT COUNT(*) FROM entries WHERE scope = ?), (SELECT COUNT(*) FROM revisions WHERE scope = ?)",
        (scope, scope),
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def _live_entries(db: Tx, scope: str) -> int:
    """The entries the server's lore adds: its own ones, not its patches of canon entries (an edit
    adds no entry; counting it would also make the count depend on what the canon holds)."""
    row = await db.fetchone(
        "SELECT COUNT(*) FROM entries WHERE scope = ? AND doc IS NOT NULL AND doc NOT LIKE ?",
        (scope, PATCH_PREFIX + "%"),
    )
    return int(row[0]) if row else 0
