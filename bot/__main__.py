"""``python -m bot``: start the bot, exactly as ``lorebot run`` does (same settings, messages and
exit statuses: 0 stopped, 1 fatal, 2 usage or configuration, 26 restart requested)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EPILOG = """\
exit statuses:
  0   stopped (SIGINT or SIGTERM)
  1   a fatal error a person must fix (rejected token, damaged database)
  2   usage or configuration (no DISCORD_TOKEN, an invalid setting)
  26  restart requested (SIGHUP, or Discord unreachable): a supervisor should start it again

Settings come from the environment or .env (see the README); `lorebot --help` lists the other commands.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Start the lorebot Discord bot (the same as `lorebot run`).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", help="database path (default: LOREBOT_DB or ./lorebot.sqlite3)")
    args = parser.parse_args(argv)
    from bot.cli import main as cli_main

    return cli_main([*(["--db", args.db] if args.db else []), "run"])


if __name__ == "__main__":
    sys.exit(main())
