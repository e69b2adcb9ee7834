"""/help and /about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, limits
from bot.replies import lore_for, policy_for, send
from lore import Kind, LoreService, Policy, __version__

AnyCommand = app_commands.Command[Any, ..., Any] | app_commands.Group | app_commands.ContextMenu


def _walk(commands_: Sequence[AnyCommand], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for cmd in sorted(commands_, key=lambda c: c.name):
        if isinstance(cmd, app_commands.Group):
            out.extend(_walk(list(cmd.commands), f"{prefix}{cmd.name} "))
        elif isinstance(cmd, app_commands.Command):  # message commands are not slash commands
            out.append((f"/{prefix}{cmd.name}", cmd.description))
    return out


class Info(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot

    @app_commands.command(name="help", description="Every command, and the spoiler policy in this channel")
    async def help(self, interaction: discord.Interaction) -> None:
        policy = policy_for(interaction)
        rows = _walk(self.bot.tree.get_commands())
        menus = sorted(self.bot.tree.get_commands(type=discord.AppCommandType.message), key=lambda c: c.name)
        message_rows = [(c.name, str(c.extras.get("help", ""))) for c in menus]
        public = [r for r in rows if not r[0].startswith(("/spoilers", "/lore-admin"))]
        admin = [r for r in rows if r[0].startswith(("/spoilers", "/lore-admin"))]
        franchise = lore_for(interaction).franchise
        embed = discord.Embed(
            title=limits.shorten(franchise.bot.name, limits.EMBED_TITLE),
            colour=embeds.kind_colour(franchise, Kind.SERIES),
            description=(
                f"**Spoilers here:** up to {franchise.label(policy.episode)} · {policy.mode.value} "
                f"({policy.source.value}).\n"
                "Names accept typos, aliases and Japanese. Add `private:True` to a lookup for an answer only you "
                "see, gated by your `/progress`."
            ),
        )
        groups = (
            ("Commands", [(f"`{name}`", desc) for name, desc in public]),
            ("Message commands (right-click a message → Apps)", [(f"**{name}**", desc) for name, desc in message_rows]),
            ("Server managers (Manage Server)", [(f"`{name}`", desc) for name, desc in admin]),
        )
        for title, group in groups:
            lines = [f"{name} — {desc}" for name, desc in group]
            for i, block in enumerate(limits.pack_lines(lines, limits.FIELD_VALUE)):
                embed.add_field(name=title if i == 0 else f"{title} (cont.)", value=block, inline=False)
        embed.set_footer(text=embeds.footer_text(policy, franchise=lore_for(interaction).franchise))
        await send(interaction, embeds=[embed], ephemeral=True)

    @app_commands.command(name="about", description="About the series and this bot")
    async def about(self, interaction: discord.Interaction) -> None:
        pages = about_pages(lore_for(interaction), policy_for(interaction), interaction.guild_id, __version__)
        await send(interaction, embeds=pages, ephemeral=True)


def about_pages(lore: LoreService, policy: Policy, guild_id: int | None, version: str) -> list[discord.Embed]:
    """The series card and the bot's own card (its entry count is of what this channel may see)."""
    pages: list[discord.Embed] = []
    franchise = lore.franchise
    series = lore.get(franchise.series, guild_id) if franchise.series else None
    view = lore.render(series, policy, guild_id) if series else None
    if view is not None:
        pages = embeds.entry_pages(view, franchise)[:1]
    meta = lore.canon_meta
    about = discord.Embed(title="About this bot", colour=embeds.NEUTRAL)
    about.add_field(name="Bot version", value=version, inline=True)
    about.add_field(name="Lore pack", value=f"{meta.name} v{meta.version}", inline=True)
    about.add_field(name="Entries", value=str(lore.entry_count(policy, guild_id)), inline=True)
    sources = f"{len(meta.sources)} sources"
    note = (
        f"{franchise.bot.about} ({sources})" if franchise.bot.about else f"Every fact records its source ({sources})."
    )
    about.add_field(name="Where the lore comes from", value=limits.shorten(note, limits.FIELD_VALUE))
    about.set_footer(text=embeds.footer_text(policy, franchise=franchise))
    pages.append(about)
    return pages


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Info(bot))
