"""The bot's errors and its one error path: commands, buttons, selects and forms all end in
:func:`report_error`, which answers with a short ephemeral sentence and logs what was unexpected.

Domain refusals (:mod:`lore.errors`) carry their own sentence; the adapter adds its own here
(a check that failed, a form submitted by the wrong person). Anything else is a bug: the user gets
a neutral sentence, the log gets the traceback with what was being answered."""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Literal

import discord
from discord import app_commands

from bot.replies import send
from lore import LoreError, LoreFault, PackError, WriteFault, sqlite_reason

log = logging.getLogger("lorebot")

#: The answer to a button, select or form the bot no longer knows (it restarted, or the id is unknown).
EXPIRED = "This menu has expired — run the command again."
MANAGE_SERVER = "You need the **Manage Server** permission to use this command."

Source = Literal["command", "component", "form"]


class AdminOnly(app_commands.CheckFailure):
    """Raised when a member without Manage Server reaches an admin command."""


class Refused(Exception):
    """The bot refuses this interaction; the message says why (nothing was changed)."""


class StartupError(RuntimeError):
    """The bot cannot start as configured; the message says why."""


def message_for(error: BaseException) -> str | None:
    """The sentence for an expected failure, or None for a bug."""
    original = getattr(error, "original", error)
    if isinstance(error, AdminOnly | app_commands.MissingPermissions):
        return MANAGE_SERVER
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(original, Refused | LoreError):
        return str(original)
    if isinstance(original, PackError):
        return "That lore pack is not valid: " + "; ".join(original.errors[:5])
    if isinstance(original, WriteFault):  # busy, disk full, read-only, damaged: its own sentence (no path)
        return str(original)
    if isinstance(original, LoreFault):  # its detail (paths, SQLite's words) goes to the log only
        return "The lore database cannot be used right now; nothing was changed. Please try again later."
    if isinstance(original, sqlite3.Error):  # a read that failed
        reason = sqlite_reason(original)
        return f"{reason[0].upper()}{reason[1:]}; nothing was changed. The error was logged."
    if isinstance(error, app_commands.TransformerError):
        return "One of the options has a value I cannot use."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use this command here."
    return None


def _context(interaction: discord.Interaction, source: Source) -> str:
    if source == "command":
        command = interaction.command.qualified_name if interaction.command else "?"
        options = interaction.data.get("options", []) if interaction.data else []
        return f"command /{command} (options {json.dumps(options, default=str)[:500]})"
    custom_id = interaction.data.get("custom_id", "?") if interaction.data else "?"
    return f"{source} {custom_id!r}"


async def report_error(
    interaction: discord.Interaction, error: BaseException, *, source: Source = "command", where: str = ""
) -> None:
    """Answer ``interaction`` with the sentence for ``error`` (ephemeral, through ``response`` or
    ``followup``); log the traceback of anything unexpected, with what was being answered."""
    message = message_for(error)
    original = getattr(error, "original", error)
    if isinstance(original, LoreFault):
        log.warning("%s: %s", _context(interaction, source), original)
    elif isinstance(original, sqlite3.Error):
        log.error("%s: database error", _context(interaction, source), exc_info=original)
    if message is None:
        log.error("%s%s failed", _context(interaction, source), f" in {where}" if where else "", exc_info=original)
        if source == "form":
            message = "Something went wrong while saving. The error was logged; nothing changed."
        else:
            message = "Something went wrong while answering. The error was logged; please try again."
    try:
        await send(interaction, message, ephemeral=True)
    except discord.HTTPException:  # the interaction expired or was answered meanwhile: nothing to tell
        log.warning("could not report an error to the user (%s)", _context(interaction, source), exc_info=True)
