"""The form of /lore-admin add and edit: summary, aliases and episode of an entry."""

from __future__ import annotations

import discord

from bot import limits
from bot.checks import guild_id_of
from bot.replies import defer, lore_for, send
from bot.views import AdminForm
from lore import (
    ENTRY_EXISTS,
    Entry,
    Franchise,
    Kind,
    LoreError,
    Mode,
    Policy,
    StaleEntry,
    format_aliases,
    new_entry,
    parse_aliases,
    parse_episode,
    shown_aliases,
)

#: The policy of a form opened where everything may be shown.
EVERYTHING = Policy(0, Mode.SHOW)  # under show every episode is plain


def author_of(interaction: discord.Interaction) -> str:
    return f"{interaction.user} ({interaction.user.id})"


class EntryModal(AdminForm):
    """Summary, aliases and episode of a new entry, or of an existing one (prefilled)."""

    summary: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
        label="Summary (safe before episode 1)", style=discord.TextStyle.paragraph, max_length=2000, required=False
    )
    aliases: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
        label="Aliases, one per line (Name @ episode)",
        style=discord.TextStyle.paragraph,
        max_length=limits.TEXT_INPUT,
        required=False,
        placeholder="Rogue\nThe Red Gladiator @ 1",
    )
    episode: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
        label="Introduced in episode", max_length=12, default="0"
    )

    def __init__(
        self, opener: discord.Interaction, *, kind: Kind, name: str, base: Entry | None, policy: Policy = EVERYTHING
    ):
        super().__init__(opener, title=f"{'Edit' if base else 'New'} {kind.value}: {name}")
        self.kind, self.name, self.base, self.policy = kind, name, base, policy
        self.franchise: Franchise = lore_for(opener).franchise
        last = self.franchise.last
        # the last field, worded for the franchise's episodes (typed as 15, or s2e3 with seasons)
        self.remove_item(self.episode)
        self.episode = discord.ui.TextInput(
            label=f"Introduced in episode (0-{last}{' or s2e3' if self.franchise.seasons else ''})",
            max_length=12 if self.franchise.seasons else len(str(last)),
            default="0",
        )
        self.add_item(self.episode)
        if base is not None:  # prefilled with what the channel sees; the rest is kept as it is on saving
            shown = shown_aliases(base, policy)
            self.summary.default = base.summary[:2000]
            self.aliases.default = format_aliases(shown)[: limits.TEXT_INPUT]
            self.episode.default = str(base.introduced)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        lore = lore_for(interaction)
        introduced = parse_episode(self.franchise, self.episode.value)
        aliases = parse_aliases(self.franchise, self.aliases.value)
        summary = self.summary.value.strip()
        await defer(interaction)
        try:  # checked inside the write: another admin or process may have saved meanwhile
            if self.base is None:
                data = new_entry(self.kind, self.name, summary, aliases, introduced)
                revision: int | None = await lore.save_entry(
                    guild_id_of(interaction), data, author_of(interaction), "add", expect=None, policy=self.policy
                )
            else:
                revision = await lore.edit_entry(
                    guild_id_of(interaction),
                    self.base.slug,
                    self.policy,
                    summary=summary,
                    aliases=[(a["name"], a["episode"]) for a in aliases],
                    introduced=introduced,
                    author=author_of(interaction),
                    expect=self.base,
                )
        except StaleEntry:  # edited, removed or reverted while the form was open
            raise LoreError(ENTRY_EXISTS if self.base is None else self._stale()) from None
        if revision is None:
            await send(interaction, f"Nothing changed in **{self.name}**; nothing was saved.", ephemeral=True)
            return
        verb = "Added" if self.base is None else "Updated"
        introduced_in = self.franchise.label(introduced)
        text = f"{verb} **{self.name}** in this server's lore (revision {revision}, introduced in {introduced_in})."
        await send(interaction, text, ephemeral=True)

    def _stale(self) -> str:
        return (
            f"**{self.name}** changed while this form was open, so nothing was saved. "
            "Run `/lore-admin edit` again to start from the current version."
        )
