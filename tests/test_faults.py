"""Every fault is a sentence and a non-zero exit status, never a traceback: hostile packs, a full
disk, a read-only or unreachable database, damaged pages, a missing or damaged canon pack."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.cli import main
from lore.errors import CanonPackError, LoreError, PackError, WriteFault
from lore.packs import MAX_PACK_DEPTH
from lore.schema import SCHEMA_VERSION
from lore.service import LoreService
from tests.conftest import MINI_PACK

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "lore.sqlite3"
    assert main(["--db", str(path), "ask", "mars"]) == 0  # created and filled from the canon pack
    return path


# ------------------------------------------------------------------------------------------ hostile packs
@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, f"nested more than {MAX_PACK_DEPTH} levels deep"),
        ("deep.yaml", "- " * 5000 + "x", f"nested more than {MAX_PACK_DEPTH} levels deep"),
        ("flow.yaml", "entries: " + "[" * 200 + "]" * 200, f"nested more than {MAX_PACK_DEPTH} levels deep"),
        (
            "laughs.yaml",
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)),
            "holds more than",
        ),
    ],
)
def test_hostile_packs_are_refused_with_a_sentence(capsys, db, tmp_path, name, text, reason):
    pack = tmp_path / name
    pack.write_text(text)
    status, _out, err = run_cli(capsys, "--db", str(db), "import", str(pack), "--guild", "5")
    assert status == 1
    assert "was not imported; nothing changed" in err and reason in err


def test_importing_an_endless_file_stops_at_the_size_limit(tmp_path):
    # in a process of its own, with its memory capped: the file is never read whole
    db = tmp_path / "lore.sqlite3"
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
        "from bot.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "--db", str(db), "import", "/dev/zero"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "larger than 5 MB" in proc.stderr and "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------------------ the disk
async def test_a_full_disk_during_a_write_changes_nothing_and_says_so(tmp_path):
    svc = await LoreService.open(tmp_path / "full.sqlite3", canon_pack=MINI_PACK)
    try:
        pages = (await svc.store._writer.execute_fetchall("PRAGMA page_count"))[0][0]
        await svc.store._writer.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full now
        entries = [{"slug": f"e{i}", "kind": "concept", "name": f"E {i}", "summary": "x" * 1500} for i in range(200)]
        data = json.dumps({"pack": {"name": "big"}, "entries": entries})
        with pytest.raises(WriteFault, match=r"^The disk holding the lore database is full; nothing was changed\.$"):
            await svc.import_pack(data, guild_id=5, author="a", filename="big.json")
        assert svc.own_entry_count(5) == 0 and await svc.store.read_docs(None, "guild:5") == {}
        await svc.store._writer.execute("PRAGMA max_page_count = 1073741823")  # room again
        assert (await svc.import_pack(data, guild_id=5, author="a", filename="big.json")).created
    finally:
        await svc.close()


class _FailingRollback:
    """The writer connection, except that ROLLBACK fails (as it may after a disk fault)."""

    def __init__(self, conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def execute(self, sql, *args):
        if sql.strip().upper() == "ROLLBACK":
            raise sqlite3.OperationalError("disk I/O error (while rolling back)")
        return self._conn.execute(sql, *args)


async def test_a_failed_rollback_never_hides_the_real_error(tmp_path, caplog):
    svc = await LoreService.open(tmp_path / "rollback.sqlite3", canon_pack=MINI_PACK)
    try:
        real = svc.store._writer
        svc.store._writer = _FailingRollback(real)  # type: ignore[assignment]
        # a statement fails inside the transaction (SQLite keeps it open), and so does the ROLLBACK
        with pytest.raises(WriteFault, match="CHECK constraint failed"):
            async with svc.store.write() as tx:
                await svc.store.put_progress(tx, 1, 5)
                await tx.execute("INSERT INTO guild_settings (guild_id, episode) VALUES (1, -1)")
        assert "ROLLBACK failed" in caplog.text  # logged, not raised in place of the real error
        # the stuck connection was replaced: nothing of the failed write stayed, and writes go on
        assert await svc.store.progress_of([1]) == {}
        await svc.set_progress(1, 3)
        assert svc.progress(1) == 3
        # a full disk: SQLite rolls back by itself, and the error raised is still the full disk
        pages = (await svc.store._writer.execute_fetchall("PRAGMA page_count"))[0][0]
        await svc.store._writer.execute(f"PRAGMA max_page_count = {pages}")
        entries = [{"slug": f"e{i}", "kind": "concept", "name": f"E {i}", "summary": "x" * 1500} for i in range(200)]
        with pytest.raises(WriteFault, match="is full; nothing was changed"):
            await svc.import_pack(json.dumps({"pack": {"name": "b"}, "entries": entries}), guild_id=5, author="a")
    finally:
        await svc.close()


def test_a_file_system_that_refuses_to_grow_the_database(capsys, db, tmp_path):
    entries = [{"slug": f"e{i}", "kind": "concept", "name": f"E {i}", "summary": "x" * 1500} for i in range(2000)]
    pack = tmp_path / "big.json"
    pack.write_text(json.dumps({"pack": {"name": "big"}, "entries": entries}))
    limit = db.stat().st_size + 300_000

    def small_disk() -> None:  # the process may not make any file larger than this
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", str(db), "import", str(pack), "--guild", "7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_disk,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "nothing was changed" in proc.stderr and "disk" in proc.stderr
    status, out, _err = run_cli(capsys, "--db", str(db), "db", "check")
    assert status == 0 and "integrity ok" in out


async def test_a_write_waiting_too_long_for_another_process_is_a_sentence(tmp_path):
    path = tmp_path / "busy.sqlite3"
    svc = await LoreService.open(path, canon_pack=MINI_PACK)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await svc.store._writer.execute("PRAGMA busy_timeout = 100")
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(WriteFault, match="busy with another process's write; nothing was changed"):
            await svc.set_progress(1, 4)
        other.execute("ROLLBACK")
        await svc.set_progress(1, 4)
        assert svc.progress(1) == 4
    finally:
        other.close()
        await svc.close()


# ------------------------------------------------------------------------------------------ permissions
def _as_someone_else() -> list[str]:
    """A prefix running a child as an unprivileged user (root ignores file permissions)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_read_only_database_is_a_sentence(what):
    base = Path(tempfile.mkdtemp(prefix="lorebot-ro-"))  # not under pytest's private tmp: the child must reach it
    try:
        base.chmod(0o755)
        db = base / "lore.sqlite3"
        assert main(["--db", str(db), "ask", "mars"]) == 0
        for p in base.iterdir():
            p.chmod(0o644)
        pack = base / "pack.yaml"
        pack.write_text("pack: {name: x}\nentries: [{slug: a1, kind: concept, name: A One}]\n")
        pack.chmod(0o644)
        if what == "file":
            db.chmod(0o444)
        else:
            for p in (Path(f"{db}-wal"), Path(f"{db}-shm")):
                p.unlink(missing_ok=True)
            db.chmod(0o666)
            base.chmod(0o555)
        proc = subprocess.run(
            [
                *_as_someone_else(),
                sys.executable,
                "-m",
                "bot.cli",
                "--db",
                str(db),
                "import",
                str(pack),
                "--guild",
                "5",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "read-only" in proc.stderr and "Traceback" not in proc.stderr
    finally:
        base.chmod(0o755)
        for p in base.iterdir():
            p.unlink()
        base.rmdir()


def test_an_unreachable_database_directory_is_a_sentence(capsys, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    status, _out, err = run_cli(capsys, "--db", str(blocker / "sub" / "lore.sqlite3"), "ask", "mars")
    assert status == 1
    assert "cannot reach the directory of the lore database" in err and "is a file, not a directory" in err


# ------------------------------------------------------------------------------------------ damage
def _damage(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size, pages = con.execute("PRAGMA page_size").fetchone()[0], con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    with open(path, "r+b") as f:
        for page in range(pages // 2, pages // 2 + 3):
            f.seek(page * size + 100)
            f.write(b"\xff" * (size - 200))


def test_damaged_pages_are_found_at_start_and_by_db_check(capsys, db):
    _damage(db)
    status, _out, err = run_cli(capsys, "--db", str(db), "db", "check")
    assert status == 1 and "is damaged" in err and "Restore a backup" in err
    status, _out, err = run_cli(capsys, "--db", str(db), "ask", "mars")
    assert status == 1 and "is damaged" in err and "lorebot db check" in err


async def test_a_damaged_database_checked_aside_is_refused_before_a_load_or_a_write(db):
    from lore.errors import StoreError
    from lore.sqlitestore import SqliteStore

    _damage(db)
    store = await SqliteStore.open(db, check_aside=True)  # the schema is current: checked beside the load
    try:
        with pytest.raises(StoreError, match="is damaged"):
            await store.load_all_scopes()
        with pytest.raises(StoreError, match="is damaged"):
            async with store.write() as tx:
                await tx.execute("DELETE FROM guild_settings")
    finally:
        await store.close()
    with pytest.raises(StoreError, match="is damaged"):
        await LoreService.open(db, canon_pack=MINI_PACK)


async def test_a_store_closed_while_its_check_runs_aside_closes_at_once(db):
    from lore.sqlitestore import SqliteStore

    store = await SqliteStore.open(db, check_aside=True)
    await store.close()  # the check is stopped, its connection closed; nothing is left running
    async with await LoreService.open(db, canon_pack=MINI_PACK) as lore:
        assert lore.franchise.last > 0  # the same file opens and loads as before


def test_a_file_that_is_not_a_database(capsys, tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not an SQLite database, not at all" * 100)
    status, _out, err = run_cli(capsys, "--db", str(junk), "ask", "mars")
    assert status == 1 and "damaged" in err
    status, _out, err = run_cli(capsys, "--db", str(junk), "db", "check")
    assert status == 1 and "is damaged" in err


def test_db_check_reports_integrity_and_schema(capsys, db, tmp_path):
    status, out, _err = run_cli(capsys, "--db", str(db), "db", "check")
    assert status == 0 and f"schema version {SCHEMA_VERSION} (current)" in out and "integrity ok" in out
    missing = tmp_path / "missing.sqlite3"
    status, _out, err = run_cli(capsys, "--db", str(missing), "db", "check")
    assert status == 1 and "there is no lore database" in err and not missing.exists()
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    con.close()
    status, _out, err = run_cli(capsys, "--db", str(db), "db", "check")
    assert status == 1 and "lorebot db upgrade" in err
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    status, _out, err = run_cli(capsys, "--db", str(db), "db", "check")
    assert status == 1 and "newer than this lorebot" in err


# ------------------------------------------------------------------------------------------ the canon pack
async def test_a_missing_canon_pack_refuses_a_new_database_only(tmp_path):
    with pytest.raises(CanonPackError, match="missing and the database holds no canon"):
        await LoreService.open(tmp_path / "new.sqlite3", canon_pack=tmp_path / "gone.yaml")
    filled = tmp_path / "filled.sqlite3"
    await (await LoreService.open(filled, canon_pack=MINI_PACK)).close()
    async with await LoreService.open(filled, canon_pack=tmp_path / "gone.yaml") as svc:
        assert svc.get("mars") is not None  # the stored canon is served


async def test_a_canon_pack_over_the_upload_limit_still_opens_and_reopens(tmp_path, monkeypatch):
    # The host's own canon may outweigh what an admin may upload (10,000 entries are about 8 MB);
    # the upload limit is lowered below the mini pack's size to show it without an 8 MB file.
    monkeypatch.setattr("lore.packs.MAX_PACK_BYTES", 1024)
    assert MINI_PACK.stat().st_size > 1024
    db = tmp_path / "db.sqlite3"
    async with await LoreService.open(db, canon_pack=MINI_PACK) as svc:  # first start fills it
        assert svc.get("mars") is not None
    async with await LoreService.open(db, canon_pack=MINI_PACK) as svc:  # and every start after
        assert svc.get("mars") is not None
        with pytest.raises(PackError, match="larger than 1 KB"):  # the same file as an upload is refused
            await svc.import_pack(MINI_PACK.read_bytes(), guild_id=1, author="a", filename="mini.yaml")
        assert svc.own_entry_count(1) == 0


async def test_a_canon_pack_past_its_limit_is_refused_at_start_up_even_when_unchanged(tmp_path, monkeypatch):
    db = tmp_path / "db.sqlite3"
    await (await LoreService.open(db, canon_pack=MINI_PACK)).close()
    monkeypatch.setattr("lore.packs.MAX_CANON_BYTES", 1024)  # the file's digest is read within the limit too
    with pytest.raises(CanonPackError, match=r"cannot be used: .*larger than 1 KB"):
        await LoreService.open(db, canon_pack=MINI_PACK)


async def test_a_damaged_canon_pack_names_the_file_and_its_first_errors(tmp_path):
    broken = tmp_path / "canon.yaml"
    broken.write_text("pack: {name: canon, version: 9}\nentries:\n  - {slug: a, kind: nonsense, name: A}\n")
    with pytest.raises(CanonPackError) as caught:
        await LoreService.open(tmp_path / "db.sqlite3", canon_pack=broken)
    text = str(caught.value)
    assert str(broken) in text and "is damaged" in text and "entries[0].kind" in text


async def test_out_of_range_values_change_nothing(mini):
    for call in (
        mini.add_fact(1, "mars", "x", 99, "a"),
        mini.add_alias(1, "mars", "y" * 300, "a"),
        mini.revert(1, "mars", 10**20, "a"),
    ):
        with pytest.raises(LoreError, match="nothing"):
            await call
    assert (await mini.history(1, "mars"))[0] == "canon"
