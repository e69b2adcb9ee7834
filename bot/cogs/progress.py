"""/progress: a user's own watch progress, used for private replies."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.episodes import add_cog, episode_option
from bot.replies import defer, lore_for, send


class Progress(commands.GroupCog, group_name="progress", group_description="Your own watch progress"):
    def __init__(self, bot: commands.Bot):
        self.bot = bot
        super().__init__()

    @app_commands.command(name="set", description="Set how far you have watched (used by private replies)")
    @app_commands.describe(episode="The last episode you have watched, {first} to {last}")
    @episode_option(episode=0)
    async def set_(self, interaction: discord.Interaction, episode: int) -> None:
        await defer(interaction)
        await lore_for(interaction).set_progress(interaction.user.id, episode)
        await send(
            interaction,
            f"Got it: you have watched up to episode **{episode}**. Add `private:True` to any lookup "
            "to get an answer only you can see, gated by your progress.",
            ephemeral=True,
        )

    @app_commands.command(name="show", description="Show the progress you have set")
    async def show(self, interaction: discord.Interaction) -> None:
        episode = lore_for(interaction).progress(interaction.user.id)
        if episode is None:
            text = "You have not set your progress. Use `/progress set` to set it."
        else:
            text = f"You have watched up to episode **{episode}**."
        await send(interaction, text, ephemeral=True)

    @app_commands.command(name="clear", description="Forget your progress")
    async def clear(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        lore = lore_for(interaction)
        had = lore.progress(interaction.user.id) is not None
        await lore.set_progress(interaction.user.id, None)
        text = "Your progress is cleared." if had else "You had no progress set; nothing to clear."
        await send(interaction, text, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await add_cog(bot, Progress(bot))
