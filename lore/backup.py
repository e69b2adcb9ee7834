"""Backup and restore of the SQLite lore database, and the lock that keeps a restore away from a
running bot.

``backup`` uses SQLite's online backup API: the copy is one consistent snapshot even while a bot
writes (a write that commits during the copy is either wholly in it or wholly not), and it holds
everything (every scope, revisions, settings, channel overrides, progress, meta). The copy is
checked and only then moved to its final name, so a failed backup never leaves a half file there.

``restore`` is all or nothing: it refuses while any process holds the database (a running bot or
a CLI write holds :class:`DatabaseLock`), checks the backup's integrity and that it is a lorebot
database this version can open, keeps the current database as ``<db>.before-restore``, then swaps
the checked copy in with one rename.

For a PostgreSQL backend (not built yet) the same commands would call ``pg_dump``/``pg_restore``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from lore.errors import StoreError
from lore.schema import SCHEMA_VERSION

log = logging.getLogger(__name__)

REQUIRED_TABLES = {"meta", "entries", "revisions", "guild_settings", "channel_settings", "user_progress"}


class BackupError(StoreError):
    """A backup or restore that did not happen; nothing was changed. The message says why."""


@dataclass(frozen=True, slots=True)
class DatabaseSummary:
    schema: int
    entries: int
    scopes: int
    revisions: int
    size: int

    def describe(self) -> str:
        return (
            f"schema {self.schema}, {self.entries} entries in {self.scopes} scope(s), "
            f"{self.revisions} revisions, {self.size / 1024:.0f} KB"
        )


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}-lock")


class DatabaseLock:
    """An advisory ``flock`` on ``<db>-lock``: shared for processes using the database (the bot, a
    CLI import), exclusive for a restore. The kernel drops it when its process ends, so a crashed
    bot never leaves it behind."""

    def __init__(self, db_path: str | Path):
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire_shared(self, timeout: float = 30.0) -> None:
        """Wait (up to ``timeout``) while a restore holds the database. Where the lock file cannot
        be made (a read-only file or directory) no restore can replace the database either, so
        nothing is held, and opening the database says what is wrong with it."""
        try:
            fd = self._open()
        except OSError as e:
            log.debug("no lock file %s: %s", self.path, e)
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise StoreError(f"the lore database {self.path.name[:-5]} is being restored; try again") from None
                time.sleep(0.1)
        self._fd = fd

    def try_exclusive(self) -> bool:
        try:
            fd = self._open()
        except OSError as e:
            raise StoreError(f"cannot lock the lore database for a restore: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode={'ro' if readonly else 'rw'}"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def _check(conn: sqlite3.Connection, what: str) -> DatabaseSummary:
    """Integrity and shape of a lorebot database; raises :class:`BackupError` with the reason."""
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"{what} is damaged ({'; '.join(problems[:3])})")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = sorted(REQUIRED_TABLES - tables)
        if missing:
            raise BackupError(f"{what} is not a lorebot database (tables missing: {', '.join(missing)})")
        schema = conn.execute("PRAGMA user_version").fetchone()[0]
        if schema > SCHEMA_VERSION:
            raise BackupError(f"{what} has schema version {schema}, newer than this lorebot ({SCHEMA_VERSION})")
        entries = conn.execute("SELECT COUNT(*) FROM entries WHERE doc IS NOT NULL").fetchone()[0]
        scopes = conn.execute("SELECT COUNT(DISTINCT scope) FROM entries").fetchone()[0]
        revisions = conn.execute("SELECT COUNT(*) FROM revisions").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{what} is not a usable SQLite database ({e})") from None
    return DatabaseSummary(schema, entries, scopes, revisions, pages)


def _copy(src: sqlite3.Connection, dest: Path) -> None:
    """Copy ``src`` into a new file ``dest`` in one step of the backup API (one consistent read)."""
    out = sqlite3.connect(dest, isolation_level=None)
    try:
        src.backup(out)
        out.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file, no -wal beside it
    finally:
        out.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def backup(db_path: str | Path, dest: str | Path) -> tuple[Path, DatabaseSummary]:
    """Write a consistent copy of the database at ``db_path`` to ``dest`` (a file, or a directory
    to put a time-stamped file in); returns the file written and what it holds."""
    db_path, dest = Path(db_path), Path(dest)
    if not db_path.is_file():
        raise BackupError(f"there is no lore database at {db_path}")
    if dest.is_dir():
        dest = dest / time.strftime("lorebot-%Y%m%d-%H%M%S.sqlite3", time.gmtime())
    if dest.resolve() == db_path.resolve():
        raise BackupError("the backup must go to another file than the database itself")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        src = _connect(db_path)
    except sqlite3.Error as e:
        raise BackupError(f"cannot open the lore database at {db_path}: {e}") from None
    try:
        try:
            _copy(src, tmp)
        except sqlite3.Error as e:
            raise BackupError(f"the backup failed: {e}") from None
        except OSError as e:
            raise BackupError(f"cannot write {tmp.parent}: {e.strerror or e}") from None
        check = _connect(tmp, readonly=True)
        try:
            summary = _check(check, "the copy")
        finally:
            check.close()
        _fsync(tmp)
        os.replace(tmp, dest)
    finally:
        src.close()
        _unlink_quietly(tmp, Path(f"{tmp}-journal"))
    return dest, summary


def restore(source: str | Path, db_path: str | Path) -> tuple[DatabaseSummary, Path | None]:
    """Replace the database at ``db_path`` with the backup ``source``: all or nothing.

    Returns what the restored database holds and where the previous one was kept (None if there
    was none)."""
    source, db_path = Path(source), Path(db_path)
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    if db_path.exists() and source.resolve() == db_path.resolve():
        raise BackupError("the backup and the database are the same file")
    try:
        src = _connect(source, readonly=True)
    except sqlite3.Error as e:
        raise BackupError(f"cannot open the backup {source}: {e}") from None
    try:
        summary = _check(src, f"the backup {source}")
        lock = DatabaseLock(db_path)
        if not lock.try_exclusive():
            raise BackupError(
                f"a lorebot process is using {db_path}; stop the bot (and any lorebot import) first, then restore"
            )
        try:
            return summary, _swap_in(src, db_path)
        finally:
            lock.release()
    finally:
        src.close()


def _swap_in(src: sqlite3.Connection, db_path: Path) -> Path | None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.restoring")
    kept: Path | None = None
    try:
        _copy(src, tmp)
        check = _connect(tmp, readonly=True)
        try:
            _check(check, "the restored copy")
        finally:
            check.close()
        check = sqlite3.connect(tmp, isolation_level=None)  # the bot's journal mode, as SqliteStore.open sets it
        try:
            check.execute("PRAGMA journal_mode = WAL")
        finally:
            check.close()
        _fsync(tmp)
        wal, shm = Path(f"{db_path}-wal"), Path(f"{db_path}-shm")
        if db_path.exists():
            kept = Path(f"{db_path}.before-restore")
            old = _connect(db_path)
            try:
                _copy(old, kept)  # the current database, its write-ahead log included
                old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                old.close()
        # The old log must go before the new file takes the name: SQLite would replay it into it.
        _unlink_quietly(wal, shm)
        os.replace(tmp, db_path)
    except sqlite3.Error as e:
        raise BackupError(f"the restore failed and nothing was changed: {e}") from None
    except OSError as e:
        raise BackupError(f"the restore failed and nothing was changed: {e.strerror or e}") from None
    finally:
        _unlink_quietly(tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal"))
    return kept
