"""/lore-admin as an extension: the cog (:mod:`.cog`) and its entry form (:mod:`.form`)."""

from __future__ import annotations

from discord.ext import commands

from bot.cogs.lore_admin.cog import LoreAdmin


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(LoreAdmin(bot))
