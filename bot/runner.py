"""Start-up and shutdown: settings, logging, signals, and the sync command."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import sys
from collections.abc import Callable

import discord

from bot.errors import StartupError
from bot.settings import Settings, load_settings
from lore.errors import LoreFault, StoreError
from lore.faults import sqlite_reason

log = logging.getLogger("lorebot")


def _setup(settings: Settings) -> None:
    discord.utils.setup_logging(level=getattr(logging, settings.log_level), root=True)


def _token_or_none(settings: Settings, no_token_message: str) -> str | None:
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        print(no_token_message, file=sys.stderr, end="")
        return None
    return settings.discord_token.get_secret_value().strip()


async def _serve(bot: discord.Client, token: str) -> None:
    """Run until the bot stops or SIGINT/SIGTERM arrives; then close cleanly (closing the database)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # non-Unix event loops
            loop.add_signal_handler(sig, stop.set)
    async with bot:
        runner = asyncio.create_task(bot.start(token))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("shutting down")
        await bot.close()
        stopper.cancel()
        if runner in done:
            runner.result()  # re-raise a start-up failure
        else:
            runner.cancel()


def _run_reporting(main: Callable[[], object]) -> int:
    """Run ``main``; a failure a person can fix ends with one sentence and status 1, not a traceback."""
    try:
        main()
    except discord.LoginFailure:
        print("lorebot: Discord rejected the token (DISCORD_TOKEN). Reset it in the developer portal.", file=sys.stderr)
    except discord.PrivilegedIntentsRequired:
        print("lorebot: Discord refused the requested intents.", file=sys.stderr)
    except StoreError as e:
        print(f"lorebot: {e} (check LOREBOT_DB).", file=sys.stderr)
    except StartupError as e:
        print(f"lorebot: {e}", file=sys.stderr)
    except LoreFault as e:
        print(f"lorebot: {e}.", file=sys.stderr)
    except sqlite3.Error as e:
        print(f"lorebot: {sqlite_reason(e)} (check LOREBOT_DB).", file=sys.stderr)
    except OSError as e:  # DNS, refused or dropped connections before the gateway is up
        print(f"lorebot: cannot reach Discord ({e}). Check the network and try again.", file=sys.stderr)
    else:
        return 0
    return 1


def run(*, no_token_message: str, shard_count: int | None = None, shard_ids: list[int] | None = None) -> int:
    overrides: dict[str, object] = {}
    if shard_count is not None:
        overrides["LOREBOT_SHARD_COUNT"] = shard_count
    if shard_ids is not None:
        overrides["LOREBOT_SHARD_IDS"] = shard_ids
    try:
        settings = load_settings(**overrides)
    except Exception as e:  # pydantic.ValidationError: a human sentence, not a traceback
        print(f"lorebot: invalid settings: {e}", file=sys.stderr)
        return 2
    token = _token_or_none(settings, no_token_message)
    if token is None:
        return 2
    _setup(settings)
    from bot.app import LoreBot

    bot = LoreBot.from_settings(settings, freeze_gc=True)  # a long-lived process: see LoreBot.setup_hook
    return _run_reporting(lambda: asyncio.run(_serve(bot, token)))


def sync(*, guild_id: int | None, no_token_message: str) -> int:
    """Log in, register the command tree (globally or to one server), record its hash, log out."""
    settings = load_settings()
    token = _token_or_none(settings, no_token_message)
    if token is None:
        return 2
    _setup(settings)
    from bot.app import LoreBot

    async def go() -> int:
        bot = LoreBot.from_settings(settings, auto_sync=False)
        async with bot:
            await bot.login(token)
            synced = await bot.sync_commands(guild_id if guild_id is not None else settings.lorebot_dev_guild)
            print(f"Synced {synced} command(s) {'to server ' + str(guild_id) if guild_id else 'globally'}.")
        return 0

    return _run_reporting(lambda: asyncio.run(go()))
