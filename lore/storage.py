"""Where the lore lives: ``LOREBOT_DB`` names an SQLite file or a PostgreSQL database.

A path (``./lorebot.sqlite3``, ``/var/lib/lorebot/lore.db``) or an ``sqlite:///`` URL in SQLAlchemy's
form (``sqlite:///lore.db`` is relative, ``sqlite:////var/lib/lorebot/lore.db`` absolute) opens the
embedded SQLite store (:class:`lore.sqlitestore.SqliteStore`, the default). ``postgresql://user:pw@host/db``
(or ``postgres://``) opens the PostgreSQL store (:class:`lore.pgstore.PgStore`), which a cluster
of bot processes on several hosts can share. Both give the same store interface
(:class:`lore.store.Store`): the service never knows which one it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lore.faults import safe_url as safe_url  # re-exported: a URL as messages show it

if TYPE_CHECKING:
    from lore.store import CheckReport, Store

SQLITE, POSTGRESQL = "sqlite", "postgresql"


@dataclass(frozen=True, slots=True)
class Target:
    backend: str  # SQLITE or POSTGRESQL
    location: str  # the SQLite path, or the PostgreSQL URL

    def __str__(self) -> str:
        if self.backend == POSTGRESQL:
            return safe_url(self.location)
        return self.location


def parse_target(target: str | Path) -> Target:
    """Which backend ``target`` names, and where."""
    if isinstance(target, Path):
        return Target(SQLITE, str(target))
    text = target.strip()
    lower = text.lower()
    if lower.startswith(("postgresql://", "postgres://")):
        return Target(POSTGRESQL, text)
    if lower.startswith("sqlite:"):
        rest = text[len("sqlite:") :]
        rest = rest[3:] if rest.startswith("///") else rest[2:] if rest.startswith("//") else rest
        return Target(SQLITE, rest or ":memory:")
    return Target(SQLITE, text)


async def check_target(target: str | Path) -> CheckReport:
    """``lorebot db check`` for either backend: integrity and schema version, changing nothing."""
    t = parse_target(target)
    if t.backend == POSTGRESQL:
        from lore.pgstore import check_postgres

        return await check_postgres(t.location)
    from lore.sqlitestore import check_database

    return await check_database(t.location)


async def open_store(target: str | Path, *, check_aside: bool = False) -> Store:
    """Open (creating and migrating as needed) the store ``target`` names. ``check_aside``: an
    SQLite database needing no migration is checked for damage while the caller reads on (see
    :meth:`lore.sqlitestore.SqliteStore.open`); the first full load waits for the verdict."""
    t = parse_target(target)
    if t.backend == POSTGRESQL:
        from lore.pgstore import PgStore

        return await PgStore.open(t.location)
    from lore.sqlitestore import SqliteStore

    return await SqliteStore.open(t.location, check_aside=check_aside)
