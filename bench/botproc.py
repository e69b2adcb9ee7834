"""The bot as its own process, pointed at the benchmark's fake Discord.

``python -m bench.botproc --db DB --pack PACK --api-base URL --gateway URL [--sync]`` starts the
real :class:`bot.app.LoreBot` through the production serving loop (``bot.runner._serve``: signals,
clean close), with one extra command, ``/ping``, that answers "pong" through the same reply
helper: the trivial command end-to-end figures are compared with. ``--sync`` registers the
commands even when the database says they are unchanged (a fresh fake knows none). A start-up
fault ends as ``lorebot run`` ends it: one sentence on stderr and status 1. The end-to-end tests
start it too, for bots in processes of their own (two on one database, faults at start-up).

Only the two URLs discord.py builds its requests from are changed (what ``fakediscord.patch``
does), so the process imports nothing of the fake: its start-up is the bot's own.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True, help="an SQLite path or a postgresql:// URL")
    ap.add_argument("--pack", type=Path)
    ap.add_argument("--api-base", required=True)
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--sync", action="store_true")
    ap.add_argument("--shard-count", type=int)
    ap.add_argument("--shard-ids", help="e.g. 0-1 (with --shard-count)")
    ap.add_argument("--identify-interval", type=float, default=5.0, help="seconds per identify bucket")
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args()

    import discord
    import discord.gateway
    import discord.http
    import yarl
    from discord import app_commands

    from bot.app import LoreBot, open_lore
    from bot.ratelimit import Limits
    from bot.replies import send
    from bot.runner import _run_reporting, _serve

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    discord.http.Route.BASE = args.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway)

    @app_commands.command(name="ping", description="Benchmark: a trivial reply")
    async def ping(interaction: discord.Interaction) -> None:
        await send(interaction, "pong")

    class BenchBot(LoreBot):
        async def setup_hook(self) -> None:
            self.tree.add_command(ping)
            await super().setup_hook()
            if args.sync:
                await self.sync_commands()

    from bot.sharding import parse_shard_ids

    shard_ids = parse_shard_ids(args.shard_ids) if args.shard_ids else None

    async def serve() -> None:
        async with open_lore(args.db, canon_pack=args.pack) as lore:
            bot = BenchBot(  # as `lorebot run`
                lore,
                auto_sync=True,
                freeze_gc=True,
                shard_count=args.shard_count,
                shard_ids=shard_ids,
                identify_interval=args.identify_interval,
                limits=Limits.off(),  # the load comes from a few simulated users at full speed
            )
            await _serve(bot, "bench-token")

    return _run_reporting(lambda: asyncio.run(serve()))  # a fault: a sentence, status 1


if __name__ == "__main__":
    raise SystemExit(main())
