"""Faults of the environment (the database, its disk, the canon pack), each told as one sentence.

:class:`LoreFault` and its kinds live in :mod:`lore.errors`; this module says what SQLite meant.

A fault is not a refused request (that is :class:`lore.errors.LoreError`): it is something the
operator must fix. Adapters print the message (the CLI, with a non-zero exit status) or show it
(the bot); they never show a traceback for one.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import urlsplit, urlunsplit

from lore.errors import LoreFault as LoreFault


def sqlite_reason(error: sqlite3.Error) -> str:
    """What an SQLite error means, as a clause a person understands (no traceback, no SQL)."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text or "is busy" in text:
        return "the lore database is busy with another process's write"
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return "the disk holding the lore database is full"
    if name.startswith("SQLITE_READONLY") or "readonly database" in text or "read-only" in text:
        return "the lore database is read-only (check the permissions of the file and of its directory)"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return "the lore database is damaged (run `lorebot db check`; restore a backup if it fails)"
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return "the lore database's file or directory cannot be reached"
    if name.startswith("SQLITE_PERM") or "permission" in text:
        return "the lore database may not be accessed (permission denied)"
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return "the lore database could not be read from or written to its disk (is the disk full or failing?)"
    if isinstance(error, OverflowError | sqlite3.InterfaceError):
        return "a value is out of range"
    return f"the lore database reported an error ({error})"


def safe_url(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))
