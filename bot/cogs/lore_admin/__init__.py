"""/lore-admin as an extension: the cog (:mod:`.cog`) and its entry form (:mod:`.form`)."""

from __future__ import annotations

from discord.ext import commands

from bot.cogs.lore_admin.cog import LoreAdmin
from bot.episodes import add_cog


async def setup(bot: commands.Bot) -> None:
    await add_cog(bot, LoreAdmin(bot))
