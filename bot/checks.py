"""Run-time permission checks (server owners can re-grant commands in their integration settings)."""

from __future__ import annotations

import discord
from discord import app_commands


def guild_id_of(interaction: discord.Interaction) -> int:
    """The server an interaction comes from; a server-only command run elsewhere is refused."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def admin_group_check(interaction: discord.Interaction) -> bool:
    """Manage Server, checked again at run time whatever the command's default permissions say."""
    from bot.errors import AdminOnly

    guild_id_of(interaction)
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return True
    raise AdminOnly()
