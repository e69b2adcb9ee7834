"""Message commands (right-click a message → Apps): "Look up lore" and "Check for spoilers".

Discord sends a message command the message it was run on, content included, without the
privileged message-content intent. Both answer only the member who ran them (ephemeral).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, limits
from bot.errors import Refused
from bot.replies import NO_MENTIONS, defer, lore_for, policy_for, send
from bot.views import OwnedView, Paginator
from lore import (
    EntryView,
    Franchise,
    LoreService,
    Policy,
    catalog_for,
    check_spoilers,
    escape,
    lookup_names,
    spoiler_tagged,
    verdict_text,
)

log = logging.getLogger(__name__)

LOOK_UP = "Look up lore"
CHECK = "Check for spoilers"
LOOK_UP_HELP = "Right-click a message → Apps: the lore it names, gated by your /progress (only you see it)"
CHECK_HELP = (
    "Right-click a message → Apps: does it give away anything after this channel's episode? "
    "The verdict is behind spoiler tags; members with Manage Messages can repost the message tagged"
)
NEEDS_MANAGE_MESSAGES = "You need the **Manage Messages** permission in this channel to repost messages."
#: Characters of the original per reposted piece: escaped (at most doubled) and tagged, it fits a message.
PIECE = 900


def pieces(text: str, size: int = PIECE) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters, at whitespace where there is some."""
    out: list[str] = []
    rest = text.strip()
    while len(rest) > size:
        cut = rest.rfind(" ", 0, size + 1)
        cut = max(cut, rest.rfind("\n", 0, size + 1))
        if cut < size // 2:
            cut = size
        out.append(rest[:cut])
        rest = rest[cut:].lstrip()
    if rest:
        out.append(rest)
    return out


def repost_messages(author: discord.abc.User, moderator: discord.abc.User, text: str) -> list[str]:
    """The messages that repost ``text`` under spoiler tags, credited to ``author`` (a mention that
    never pings: every message is sent with ``AllowedMentions.none()``)."""
    header = (
        f"**{escape(author.display_name)}** ({author.mention}) wrote — hidden as a possible spoiler by "
        f"{escape(moderator.display_name)}:"
    )
    header = limits.shorten(header, 400)
    out = [header]
    for piece in pieces(text):
        tagged = spoiler_tagged(piece)
        if len(out[-1]) + 1 + len(tagged) <= limits.CONTENT:
            out[-1] += "\n" + tagged
        else:
            out.append(tagged)
    return out


class Repost(OwnedView):
    """The moderator's button under a spoiler check: repost the message tagged, delete the original."""

    def __init__(self, owner_id: int, message: discord.Message):
        super().__init__(owner_id)
        self.target = message

    @discord.ui.button(label="Repost under spoiler tags", style=discord.ButtonStyle.danger, emoji="🔒")
    async def repost(self, interaction: discord.Interaction, _: discord.ui.Button[OwnedView]) -> None:
        perms = interaction.permissions
        if interaction.guild_id is None or not (perms.manage_messages or perms.administrator):
            raise Refused(NEEDS_MANAGE_MESSAGES)
        self.stop()
        await defer(interaction)
        text = await self._repost(interaction)
        await interaction.edit_original_response(content=text, view=None, allowed_mentions=NO_MENTIONS)

    async def _repost(self, interaction: discord.Interaction) -> str:
        message = self.target
        app = interaction.app_permissions
        in_thread = isinstance(interaction.channel, discord.Thread)
        if not (app.send_messages_in_threads if in_thread else app.send_messages):
            return "I cannot post in this channel (I need the **Send Messages** permission there); nothing was changed."
        files: list[discord.File] = []
        kept_attachments = True
        for att in message.attachments:
            try:
                files.append(await att.to_file(spoiler=True))
            except discord.HTTPException:
                kept_attachments = False
        if sum(a.size for a in message.attachments) > interaction.filesize_limit:
            files, kept_attachments = [], False
        if not message.content.strip() and not files:
            return "That message has no text (or files) I can repost; nothing was changed."
        texts = repost_messages(message.author, interaction.user, message.content)
        for i, text in enumerate(texts):
            if files and i == len(texts) - 1:
                await message.channel.send(text, allowed_mentions=NO_MENTIONS, files=files)
            else:
                await message.channel.send(text, allowed_mentions=NO_MENTIONS)
        who = escape(message.author.display_name)
        if not kept_attachments:
            return (
                f"Reposted the text of **{who}**'s message under spoiler tags, but not its attachments, so "
                "I left the original in place: please check it and delete it yourself."
            )
        if not (app.manage_messages or app.administrator):
            return (
                f"Reposted **{who}**'s message under spoiler tags. I could not delete the original: I need the "
                "**Manage Messages** permission in this channel. Please delete it yourself."
            )
        try:
            await message.delete()
        except discord.NotFound:
            return f"Reposted **{who}**'s message under spoiler tags; the original was already deleted."
        except discord.Forbidden:
            return (
                f"Reposted **{who}**'s message under spoiler tags, but Discord refused to let me delete the "
                "original. Please delete it yourself."
            )
        return f"Reposted **{who}**'s message under spoiler tags and deleted the original."


def listing_options(views: list[tuple[EntryView, str]]) -> list[discord.SelectOption]:
    return [
        discord.SelectOption(
            label=limits.shorten(view.title, limits.OPTION_LABEL),
            value=view.slug,
            description=limits.shorten(view.kind.value.capitalize(), limits.OPTION_DESCRIPTION),
        )
        for view, _ in views[: limits.SELECT_OPTIONS]
    ]


def listing_embed(views: list[tuple[EntryView, str]], policy: Policy, franchise: Franchise) -> discord.Embed:
    """The entries a message names, one line each: name, kind and the message's own words."""
    lines = [
        f"• **{escape(view.title)}** · {view.kind.value} — “{escape(limits.shorten(' '.join(said.split()), 60))}”"
        for view, said in views
    ]
    embed = discord.Embed(
        title="Lore named in this message",
        description=limits.pack_lines(lines, limits.EMBED_DESCRIPTION)[0],
        colour=embeds.NEUTRAL,
    )
    embed.set_footer(text=embeds.footer_text(policy, "pick one below for its card", franchise=franchise))
    return embed


@dataclass(slots=True)
class LookupPlan:
    """The answer to "Look up lore": ``content`` (the later-names block under ``tag``, or the
    sentence when nothing is named), the embeds (one entry's card pages, or the listing) and, for
    a listing, the entries its select offers."""

    content: str | None = None
    pages: list[discord.Embed] = field(default_factory=list)
    listed: list[tuple[EntryView, str]] = field(default_factory=list)

    @property
    def options(self) -> list[tuple[str, str, str | None]]:
        return [(o.label, o.value, o.description) for o in listing_options(self.listed)]


def plan_lookup(lore: LoreService, guild_id: int | None, text: str, policy: Policy) -> LookupPlan:
    found = lookup_names(catalog_for(lore, guild_id), text, policy)
    views: list[tuple[EntryView, str]] = []
    for slug, words in found.found:
        entry = lore.get(slug, guild_id)
        view = lore.render(entry, policy, guild_id) if entry is not None else None
        if view is not None:
            views.append((view, words))
    if not views:
        what = "no lore names in this message" if text.strip() else "no text in this message"
        return LookupPlan(f"I found {what}." + (f"\n{found.later}" if found.later else ""))
    if len(views) == 1:
        return LookupPlan(found.later, embeds.entry_pages(views[0][0], lore.franchise))
    return LookupPlan(found.later, [listing_embed(views, policy, lore.franchise)], views)


def check_reply(lore: LoreService, guild_id: int | None, text: str, episode: int) -> str:
    """The answer to "Check for spoilers" at a channel's episode: the verdict is one spoiler span."""
    verdict = check_spoilers(catalog_for(lore, guild_id), text, episode)
    line = lore.franchise.label(episode)
    reply = f"**Spoiler check** against this channel's line, {line}: {verdict_text(verdict)}"
    if not text.strip():
        reply += "\nThat message has no text; attachments and embeds are not checked."
    return reply


class EntryList(OwnedView):
    """The entries a message names, as one list, with a select that opens one's card."""

    def __init__(self, views: list[tuple[EntryView, str]], owner_id: int):
        super().__init__(owner_id)
        self.views = {view.slug: view for view, _ in views}
        self.select: discord.ui.Select[EntryList] = discord.ui.Select(
            placeholder="Open a card…", options=listing_options(views)
        )
        self.select.callback = self._chosen  # type: ignore[method-assign]
        self.add_item(self.select)

    async def _chosen(self, interaction: discord.Interaction) -> None:
        view = self.views[self.select.values[0]]
        pages = embeds.entry_pages(view, lore_for(interaction).franchise)
        self.stop()
        if len(pages) == 1:
            await interaction.response.edit_message(embeds=pages, view=None)
            return
        pager = Paginator(pages, interaction.user.id)
        await interaction.response.edit_message(embeds=[pages[0]], view=pager)
        pager.message = interaction.message


class Messages(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot
        self.menus = [
            app_commands.ContextMenu(name=LOOK_UP, callback=self.look_up, extras={"help": LOOK_UP_HELP}),
            app_commands.ContextMenu(name=CHECK, callback=self.check, extras={"help": CHECK_HELP}),
        ]
        for menu in self.menus:
            bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)

    async def look_up(self, interaction: discord.Interaction, message: discord.Message) -> None:
        policy = policy_for(interaction, private=True)
        plan = plan_lookup(lore_for(interaction), interaction.guild_id, message.content, policy)
        if plan.listed:
            listing = EntryList(plan.listed, interaction.user.id)
            listing.message = await send(interaction, plan.content, embeds=plan.pages, view=listing, ephemeral=True)
        elif len(plan.pages) > 1:
            pager = Paginator(plan.pages, interaction.user.id)
            pager.message = await send(interaction, plan.content, embeds=[plan.pages[0]], view=pager, ephemeral=True)
        else:
            await send(interaction, plan.content, embeds=plan.pages, ephemeral=True)

    async def check(self, interaction: discord.Interaction, message: discord.Message) -> None:
        episode = policy_for(interaction).episode
        text = check_reply(lore_for(interaction), interaction.guild_id, message.content, episode)
        perms = interaction.permissions
        view = None
        if interaction.guild_id is not None and (perms.manage_messages or perms.administrator):
            view = Repost(interaction.user.id, message)  # whatever the verdict: its presence tells nothing
        sent = await send(interaction, text, view=view, ephemeral=True)
        if view is not None:
            view.message = sent


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Messages(bot))
