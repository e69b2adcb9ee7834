"""A real PostgreSQL for the tests: ``initdb`` + ``pg_ctl`` in a temporary directory, on a free
127.0.0.1 port, started once per test session and removed at the end.

The binaries are found on ``PATH`` or under Debian's ``/usr/lib/postgresql/<version>/bin`` (the
newest). PostgreSQL refuses to run as root, so as root the server runs as ``nobody`` (or
``$LOREBOT_PG_USER``). ``$LOREBOT_TEST_PG`` points the tests at a server someone else runs
instead (a ``postgresql://`` URL to a database the tests may create databases with).

When no server can be had the PostgreSQL tests are skipped with the reason -- except in CI
(``CI=true``), where that is a failure: CI installs PostgreSQL (see ``.ci/run``) and must run them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 30


class PostgresUnavailable(RuntimeError):
    pass


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def find_bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
    )
    if candidates:
        return Path(candidates[-1]).parent
    raise PostgresUnavailable(
        "PostgreSQL's initdb and pg_ctl were not found (on PATH or under /usr/lib/postgresql/*/bin); "
        "install Debian's `postgresql` package (`.ci/run` does it) or set LOREBOT_TEST_PG"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server: ``url(db)`` gives a DSN; ``new_database()`` a fresh, empty database."""

    host: str
    port: int
    user: str
    datadir: Path | None = None
    bindir: Path | None = None
    run_as: str | None = None
    admin_url: str | None = None  # for an external server: where to CREATE DATABASE
    _test_db: str | None = None

    def url(self, database: str = "postgres") -> str:
        if self.admin_url is not None and database == "postgres":
            return self.admin_url
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def new_schema(self, prefix: str = "t") -> str:
        """A fresh, empty schema in the session's test database, as a URL whose ``search_path`` is
        that schema (a few milliseconds, where a new database takes most of a second)."""
        if self._test_db is None:
            self._test_db = self.new_database("lorebot_tests")
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.psql(f'CREATE SCHEMA "{name}"', self._test_db)
        return f"{self._test_db}?search_path={name}"

    def drop_schema(self, url: str) -> None:
        base, _, name = url.partition("?search_path=")
        self.psql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE', base)

    def new_database(self, prefix: str = "lorebot_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[-1]
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def psql(self, sql: str, url: str | None = None) -> None:
        import asyncio

        import asyncpg

        async def go() -> None:
            conn = await asyncpg.connect(url or self.url(), timeout=10)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:  # callable from inside a running event loop too
            pool.submit(asyncio.run, go()).result()


def _demote(user: str) -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise PostgresUnavailable(f"there is no user {user!r} to run PostgreSQL as (LOREBOT_PG_USER)") from None
    return entry.pw_uid, entry.pw_gid


def _run(cmd: list[str], run_as: str | None, **kw: object) -> subprocess.CompletedProcess[str]:
    if run_as is not None:
        uid, gid = _demote(run_as)
        kw["user"], kw["group"], kw["extra_groups"] = uid, gid, []
        kw["env"] = {**os.environ, "HOME": "/tmp", "USER": run_as, "LOGNAME": run_as}
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT, check=False, **kw)  # type: ignore[call-overload,no-any-return]
    except (OSError, subprocess.SubprocessError) as e:
        raise PostgresUnavailable(f"{Path(cmd[0]).name} could not run: {e}") from None


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL (or use ``$LOREBOT_TEST_PG``) for the duration of the block."""
    external = os.environ.get("LOREBOT_TEST_PG", "").strip()
    if external:
        from urllib.parse import urlparse

        u = urlparse(external)
        yield PostgresServer(u.hostname or "127.0.0.1", u.port or 5432, u.username or "postgres", admin_url=external)
        return
    bindir = find_bindir()
    run_as = os.environ.get("LOREBOT_PG_USER") or ("nobody" if os.geteuid() == 0 else None)
    root = Path(tempfile.mkdtemp(prefix="lorebot-pg-"))
    datadir = root / "data"
    try:
        if run_as is not None:
            uid, gid = _demote(run_as)
            os.chown(root, uid, gid)
        root.chmod(0o700)
        initdb = [str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        for locale in ("C.UTF-8", "C"):  # C.UTF-8 where the system has it
            init = _run([*initdb, f"--locale={locale}", "--no-sync"], run_as)
            if init.returncode == 0:
                break
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {(init.stderr or init.stdout).strip()[-800:]}")
        last_error = ""
        for _ in range(3):  # the free port may be taken between choosing it and binding it
            port = free_port()
            opts = f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            start = _run(
                [str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(root / "server.log"), "-o", opts, "-w", "start"],
                run_as,
            )
            if start.returncode == 0:
                break
            log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
            last_error = (start.stderr or start.stdout or log).strip()[-800:]
        else:
            raise PostgresUnavailable(f"pg_ctl could not start the server: {last_error}")
        server = PostgresServer("127.0.0.1", port, "postgres", datadir=datadir, bindir=bindir, run_as=run_as)
        _wait_accepting(server)
        try:
            yield server
        finally:
            _run([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"], run_as)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_accepting(server: PostgresServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with socket.create_connection((server.host, server.port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"the server on port {server.port} does not accept connections") from None
            time.sleep(0.05)
