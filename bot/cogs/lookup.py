"""Lookup commands for everyone: /lore, /character, /faction, /concept, the roster commands the
pack declares, /episode, /search."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, limits
from bot.episodes import bind_episodes, episode_option, franchise_of
from bot.ratelimit import heavy, limits_of
from bot.replies import lore_for, policy_for, send
from bot.views import DidYouMean, Paginator
from lore import Candidate, FeaturedRoster, Kind, LoreService, Policy, echo, escape

#: Value of the single "no match" autocomplete choice (Discord caches an empty list of choices).
NO_MATCH = "\u2063no-match"
CONCEPT_KINDS = (Kind.CONCEPT, Kind.LOCATION)
#: A weak match at least this good is offered as "did you mean"; below it, the user gets suggestions.
DID_YOU_MEAN_FLOOR = 60.0
PRIVATE_HELP = "Only you see the reply, gated by your own /progress instead of this channel's setting"


def choices_for(candidates: Iterable[Candidate], current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete choices: the shown label resolves to exactly that entry (value = its slug)."""
    out = [
        app_commands.Choice(name=limits.shorten(c.label, limits.CHOICE_NAME), value=c.slug)
        for c in list(candidates)[: limits.CHOICES]
    ]
    if not out:
        label = limits.shorten(f"No match for “{current.strip()}”", limits.CHOICE_NAME) if current.strip() else None
        out = [app_commands.Choice(name=label or "Nothing to show at this episode", value=NO_MATCH)]
    return out


async def autocomplete_entries(
    interaction: discord.Interaction, current: str, kinds: Iterable[Kind] | None
) -> list[app_commands.Choice[str]]:
    """Spoiler-aware autocomplete under the policy the reply would use (``private`` included)."""
    if limits_of(interaction).too_long(current):
        return [app_commands.Choice(name=f"Type at most {limits_of(interaction).max_query} characters", value=NO_MATCH)]
    private = bool(getattr(interaction.namespace, "private", False))
    policy = policy_for(interaction, private)
    lore = lore_for(interaction)
    return choices_for(lore.complete(current, policy, interaction.guild_id, kinds), current)


async def reply_pages(interaction: discord.Interaction, pages: list[discord.Embed], *, ephemeral: bool) -> None:
    if len(pages) <= 1:
        await send(interaction, embeds=pages, ephemeral=ephemeral)
        return
    view = Paginator(pages, interaction.user.id)
    view.message = await send(interaction, embeds=[pages[0]], view=view, ephemeral=ephemeral)


def no_match_message(query: str, suggestions: list[Candidate], later: str | None = None) -> str:
    text = f"I found nothing called “{echo(query)}”"
    if suggestions:
        names = ", ".join(f"**{escape(c.name)}**" for c in suggestions[:5])
        text += f". Closest: {names}."
    else:
        text += "."
    return text + (f"\n{later}" if later else "")


def did_you_mean_message(query: str, later: str | None = None) -> str:
    return f"“{echo(query)}” could be more than one thing. Did you mean…" + (f"\n{later}" if later else "")


@dataclass(slots=True)
class Planned:
    """What a lookup answers with: a card (``pages``), a pick (``content`` and ``candidates`` for
    the "did you mean" select) or a miss (``content`` with the closest names)."""

    pages: list[discord.Embed] = field(default_factory=list)
    content: str | None = None
    candidates: list[Candidate] = field(default_factory=list)


def plan_answer(
    lore: LoreService,
    query: str,
    kinds: Iterable[Kind] | None,
    policy: Policy,
    guild_id: int | None,
    *,
    within: frozenset[str] | None = None,
) -> Planned:
    """The reply to a lookup, decided from the service's answer (shared by every lookup command);
    only entries with a slug in ``within`` are considered, when given."""
    result = lore.ask(query, policy, guild_id, kinds, within)
    if result.view is not None:
        return Planned(pages=embeds.entry_pages(result.view, lore.franchise))
    later = result.note
    candidates = result.result.candidates
    if candidates and (result.result.ambiguous or candidates[0].score >= DID_YOU_MEAN_FLOOR):
        return Planned(content=did_you_mean_message(query, later), candidates=candidates)
    return Planned(content=no_match_message(query, candidates, later))


def roster_choices(
    lore: LoreService, group: str, current: str, policy: Policy, guild_id: int | None
) -> list[app_commands.Choice[str]]:
    """Autocomplete of a roster command's member: the members the roster shows."""
    members = lore.roster_members(group, policy, guild_id) or frozenset()
    return choices_for(lore.complete(current, policy, guild_id, (Kind.CHARACTER,), within=members), current)


def episode_reply(lore: LoreService, number: int, policy: Policy, guild_id: int | None) -> Planned:
    """/episode: the episode's card (its number and air date at least), else a sentence."""
    view = lore.episode(number, policy, guild_id)
    if view is None:
        franchise = lore.franchise
        return Planned(
            content=f"{franchise.label(number, capital=True)} is beyond the spoiler setting here "
            f"(up to {franchise.label(policy.episode)})."
        )
    return Planned(pages=embeds.entry_pages(view, lore.franchise))


async def answer(
    interaction: discord.Interaction,
    query: str,
    kinds: Iterable[Kind] | None,
    private: bool,
    *,
    within: frozenset[str] | None = None,
) -> None:
    """Resolve ``query`` and answer: the entry card, a "did you mean" select, or suggestions."""
    if query == NO_MATCH:
        await send(interaction, "Type a name, or pick one of the suggestions.", ephemeral=True)
        return
    if limits_of(interaction).too_long(query):
        await send(interaction, limits_of(interaction).too_long_message(), ephemeral=True)
        return
    policy = policy_for(interaction, private)
    planned = plan_answer(lore_for(interaction), query, kinds, policy, interaction.guild_id, within=within)
    if planned.pages:
        await reply_pages(interaction, planned.pages, ephemeral=private)
    elif planned.candidates:
        await did_you_mean(interaction, planned.content or "", planned.candidates, policy, private)
    else:
        await send(interaction, planned.content, ephemeral=True)


def picked_pages(lore: LoreService, slug: str, policy: Policy, guild_id: int | None) -> list[discord.Embed] | None:
    """The card a "did you mean" option opens (None when the entry is no longer available)."""
    entry = lore.get(slug, guild_id)
    view = lore.render(entry, policy, guild_id) if entry else None
    return embeds.entry_pages(view, lore.franchise) if view is not None else None


async def did_you_mean(
    interaction: discord.Interaction, text: str, candidates: list[Candidate], policy: Policy, private: bool
) -> None:
    async def chosen(choice: discord.Interaction, slug: str) -> None:
        pages = picked_pages(lore_for(choice), slug, policy, choice.guild_id)
        if pages is None:
            await choice.response.edit_message(content="That entry is no longer available.", view=None, embeds=[])
            return
        if len(pages) == 1:
            await choice.response.edit_message(content=None, embeds=pages, view=None)
        else:
            pager = Paginator(pages, choice.user.id)
            await choice.response.edit_message(content=None, embeds=[pages[0]], view=pager)
            pager.message = choice.message

    picker = DidYouMean(candidates, interaction.user.id, chosen)
    picker.message = await send(interaction, text, view=picker, ephemeral=private)


class Lookup(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot

    # -- /lore -------------------------------------------------------------------------------
    @app_commands.command(name="lore", description="Look up anything: characters, factions, concepts, episodes")
    @app_commands.describe(query="A name, alias or partial name (typos are fine)", private=PRIVATE_HELP)
    async def lore(self, interaction: discord.Interaction, query: str, private: bool = False) -> None:
        await answer(interaction, query, None, private)

    @lore.autocomplete("query")
    async def _lore_ac(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await autocomplete_entries(interaction, current, None)

    # -- /character --------------------------------------------------------------------------
    @app_commands.command(name="character", description="A character's card: affiliation, status, relations")
    @app_commands.describe(name="The character's name or alias", private=PRIVATE_HELP)
    async def character(self, interaction: discord.Interaction, name: str, private: bool = False) -> None:
        await answer(interaction, name, (Kind.CHARACTER,), private)

    @character.autocomplete("name")
    async def _character_ac(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await autocomplete_entries(interaction, current, (Kind.CHARACTER,))

    # -- /faction ----------------------------------------------------------------------------
    @app_commands.command(name="faction", description="A faction, organisation or species")
    @app_commands.describe(name="The faction's name", private=PRIVATE_HELP)
    async def faction(self, interaction: discord.Interaction, name: str, private: bool = False) -> None:
        await answer(interaction, name, (Kind.FACTION,), private)

    @faction.autocomplete("name")
    async def _faction_ac(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await autocomplete_entries(interaction, current, (Kind.FACTION,))

    # -- /concept ----------------------------------------------------------------------------
    @app_commands.command(name="concept", description="A concept or a place of the setting")
    @app_commands.describe(name="The concept or place", private=PRIVATE_HELP)
    async def concept(self, interaction: discord.Interaction, name: str, private: bool = False) -> None:
        await answer(interaction, name, CONCEPT_KINDS, private)

    @concept.autocomplete("name")
    async def _concept_ac(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await autocomplete_entries(interaction, current, CONCEPT_KINDS)

    # -- the roster commands the pack declares come here: see roster_command -------------------

    # -- /episode ----------------------------------------------------------------------------
    @app_commands.command(name="episode", description="An episode: title, air date and synopsis")
    @app_commands.describe(number="Episode number, {first} to {last}", private=PRIVATE_HELP)
    @episode_option(number=1)
    async def episode(
        self,
        interaction: discord.Interaction,
        number: int,
        private: bool = False,
    ) -> None:
        planned = episode_reply(lore_for(interaction), number, policy_for(interaction, private), interaction.guild_id)
        if planned.pages:
            await reply_pages(interaction, planned.pages, ephemeral=private)
        else:
            await send(interaction, planned.content, ephemeral=True)

    # -- /search -----------------------------------------------------------------------------
    @app_commands.command(name="search", description="Search the text of all lore (names, summaries, facts)")
    @app_commands.describe(text="Words to look for", private=PRIVATE_HELP)
    @heavy("search")
    async def search(
        self, interaction: discord.Interaction, text: app_commands.Range[str, 1, 100], private: bool = False
    ) -> None:
        await interaction.response.defer(ephemeral=private, thinking=True)
        lore = lore_for(interaction)
        policy = policy_for(interaction, private)
        results = await lore.search_text(text, policy, interaction.guild_id)
        await reply_pages(interaction, embeds.search_pages(results, policy, lore.franchise), ephemeral=private)


def roster_command(spec: FeaturedRoster) -> app_commands.Command[Any, ..., None]:
    """The command a pack declares for a featured roster (``pack.rosters``): the roster of
    ``spec.group``, or one member's card, with autocomplete over the members the roster shows."""

    async def show_roster(interaction: discord.Interaction, member: str | None = None, private: bool = False) -> None:
        lore = lore_for(interaction)
        policy = policy_for(interaction, private)
        missing = f"{spec.title} are not part of this server's lore."
        if member is None:
            roster = lore.roster(spec.group, policy, interaction.guild_id)
            if roster is None:
                await send(interaction, missing, ephemeral=True)
                return
            await reply_pages(interaction, embeds.roster_pages(roster, lore.franchise), ephemeral=private)
            return
        members = lore.roster_members(spec.group, policy, interaction.guild_id)
        if members is None:
            await send(interaction, missing, ephemeral=True)
            return
        await answer(interaction, member, (Kind.CHARACTER,), private, within=members)

    async def member_ac(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if limits_of(interaction).too_long(current):
            return await autocomplete_entries(interaction, current, (Kind.CHARACTER,))
        private = bool(getattr(interaction.namespace, "private", False))
        lore = lore_for(interaction)
        return roster_choices(lore, spec.group, current, policy_for(interaction, private), interaction.guild_id)

    described = app_commands.describe(member=spec.member, private=PRIVATE_HELP)(show_roster)
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=spec.command, description=spec.description, callback=described
    )
    command.autocomplete("member")(member_ac)
    return command


async def setup(bot: commands.Bot) -> None:
    franchise = franchise_of(bot)
    cog = Lookup(bot)
    bind_episodes(cog, franchise)
    # The pack's roster commands take the place the canon's roster always had (after /concept): the
    # synced tree, and so its hash, stays what installs already have.
    # (A roster named like another command is refused before: bot.names.roster_clash.)
    own = list(cog.__cog_app_commands__)
    at = next((i + 1 for i, c in enumerate(own) if c.name == "concept"), len(own))
    cog.__cog_app_commands__ = own[:at] + [roster_command(spec) for spec in franchise.rosters] + own[at:]
    await bot.add_cog(cog)
