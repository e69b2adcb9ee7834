"""Start-up and shutdown: settings, logging, signals, exit statuses, and the sync command.

Exit statuses of ``lorebot run`` (and ``python -m bot``):

- 0: stopped (SIGINT or SIGTERM, or the bot closed itself);
- 1: a fatal error a person must fix (a rejected token, a damaged database): restarting will not help;
- 2: usage or configuration (no token, an invalid setting);
- 26 (``EXIT_RESTART``, as Red uses): please restart me — SIGHUP asked for it, or Discord could not
  be reached or dropped the connection for good, which a fresh start may well fix. The systemd
  unit restarts on it (``RestartForceExitStatus=26``); compose's ``restart: unless-stopped`` does too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import discord

from bot.errors import StartupError
from bot.settings import Settings, load_settings
from lore import LoreFault, StoreError, sqlite_reason

log = logging.getLogger("lorebot")

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_RESTART = 0, 1, 2, 26


class RestartRequested(Exception):
    """SIGHUP: stop cleanly and exit with :data:`EXIT_RESTART` so the supervisor starts us again."""


def _setup(settings: Settings) -> None:
    from bot import logs

    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    logs.setup(
        getattr(logging, settings.log_level),
        log_file=settings.log_file,
        max_bytes=settings.log_max_bytes,
        backups=settings.log_backups,
        secrets=[token] if token else [],
    )


def _token_or_none(settings: Settings, no_token_message: str) -> str | None:
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        print(no_token_message, file=sys.stderr, end="")
        return None
    return settings.discord_token.get_secret_value().strip()


async def _serve(bot: discord.Client, token: str) -> None:
    """Run until the bot stops or SIGINT/SIGTERM arrives; then close cleanly (closing the database).
    SIGHUP closes the same way, then raises :class:`RestartRequested`."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    restart = False

    def on_hup() -> None:
        nonlocal restart
        restart = True
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # non-Unix event loops
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, on_hup)
    async with bot:
        runner = asyncio.create_task(bot.start(token))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("restarting: closing first" if restart else "shutting down")
        await bot.close()
        stopper.cancel()
        if runner in done:
            runner.result()  # re-raise a start-up failure
        else:
            runner.cancel()
    if restart:
        raise RestartRequested()


def _run_reporting(main: Callable[[], object], *, transient: int = EXIT_FAIL) -> int:
    """Run ``main``; a failure a person can fix ends with one sentence and status 1, not a traceback.
    A failure that a later start may not meet (Discord unreachable) ends with ``transient``."""
    try:
        main()
    except RestartRequested:
        print("lorebot: restart requested (SIGHUP); exiting with status 26 for the supervisor.", file=sys.stderr)
        return EXIT_RESTART
    except discord.LoginFailure:
        print("lorebot: Discord rejected the token (DISCORD_TOKEN). Reset it in the developer portal.", file=sys.stderr)
    except discord.PrivilegedIntentsRequired:
        print("lorebot: Discord refused the requested intents.", file=sys.stderr)
    except StoreError as e:
        print(f"lorebot: {e} (check LOREBOT_DB).", file=sys.stderr)
    except StartupError as e:
        print(f"lorebot: {e}", file=sys.stderr)
    except LoreFault as e:
        print(f"lorebot: {str(e).rstrip('.')}.", file=sys.stderr)
    except sqlite3.Error as e:
        print(f"lorebot: {sqlite_reason(e)} (check LOREBOT_DB).", file=sys.stderr)
    except (OSError, discord.GatewayNotFound, discord.ConnectionClosed) as e:
        # DNS, refused or dropped connections before the gateway is up, or a gateway that closed for good
        print(f"lorebot: cannot reach Discord ({e}). Check the network and try again.", file=sys.stderr)
        return transient
    else:
        return EXIT_OK
    return EXIT_FAIL


def run(
    *,
    no_token_message: str,
    shard_count: int | None = None,
    shard_ids: list[int] | None = None,
    db: str | None = None,
    pack: Path | None = None,
) -> int:
    overrides: dict[str, object] = {}
    if pack is not None:
        overrides["LOREBOT_PACK"] = pack
    if shard_count is not None:
        overrides["LOREBOT_SHARD_COUNT"] = shard_count
    if shard_ids is not None:
        overrides["LOREBOT_SHARD_IDS"] = shard_ids
    if db:
        overrides["LOREBOT_DB"] = db
    try:
        settings = load_settings(**overrides)
    except Exception as e:  # pydantic.ValidationError: a human sentence, not a traceback
        print(f"lorebot: invalid settings: {e}", file=sys.stderr)
        return EXIT_USAGE
    token = _token_or_none(settings, no_token_message)
    if token is None:
        return EXIT_USAGE
    _setup(settings)
    from bot.app import LoreBot, open_lore

    async def go() -> None:
        async with open_lore(settings.lorebot_db, canon_pack=settings.canon_pack) as lore:
            # a long-lived process: see LoreBot.setup_hook
            await _serve(LoreBot.from_settings(settings, lore, freeze_gc=True), token)

    return _run_reporting(lambda: asyncio.run(go()), transient=EXIT_RESTART)


def sync(*, guild_id: int | None, no_token_message: str, db: str | None = None, pack: Path | None = None) -> int:
    """Log in, register the command tree (globally or to one server), record its hash, log out."""
    overrides: dict[str, object] = {"LOREBOT_DB": db} if db else {}
    if pack is not None:
        overrides["LOREBOT_PACK"] = pack
    settings = load_settings(**overrides)
    token = _token_or_none(settings, no_token_message)
    if token is None:
        return EXIT_USAGE
    _setup(settings)
    from bot.app import LoreBot, open_lore
    from bot.service import ServiceOptions

    async def go() -> int:
        async with open_lore(settings.lorebot_db, canon_pack=settings.canon_pack) as lore:
            bot = LoreBot.from_settings(settings, lore, auto_sync=False, service=ServiceOptions())  # no heartbeat
            async with bot:
                await bot.login(token)
                synced = await bot.sync_commands(guild_id if guild_id is not None else settings.lorebot_dev_guild)
                print(f"Synced {synced} command(s) {'to server ' + str(guild_id) if guild_id else 'globally'}.")
        return 0

    return _run_reporting(lambda: asyncio.run(go()))
