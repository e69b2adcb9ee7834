"""The ``lorebot`` command line: run the bot, try it offline, and manage the lore database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.terminal import format_view_text
from lore import (
    CANON_PACK_PATH,
    SCHEMA_VERSION,
    Kind,
    LoreError,
    LoreFault,
    LoreService,
    Mode,
    PackError,
    Policy,
    PolicySource,
    Quotas,
    read_pack_bytes,
    sqlite_reason,
)

if TYPE_CHECKING:
    from bot.settings import Settings

#: Exit statuses: 0 done (or stopped), 1 failed (a person must fix something), 2 usage or
#: configuration, 26 restart requested (``lorebot run`` only; see ``bot.runner``).
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_RESTART = 0, 1, 2, 26

RUN_EPILOG = """\
exit statuses: 0 stopped (SIGINT/SIGTERM), 1 fatal (rejected token, damaged database),
2 usage or configuration (no DISCORD_TOKEN), 26 restart requested (SIGHUP, Discord unreachable)."""

NO_TOKEN_MESSAGE = """\
lorebot: no Discord bot token found.

Set DISCORD_TOKEN in the environment or in a .env file (copy .env.example to .env and fill it in).
Get a token at https://discord.com/developers/applications -> your application -> Bot -> Reset Token.

No token yet? Try every command offline against a local fake Discord:
    lorebot console        (or: make console)
"""


def _snowflake(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"not a Discord id: {value!r}")
    return int(value)


def _shard_count(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1: {value!r}")
    return int(value)


def _shard_ids(value: str) -> list[int]:
    from bot.sharding import ShardSpecError, parse_shard_ids

    try:
        return parse_shard_ids(value)
    except ShardSpecError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lorebot",
        description="A spoiler-safe Discord lore bot; the canon pack (--pack) defines its franchise.",
    )
    p.add_argument("--db", help="SQLite path or postgresql:// URL (default: LOREBOT_DB or ./lorebot.sqlite3)")
    p.add_argument(
        "--pack",
        type=Path,
        help="the canon pack that defines the franchise (default: LOREBOT_PACK, else the pack lorebot ships)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the bot (needs DISCORD_TOKEN)", epilog=RUN_EPILOG)
    run.add_argument(
        "--shard-count", type=_shard_count, help="total shards of the bot (default: LOREBOT_SHARD_COUNT or Discord's)"
    )
    run.add_argument(
        "--shard-ids", type=_shard_ids, help="the shards this process holds, e.g. 0-3 (default: LOREBOT_SHARD_IDS, all)"
    )

    health = sub.add_parser(
        "health", help="exit 0 if the running bot is connected and every shard ready, else 1 (one line why)"
    )
    health.add_argument(
        "--max-age", type=float, help="seconds a heartbeat stays fresh (default: LOREBOT_HEALTH_MAX_AGE)"
    )

    sync = sub.add_parser("sync", help="register the slash commands with Discord now")
    sync.add_argument("--guild", type=_snowflake, help="sync to this server only (instant)")

    console = sub.add_parser("console", help="try the bot in the terminal against a local fake Discord")
    console.add_argument("--member", action="store_true", help="start as a member without Manage Server")
    console.add_argument(
        "--files",
        type=Path,
        help="save the pictures and files the bot sends here (default: lorebot-console in the temp directory)",
    )

    ask = sub.add_parser("ask", help="look something up offline, through the same engine and renderer")
    ask.add_argument("query")
    ask.add_argument("--episode", help="viewer's episode: a number from 0 to the pack's last, or s2e3 with seasons")
    ask.add_argument("--mode", choices=[m.value for m in Mode], help="spoiler mode (default: tag)")
    ask.add_argument("--kind", choices=[k.value for k in Kind], help="only entries of this kind")
    ask.add_argument("--guild", type=_snowflake, help="see the lore as this server sees it")
    ask.add_argument("--json", action="store_true", help="print one JSON object")

    imp = sub.add_parser("import", help="import a YAML or JSON lore pack (all or nothing)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--guild", type=_snowflake, help="into this server's scope (default: the canon)")

    exp = sub.add_parser("export", help="export a scope as a lore pack to standard output")
    exp.add_argument("--guild", type=_snowflake, help="this server's own entries (default: the canon)")
    exp.add_argument("--format", choices=["yaml", "json"], default="yaml")
    exp.add_argument("-o", "--output", type=Path, help="write to this file instead")

    db = sub.add_parser("db", help="database maintenance")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbsub.add_parser("upgrade", help="migrate the schema and apply a newer canon pack")
    dbsub.add_parser("check", help="check the database's integrity and schema version (changes nothing)")
    copy = dbsub.add_parser(
        "copy", help="copy all lore, settings and progress into an empty database (SQLite <-> PostgreSQL)"
    )
    copy.add_argument("source", help="the database to copy (an SQLite path or a postgresql:// URL)")
    copy.add_argument("target", help="an empty database to copy it into (created if it is an SQLite file)")
    bk = dbsub.add_parser("backup", help="write a consistent copy of the SQLite database (safe while the bot runs)")
    bk.add_argument("path", type=Path, help="the backup file, or a folder to put a time-stamped one in")
    rs = dbsub.add_parser("restore", help="replace the SQLite database with a backup (stop the bot first)")
    rs.add_argument("path", type=Path, help="the backup file")
    return p


def _settings(args: argparse.Namespace) -> Settings:
    from bot.settings import load_settings

    return load_settings(**({"LOREBOT_DB": args.db} if args.db else {}))


def _db_path(args: argparse.Namespace) -> str:
    """The database to use: ``--db``, else ``LOREBOT_DB`` (a path, or a URL: see lore.storage)."""
    if args.db:
        return str(args.db)
    return str(_settings(args).lorebot_db)


def _pack_path(args: argparse.Namespace) -> Path:
    """The canon pack: ``--pack``, else ``LOREBOT_PACK``, else the one lorebot ships."""
    if args.pack is not None:
        return Path(args.pack)
    return _settings(args).lorebot_pack or CANON_PACK_PATH


def _quotas(args: argparse.Namespace) -> Quotas:
    s = _settings(args)
    return Quotas(s.quota_entries, s.quota_revisions, s.quota_import_bytes) if s.limits else Quotas.off()


async def _ask(args: argparse.Namespace) -> int:
    async with await LoreService.open(_db_path(args), canon_pack=_pack_path(args)) as svc:
        base = svc.policy(args.guild) if args.guild is not None else Policy()
        try:
            episode = svc.franchise.parse_episode(args.episode) if args.episode is not None else base.episode
        except LoreError as e:
            print(f"lorebot ask: --episode: {e}", file=sys.stderr)
            return EXIT_USAGE
        policy = Policy(
            episode=episode,
            mode=Mode(args.mode) if args.mode else base.mode,
            source=PolicySource.DEFAULT,
        )
        kinds = [Kind(args.kind)] if args.kind else None
        answer = svc.ask(args.query, policy, args.guild, kinds)
        data = answer.to_json()
        if args.json:
            print(json.dumps(data, ensure_ascii=False))
        else:
            print(format_view_text(data))
    return EXIT_OK


def _pack_refused(file: Path, error: PackError) -> int:
    print(f"lorebot: {file} was not imported; nothing changed.", file=sys.stderr)
    for err in error.errors:
        print(f"  {err}", file=sys.stderr)
    return EXIT_FAIL


async def _import(args: argparse.Namespace) -> int:
    try:
        data = read_pack_bytes(args.file)  # in chunks: stops at the size limit (even for /dev/zero)
    except OSError as e:
        print(f"lorebot: cannot read {args.file}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    except PackError as e:
        return _pack_refused(args.file, e)
    from lore import SQLITE, DatabaseLock, parse_target

    db = _db_path(args)
    target = parse_target(db)
    lock = DatabaseLock(target.location) if target.backend == SQLITE and target.location != ":memory:" else None
    if lock is not None:
        lock.acquire_shared()  # a restore waits for this import
    try:
        async with await LoreService.open(db, canon_pack=_pack_path(args), quotas=_quotas(args)) as svc:
            try:
                report = await svc.import_pack(data, guild_id=args.guild, author="cli", filename=args.file.name)
            except PackError as e:
                return _pack_refused(args.file, e)
            except LoreError as e:  # a server's quota
                print(f"lorebot: {args.file} was not imported: {e}", file=sys.stderr)
                return EXIT_FAIL
    finally:
        if lock is not None:
            lock.release()
    where = f"server {args.guild}" if args.guild else "the canon"
    print(f"Imported {args.file} into {where}: {report.summary()}.")
    return EXIT_OK


async def _export(args: argparse.Namespace) -> int:
    async with await LoreService.open(_db_path(args), canon_pack=_pack_path(args)) as svc:
        text = svc.export(args.guild, args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


async def _db_upgrade(args: argparse.Namespace) -> int:
    async with await LoreService.open(_db_path(args), canon_pack=None) as svc:
        version = await svc.schema_version()
        report = await svc.apply_canon_pack(_pack_path(args))
        print(f"Schema version {version}.")
        if report is None:
            print(f"Canon pack v{svc.canon_version} is current.")
        else:
            print(f"Canon pack v{svc.canon_version} applied: {report.summary()}.")
    return EXIT_OK


async def _db_copy(args: argparse.Namespace) -> int:
    from lore import copy_database

    report = await copy_database(args.source, args.target)
    print(f"Copied {report.source} to {report.target}: {report.summary()}.")
    print("Verified: the export of every scope, every spoiler setting and every user's progress match.")
    return EXIT_OK


async def _db_check(args: argparse.Namespace) -> int:
    from lore import check_target, parse_target

    path = str(parse_target(_db_path(args)))  # a PostgreSQL URL without its password
    report = await check_target(_db_path(args))
    if report.problems:
        print(f"lorebot: the lore database {path} is damaged:", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        print("Restore a backup, or move the file away to start afresh.", file=sys.stderr)
        return EXIT_FAIL
    if report.schema < SCHEMA_VERSION:
        print(
            f"lorebot: the lore database {path} has schema version {report.schema}; this lorebot uses "
            f"{SCHEMA_VERSION}. Run `lorebot db upgrade` (or start the bot) to migrate it.",
            file=sys.stderr,
        )
        return EXIT_FAIL
    if report.schema > SCHEMA_VERSION:
        print(
            f"lorebot: the lore database {path} has schema version {report.schema}, newer than this "
            f"lorebot ({SCHEMA_VERSION}); upgrade lorebot.",
            file=sys.stderr,
        )
        return EXIT_FAIL
    print(
        f"{path}: integrity ok, schema version {report.schema} (current), {report.entries} entry rows, "
        f"change feed at #{report.changes}."
    )
    return EXIT_OK


def _health(args: argparse.Namespace) -> int:
    from bot.health import check

    try:
        settings = _settings(args)
    except Exception as e:  # an invalid setting
        print(f"unhealthy: invalid settings: {e}")
        return EXIT_FAIL
    result = check(settings.heartbeat_path, args.max_age if args.max_age is not None else settings.health_max_age)
    print(result.line)
    return EXIT_OK if result.ok else EXIT_FAIL


def _sqlite_file(args: argparse.Namespace, action: str) -> str:
    """The SQLite file a backup or restore works on; a PostgreSQL database is refused with what to use."""
    from lore import POSTGRESQL, BackupError, parse_target

    target = parse_target(_db_path(args))
    if target.backend == POSTGRESQL:
        tool = "pg_dump -Fc" if action == "backup" else "pg_restore --clean --single-transaction"
        raise BackupError(f"lorebot db {action} works on an SQLite database; for PostgreSQL ({target}) use {tool}")
    return target.location


def _db_backup(args: argparse.Namespace) -> int:
    from lore import backup_database

    db = _sqlite_file(args, "backup")
    written, summary = backup_database(db, args.path)
    print(f"Backed up {db} to {written}: {summary.describe()}.")
    return EXIT_OK


def _db_restore(args: argparse.Namespace) -> int:
    from lore import restore_database

    db = _sqlite_file(args, "restore")
    summary, kept = restore_database(args.path, db)
    print(f"Restored {args.path} into {db}: {summary.describe()}.")
    if kept is not None:
        print(f"The previous database was kept as {kept}.")
    return EXIT_OK


def _sentence(text: object) -> str:
    text = str(text)
    return text if text.endswith((".", "!", "?")) else text + "."


class _QuietFormatter(logging.Formatter):
    """Log lines at a terminal: one line each, no traceback (the command says what happened)."""

    def formatException(self, ei: Any) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_info, record.exc_text = None, None
        return super().format(record)


def _quiet_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_QuietFormatter("lorebot: %(message)s"))
    logging.basicConfig(level=logging.ERROR, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command not in ("run", "sync", "console"):
        _quiet_logging()
    try:
        if args.command == "run":
            from bot.runner import run

            return run(
                no_token_message=NO_TOKEN_MESSAGE,
                shard_count=args.shard_count,
                shard_ids=args.shard_ids,
                db=args.db,
                pack=args.pack,
            )
        if args.command == "sync":
            from bot.runner import sync

            return sync(guild_id=args.guild, no_token_message=NO_TOKEN_MESSAGE, db=args.db, pack=args.pack)
        if args.command == "health":
            return _health(args)
        if args.command == "db" and args.db_command in ("backup", "restore"):
            return _db_backup(args) if args.db_command == "backup" else _db_restore(args)
        if args.command == "console":
            from bot.console import main as console_main

            return console_main(admin=not args.member, db=args.db, files=args.files, pack=args.pack)
        handler = {"ask": _ask, "import": _import, "export": _export}.get(args.command)
        if handler is None:
            handler = {"check": _db_check, "copy": _db_copy}.get(args.db_command, _db_upgrade)
        return asyncio.run(handler(args))
    except LoreFault as e:  # the database, its disk or the canon pack: one sentence
        print(f"lorebot: {_sentence(e)}", file=sys.stderr)
        return EXIT_FAIL
    except sqlite3.Error as e:
        print(f"lorebot: {_sentence(sqlite_reason(e))}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lorebot ask ... | head`: the reader left; not an error of ours
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter from failing again at exit
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
