"""Run-time permission checks (server owners can re-grant commands in their integration settings)."""

from __future__ import annotations

import discord


async def admin_group_check(interaction: discord.Interaction) -> bool:
    """Manage Server, checked again at run time whatever the command's default permissions say."""
    from bot.app import AdminOnly

    if interaction.guild_id is None:
        from discord import app_commands

        raise app_commands.NoPrivateMessage()
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return True
    raise AdminOnly()
