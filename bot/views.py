"""Interactive components: pagination, "did you mean", confirmation (owner-only, disabled on
timeout), and forms that only the admin who opened them can submit. Their errors, like a
command's, go to :func:`bot.errors.report_error`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot import limits
from bot.errors import Refused, report_error
from lore import Candidate

log = logging.getLogger(__name__)


class Timing:
    """How long a quiz question stays open, and the pause before the next one (tests shorten them:
    cogs are loaded as fresh modules, so their own class attributes cannot be patched)."""

    QUESTION_SECONDS = 20.0
    PAUSE_SECONDS = 3.0


NOT_YOURS = "These buttons belong to the person who ran the command. Run it yourself to get your own."
FORM_NOT_YOURS = "This form was opened by someone else; nothing was saved. Run the command yourself."
FORM_OTHER_SERVER = "This form belongs to another server; nothing was saved."
FORM_NEEDS_MANAGE = "You need the **Manage Server** permission in this server to save this form; nothing was saved."


class OwnedView(discord.ui.View):
    """A view only its owner may use; on timeout its components are disabled in place."""

    TIMEOUT = 180.0  # seconds without a press before the components are disabled

    def __init__(self, owner_id: int, *, timeout: float | None = None):
        super().__init__(timeout=self.TIMEOUT if timeout is None else timeout)
        self.owner_id = owner_id
        self.message: discord.Message | discord.InteractionMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            raise Refused(NOT_YOURS)
        return True

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await report_error(interaction, error, source="component", where=type(self).__name__)

    def disable_all(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True

    async def on_timeout(self) -> None:
        self.disable_all()
        if self.message is not None:
            try:
                await self.message.edit(view=self)
            except discord.HTTPException:
                log.debug("could not disable components of an expired view", exc_info=True)


class Paginator(OwnedView):
    """First / previous / next / last over a list of embeds."""

    def __init__(self, pages: list[discord.Embed], owner_id: int, *, timeout: float | None = None):
        super().__init__(owner_id, timeout=timeout)
        self.pages = pages
        self.index = 0
        self._sync()

    def _sync(self) -> None:
        last = len(self.pages) - 1
        self.first.disabled = self.prev.disabled = self.index == 0
        self.next.disabled = self.last.disabled = self.index == last
        self.counter.label = f"{self.index + 1}/{len(self.pages)}"

    async def _show(self, interaction: discord.Interaction, index: int) -> None:
        self.index = max(0, min(index, len(self.pages) - 1))
        self._sync()
        await interaction.response.edit_message(embed=self.pages[self.index], view=self)

    @discord.ui.button(label="«", style=discord.ButtonStyle.secondary)
    async def first(self, interaction: discord.Interaction, _: discord.ui.Button[OwnedView]) -> None:
        await self._show(interaction, 0)

    @discord.ui.button(label="‹", style=discord.ButtonStyle.primary)
    async def prev(self, interaction: discord.Interaction, _: discord.ui.Button[OwnedView]) -> None:
        await self._show(interaction, self.index - 1)

    @discord.ui.button(label="1/1", style=discord.ButtonStyle.secondary, disabled=True)
    async def counter(
        self, interaction: discord.Interaction, _: discord.ui.Button[OwnedView]
    ) -> None:  # pragma: no cover
        await interaction.response.defer()

    @discord.ui.button(label="›", style=discord.ButtonStyle.primary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[OwnedView]) -> None:
        await self._show(interaction, self.index + 1)

    @discord.ui.button(label="»", style=discord.ButtonStyle.secondary)
    async def last(self, interaction: discord.Interaction, _: discord.ui.Button[OwnedView]) -> None:
        await self._show(interaction, len(self.pages) - 1)


Chooser = Callable[[discord.Interaction, str], Awaitable[None]]


class DidYouMean(OwnedView):
    """A select of candidate entries; choosing one answers with that entry."""

    TIMEOUT = 120.0

    def __init__(self, candidates: list[Candidate], owner_id: int, on_choose: Chooser, *, timeout: float | None = None):
        super().__init__(owner_id, timeout=timeout)
        self.on_choose = on_choose
        options = []
        seen: set[str] = set()
        for cand in candidates:
            if cand.slug in seen:
                continue
            seen.add(cand.slug)
            options.append(
                discord.SelectOption(
                    label=limits.shorten(cand.label, limits.OPTION_LABEL),
                    value=cand.slug,
                    description=limits.shorten(cand.kind.value.capitalize(), limits.OPTION_DESCRIPTION),
                )
            )
            if len(options) >= limits.SELECT_OPTIONS:
                break
        self.select: discord.ui.Select[DidYouMean] = discord.ui.Select(placeholder="Did you mean…", options=options)
        self.select.callback = self._chosen  # type: ignore[method-assign]
        self.add_item(self.select)

    async def _chosen(self, interaction: discord.Interaction) -> None:
        self.stop()
        await self.on_choose(interaction, self.select.values[0])


class Confirm(OwnedView):
    """Confirm / Cancel. ``value`` is True, False, or None (timed out)."""

    TIMEOUT = 60.0

    def __init__(self, owner_id: int, *, confirm_label: str = "Confirm", timeout: float | None = None):
        super().__init__(owner_id, timeout=timeout)
        self.value: bool | None = None
        self.interaction: discord.Interaction | None = None
        self.yes.label = limits.shorten(confirm_label, limits.BUTTON_LABEL)

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def yes(self, interaction: discord.Interaction, _: discord.ui.Button[OwnedView]) -> None:
        self.value, self.interaction = True, interaction
        self.stop()

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def no(self, interaction: discord.Interaction, _: discord.ui.Button[OwnedView]) -> None:
        self.value, self.interaction = False, interaction
        self.stop()


class AdminForm(discord.ui.Modal):
    """A form that saves something for a server. At submit time (not only when it was opened) the
    submitter must be the user who opened it, in the server it was opened in, and still hold
    Manage Server there; anything else is refused and nothing is saved."""

    def __init__(self, opener: discord.Interaction, *, title: str, timeout: float | None = 600):
        super().__init__(title=limits.shorten(title, limits.MODAL_TITLE), timeout=timeout)
        self.owner_id = opener.user.id
        self.guild_id = opener.guild_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            raise Refused(FORM_NOT_YOURS)
        if interaction.guild_id is None or interaction.guild_id != self.guild_id:
            raise Refused(FORM_OTHER_SERVER)
        perms = interaction.permissions
        if not (perms.manage_guild or perms.administrator):
            raise Refused(FORM_NEEDS_MANAGE)
        return True

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error, source="form", where=type(self).__name__)
