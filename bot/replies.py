"""Sending replies: one helper that picks ``response`` or ``followup``, never pings, fits the limits."""

from __future__ import annotations

from typing import Any

import discord

from bot import limits
from lore import LoreService, Policy

NO_MENTIONS = discord.AllowedMentions.none()


async def send(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    ephemeral: bool = False,
    embeds: list[discord.Embed] | None = None,
    view: discord.ui.View | None = None,
    files: list[discord.File] | None = None,
) -> discord.Message | discord.InteractionMessage | None:
    """Answer the interaction (or follow up if it was already answered or deferred).

    Content longer than a message may hold is shortened at a word boundary; mentions never ping.
    Returns the message, so that a view can disable itself there on timeout.
    """
    if content is not None:
        content = limits.shorten(content, limits.CONTENT)
    batches = batch_embeds(embeds or [])
    kwargs: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS, "ephemeral": ephemeral}
    if batches:
        kwargs["embeds"] = batches[0]
    if view is not None:
        kwargs["view"] = view
    if files:
        kwargs["files"] = files
    if interaction.response.is_done():
        message: discord.Message | discord.InteractionMessage | None = await interaction.followup.send(
            wait=True, **kwargs
        )
    else:
        callback = await interaction.response.send_message(**kwargs)
        resource = getattr(callback, "resource", None)
        message = resource if isinstance(resource, discord.InteractionMessage) else None
    for batch in batches[1:]:  # embeds that do not fit one message's 6000 characters
        await interaction.followup.send(embeds=batch, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
    return message


async def defer(interaction: discord.Interaction, *, ephemeral: bool = True) -> None:
    """Acknowledge now, answer later: before anything that may wait (a write, an import), so
    Discord's three seconds are never missed. A component's press is acknowledged as an update of
    its message; a command's or a form's as "thinking" (ephemeral where the reply is)."""
    if interaction.response.is_done():
        return
    if interaction.type is discord.InteractionType.component:
        await interaction.response.defer()
    else:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)


def batch_embeds(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages of at most 10 embeds and 6000 characters in all."""
    batches: list[list[discord.Embed]] = []
    size = 0
    for embed in embeds:
        n = len(embed)
        if not batches or len(batches[-1]) >= limits.EMBEDS_PER_MESSAGE or size + n > limits.EMBED_TOTAL:
            batches.append([])
            size = 0
        batches[-1].append(embed)
        size += n
    return batches


def served_lore(client: discord.Client) -> LoreService:
    """The lore a bot serves (handed to it when it was made; see :func:`bot.app.open_lore`)."""
    lore = getattr(client, "lore", None)
    if not isinstance(lore, LoreService):
        raise TypeError(f"{type(client).__name__} serves no lore")
    return lore


def lore_for(interaction: discord.Interaction) -> LoreService:
    """The lore that answers ``interaction``."""
    return served_lore(interaction.client)


def policy_for(interaction: discord.Interaction, private: bool = False) -> Policy:
    """The spoiler policy a reply to this interaction is rendered under (in a thread or a forum
    post, the parent channel's override applies)."""
    channel = interaction.channel
    parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
    return lore_for(interaction).policy(
        interaction.guild_id, interaction.channel_id, interaction.user.id, private, parent_id=parent_id
    )
