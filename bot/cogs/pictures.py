"""/relations and /timeline: pictures of the lore, drawn only from what the policy reveals."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, limits
from bot.cogs.lookup import NO_MATCH, PRIVATE_HELP, autocomplete_entries, no_match_message
from bot.episodes import add_cog, episode_option
from bot.pictures.painter import Painter, Picture, PictureError
from bot.ratelimit import heavy, limits_of
from bot.replies import lore_for, policy_for, send
from lore import MAX_NODES, Answer, Franchise, Kind, Mode, Policy, RelationGraph, echo, escape, last_episode

#: Discord's smallest upload limit (a server without boosts); a picture is far below it.
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024


def _file(picture: Picture) -> discord.File:
    return discord.File(io.BytesIO(picture.data), filename=picture.filename)


def _fits(interaction: discord.Interaction, pictures: list[Picture]) -> bool:
    limit = getattr(interaction, "filesize_limit", None) or DEFAULT_ATTACHMENT_LIMIT
    return all(len(p.data) <= limit for p in pictures)


def _reach_text(policy: Policy, franchise: Franchise) -> str:
    return f"up to {franchise.label(policy.episode)}" if policy.mode is not Mode.SHOW else "every episode"


def relations_miss(answer: Answer, name: str) -> str:
    """What /relations answers when ``name`` finds no entry to draw: the choices, or the closest names."""
    candidates = answer.result.candidates
    if answer.result.ambiguous and candidates:
        names = ", ".join(f"**{escape(c.name)}**" for c in candidates[:5])
        text = f"“{echo(name)}” could be more than one thing: {names}. Pick one."
        return text + (f"\n{answer.note}" if answer.note else "")
    return no_match_message(name, candidates, answer.note)


def relations_caption(graph: RelationGraph) -> str:
    """The sentence above a relation map: how many entries it draws, and how many it left out."""
    count = len(graph.nodes) - 1
    text = (
        f"{count} related entr{'y' if count == 1 else 'ies'} within {graph.depth} "
        f"step{'s' if graph.depth > 1 else ''}, as far as the spoiler setting here reveals."
        if count
        else "No relations to draw at this spoiler setting."
    )
    if graph.trimmed:
        text += f" {graph.trimmed} more are not drawn, to keep the map legible (at most {MAX_NODES} entries)."
    return text


class Pictures(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot
        self.painter = Painter()

    # Pillow, the fonts (27 MB) and networkx (11 MB) load with the first picture a process draws, in the
    # painter's worker (about a quarter second, once): a bot whose servers draw none never holds them.

    async def cog_unload(self) -> None:
        self.painter.close()

    # -- /relations ----------------------------------------------------------------------------
    @app_commands.command(name="relations", description="A picture of an entry and its relations, up to your episode")
    @app_commands.describe(
        name="A character, faction, concept or place",
        depth="1: its own relations; 2: also theirs",
        private=PRIVATE_HELP,
    )
    @app_commands.choices(
        depth=[app_commands.Choice(name="1 (direct relations)", value=1), app_commands.Choice(name="2", value=2)]
    )
    @heavy("pictures")
    async def relations(
        self, interaction: discord.Interaction, name: str, depth: int = 1, private: bool = False
    ) -> None:
        if name == NO_MATCH:
            await send(interaction, "Type a name, or pick one of the suggestions.", ephemeral=True)
            return
        if limits_of(interaction).too_long(name):
            await send(interaction, limits_of(interaction).too_long_message(), ephemeral=True)
            return
        lore = lore_for(interaction)
        policy = policy_for(interaction, private)
        guild_id = interaction.guild_id
        answer = lore.ask(name, policy, guild_id)
        view = answer.view
        if view is None:
            await send(interaction, relations_miss(answer, name), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        try:
            drawn = await self.painter.relations(lore, view.slug, policy, guild_id, max(1, min(depth, 2)))
        except PictureError as e:
            await send(interaction, str(e), ephemeral=True)
            return
        if drawn is None:  # the entry changed while the map was drawn
            await send(interaction, "That entry is no longer available.", ephemeral=True)
            return
        if not _fits(interaction, [drawn.picture]):
            await send(interaction, "This map is too large to upload here; try depth:1.", ephemeral=True)
            return
        graph = drawn.graph
        count = len(graph.nodes) - 1
        embed = discord.Embed(
            title=limits.shorten(f"Relations: {view.title}", limits.EMBED_TITLE),
            colour=embeds.colour_for(view),
            description=relations_caption(graph),
        )
        embed.set_footer(text=embeds.footer_text(policy, franchise=lore.franchise))
        if not count:  # a lone box tells nothing the sentence does not
            await send(interaction, embeds=[embed], ephemeral=private)
            return
        embed.set_image(url=f"attachment://{drawn.picture.filename}")
        await send(interaction, embeds=[embed], files=[_file(drawn.picture)], ephemeral=private)

    @relations.autocomplete("name")
    async def _relations_ac(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await autocomplete_entries(interaction, current, None)

    # -- /timeline -----------------------------------------------------------------------------
    @app_commands.command(name="timeline", description="A picture of the story episode by episode, up to your episode")
    @app_commands.describe(
        first="First episode ({first} to {last})",
        last="Last episode ({first} to {last}; default: the last one the spoiler setting reaches)",
        private=PRIVATE_HELP,
    )
    @app_commands.rename(first="from", last="to")
    @heavy("pictures")
    @episode_option(first=1, last=1)
    async def timeline(
        self,
        interaction: discord.Interaction,
        first: int = 1,
        last: int | None = None,
        private: bool = False,
    ) -> None:
        lore = lore_for(interaction)
        policy = policy_for(interaction, private)
        reach = last_episode(lore, policy)
        if last is not None and first > last:
            await send(interaction, "`from` must not come after `to`.", ephemeral=True)
            return
        if first > reach:
            where = "your progress" if policy.source.value == "your progress" else "the spoiler setting here"
            await send(
                interaction,
                f"{lore.franchise.label(first, capital=True)} is beyond {where} "
                f"(up to {lore.franchise.label(policy.episode)}): nothing to draw.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        try:
            pages = await self.painter.timeline(lore, policy, interaction.guild_id, first, last)
        except PictureError as e:
            await send(interaction, str(e), ephemeral=True)
            return
        if not pages:
            await send(interaction, "No episode to show in that range at this spoiler setting.", ephemeral=True)
            return
        if not _fits(interaction, pages):
            text = "This timeline is too large to upload here; ask for fewer episodes."
            await send(interaction, text, ephemeral=True)
            return
        pages = pages[: limits.EMBEDS_PER_MESSAGE]
        out = []
        for i, page in enumerate(pages, 1):
            title = "Timeline" + (f" ({i}/{len(pages)})" if len(pages) > 1 else "")
            embed = discord.Embed(title=title, colour=embeds.kind_colour(lore.franchise, Kind.EPISODE))
            if i == 1:
                embed.description = f"Titles, deaths and identity reveals, {_reach_text(policy, lore.franchise)}."
            embed.set_image(url=f"attachment://{page.filename}")
            embed.set_footer(text=embeds.footer_text(policy, franchise=lore.franchise))
            out.append(embed)
        await send(interaction, embeds=out, files=[_file(p) for p in pages], ephemeral=private)


async def setup(bot: commands.Bot) -> None:
    await add_cog(bot, Pictures(bot))
