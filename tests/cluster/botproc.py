"""``lorebot`` (the real command line) pointed at a fake Discord, for the cluster tests.

``python -m tests.cluster.botproc ARGS...`` is ``lorebot ARGS...`` with the two URLs discord.py
builds its requests from replaced by ``$FAKE_DISCORD_API`` and ``$FAKE_DISCORD_GATEWAY`` (what
``fakediscord.patch`` does in-process). Nothing else differs from a production ``lorebot run``.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = os.environ["FAKE_DISCORD_API"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_DISCORD_GATEWAY"])
    from bot.cli import main as lorebot

    return lorebot(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
