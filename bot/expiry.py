"""Buttons, selects and forms that the bot no longer knows (it restarted since, the view timed out,
or the id was never ours) are answered with a sentence instead of Discord's "This interaction failed".

discord.py routes a component or form submit to the live view or modal registered under its
custom_id and silently drops the rest. :func:`is_known` asks that same registry, at the moment
discord.py has just routed the interaction (see ``LoreBot.dispatch``), whether anything took it."""

from __future__ import annotations

import contextlib
from typing import Any

import discord

from bot.errors import EXPIRED
from bot.replies import send


def is_known(client: discord.Client, interaction: discord.Interaction) -> bool:
    """Whether a live view, form or dynamic item will answer this component or form interaction
    (other interactions are always "known": the command tree answers those)."""
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = str(data.get("custom_id", ""))
    store = client._connection._view_store  # discord.py's registry of live views and forms
    if interaction.type is discord.InteractionType.modal_submit:
        return custom_id in store._modals
    if interaction.type is not discord.InteractionType.component:
        return True
    if any(pattern.fullmatch(custom_id) for pattern in store._dynamic_items):
        return True
    key = (int(data.get("component_type", 0)), custom_id)
    message_id = interaction.message.id if interaction.message is not None else None
    item = store._views.get(message_id, {}).get(key) or store._views.get(None, {}).get(key)
    return item is not None and item.view is not None and not item.view.is_finished()


async def answer_expired(interaction: discord.Interaction) -> None:
    """Tell the user the menu or form is gone (never an error: the interaction may be answered
    elsewhere meanwhile, or have expired)."""
    if interaction.response.is_done():
        return
    with contextlib.suppress(discord.HTTPException):
        await send(interaction, EXPIRED, ephemeral=True)
