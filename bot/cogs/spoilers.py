"""/spoilers: a server's spoiler policy and per-channel overrides (Manage Server)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import admin_group_check, guild_id_of
from bot.replies import defer, lore_of, policy_for, send
from lore import DEFAULT_POLICY, MAX_EPISODE, Mode, Setting


class _OverrideChannel(app_commands.Transformer):
    """A channel that may carry an override: text, announcement or forum. Threads and forum posts
    follow their parent's. (Listed explicitly: discord.py would add media channels to a forum
    annotation, a type that Discord's published API description does not accept here.)"""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.forum]

    async def transform(
        self, interaction: discord.Interaction, value: app_commands.AppCommandChannel, /
    ) -> app_commands.AppCommandChannel:
        return value


OverrideChannel = app_commands.Transform[app_commands.AppCommandChannel, _OverrideChannel]
CHANNEL_HELP = "Only this channel (its threads and forum posts follow it)"

MODE_HELP = {
    Mode.HIDE: "later lore is left out, as if it did not exist",
    Mode.TAG: "as hide, plus one spoiler-tagged block of later lore in every reply",
    Mode.SHOW: "everything is shown",
}


def _setting_text(setting: Setting) -> str:
    parts = []
    if setting.episode is not None:
        parts.append(f"up to episode {setting.episode}")
    if setting.mode is not None:
        parts.append(f"mode {setting.mode.value}")
    return ", ".join(parts) or "not set"


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Spoilers(commands.GroupCog, group_name="spoilers", group_description="Spoiler settings for this server"):
    def __init__(self, bot: commands.Bot):
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await admin_group_check(interaction)

    @app_commands.command(name="status", description="The spoiler policy in force here, and every channel override")
    async def status(self, interaction: discord.Interaction) -> None:
        lore = lore_of(interaction).lore
        guild_id = guild_id_of(interaction)
        here = policy_for(interaction)
        server = lore.server_setting(guild_id)
        lines = [
            f"**In force in this channel:** up to episode {here.episode} · {here.mode.value} ({MODE_HELP[here.mode]})",
            f"**Server setting:** {_setting_text(server)}"
            + ("" if not server.empty else f" (default: episode {DEFAULT_POLICY.episode}, {DEFAULT_POLICY.mode})"),
        ]
        overrides = lore.channel_overrides(guild_id)
        if overrides:
            lines.append("**Channel overrides:**")
            for channel_id, setting in sorted(overrides.items()):
                lines.append(f"• <#{channel_id}>: {_setting_text(setting)}")
        else:
            lines.append("**Channel overrides:** none")
        await send(interaction, "\n".join(lines), ephemeral=True)

    @app_commands.command(name="episode", description="Set how far this server (or one channel) has watched")
    @app_commands.describe(number=f"Episodes watched, 0 to {MAX_EPISODE}", channel=CHANNEL_HELP)
    async def episode(
        self,
        interaction: discord.Interaction,
        number: app_commands.Range[int, 0, MAX_EPISODE],
        channel: OverrideChannel | None = None,
    ) -> None:
        await defer(interaction)
        lore = lore_of(interaction).lore
        await lore.set_policy(guild_id_of(interaction), channel_id=channel.id if channel else None, episode=number)
        where = channel.mention if channel else "this server"
        await send(interaction, f"Spoilers in {where}: up to episode **{number}**.", ephemeral=True)

    @app_commands.command(name="mode", description="How lore beyond the episode setting is shown")
    @app_commands.describe(mode="hide, tag (spoiler tags) or show", channel=CHANNEL_HELP)
    @app_commands.choices(mode=[app_commands.Choice(name=f"{m.value} — {MODE_HELP[m]}", value=m.value) for m in Mode])
    async def mode(
        self,
        interaction: discord.Interaction,
        mode: app_commands.Choice[str],
        channel: OverrideChannel | None = None,
    ) -> None:
        await defer(interaction)
        lore = lore_of(interaction).lore
        new = Mode(mode.value)
        await lore.set_policy(guild_id_of(interaction), channel_id=channel.id if channel else None, mode=new)
        where = channel.mention if channel else "this server"
        await send(interaction, f"Spoiler mode in {where}: **{new.value}** ({MODE_HELP[new]}).", ephemeral=True)

    @app_commands.command(name="reset", description="Remove a channel's override (it follows the server again)")
    @app_commands.describe(channel="The channel to reset")
    async def reset(self, interaction: discord.Interaction, channel: OverrideChannel) -> None:
        await defer(interaction)
        lore = lore_of(interaction).lore
        existed = await lore.reset_channel(guild_id_of(interaction), channel.id)
        text = (
            f"{channel.mention} follows the server's spoiler setting again."
            if existed
            else f"{channel.mention} had no override; nothing changed."
        )
        await send(interaction, text, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Spoilers(bot))
