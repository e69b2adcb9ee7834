"""The names of the bot's own slash commands, and the check that a pack's roster commands
(``pack.rosters``) take none of them: a clash is refused at start-up with one sentence, before
any command is loaded or synced."""

from __future__ import annotations

from lore import Franchise

#: Every top-level slash command the bot defines itself (tests/test_command_tree.py keeps this
#: list equal to the loaded tree's).
BUILTIN_COMMANDS = frozenset(
    {
        "lore",
        "character",
        "faction",
        "concept",
        "episode",
        "search",
        "progress",
        "help",
        "about",
        "spoilers",
        "lore-admin",
        "relations",
        "timeline",
        "quiz",
    }
)


def roster_clash(franchise: Franchise) -> str | None:
    """The sentence refusing a pack whose roster command takes the name of a built-in command
    or of an earlier roster's (None: every name is free)."""
    seen: set[str] = set()
    for i, roster in enumerate(franchise.rosters):
        where = f"pack.rosters[{i}].command"
        if roster.command in BUILTIN_COMMANDS:
            return (
                f"the pack's roster command /{roster.command} has the name of the bot's own /{roster.command} "
                f"command: give the roster another name in the pack ({where})."
            )
        if roster.command in seen:
            twice = f"the pack declares the roster command /{roster.command} twice"
            return f"{twice}: give each roster its own name ({where})."
        seen.add(roster.command)
    return None
