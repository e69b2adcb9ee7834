"""/lore-admin: a server's own lore — new entries and copy-on-write edits of the canon (Manage Server).

The cog only translates: which entry a name means, what a new entry's slug is and what a revision
restores are the service's decisions (:meth:`lore.LoreService.edit_target` and friends)."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot import limits
from bot.checks import admin_group_check, guild_id_of
from bot.cogs.lookup import NO_MATCH, autocomplete_entries
from bot.cogs.lore_admin.form import EntryModal, author_of
from bot.episodes import episode_option
from bot.ratelimit import heavy
from bot.replies import defer, lore_for, policy_for, send
from bot.views import Confirm
from lore import FORM_KINDS, MAX_ALIAS, MAX_FACT_TEXT, MAX_REVISION, Entry, Kind, LoreError, PackError

MAX_IMPORT_BYTES = 1024 * 1024
KIND_CHOICES = [app_commands.Choice(name=k.value, value=k.value) for k in FORM_KINDS]


def _picked(name: str) -> str:
    if name == NO_MATCH:
        raise LoreError("Pick an entry from the suggestions.")
    return name


def resolve_target(interaction: discord.Interaction, name: str, *, exact: bool = True) -> Entry:
    """The entry an admin command acts on, as the channel's spoiler setting lets it find it."""
    lore = lore_for(interaction)
    return lore.edit_target(_picked(name), policy_for(interaction), guild_id_of(interaction), exact=exact)


async def resolve_history(interaction: discord.Interaction, name: str, *, exact: bool) -> tuple[str, str]:
    """(slug, name to show) for history and revert (which also reach an entry this server removed)."""
    lore = lore_for(interaction)
    return await lore.history_target(_picked(name), policy_for(interaction), guild_id_of(interaction), exact=exact)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class LoreAdmin(commands.GroupCog, group_name="lore-admin", group_description="Edit this server's own lore"):
    def __init__(self, bot: commands.Bot):
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await admin_group_check(interaction)

    async def _entry_ac(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await autocomplete_entries(interaction, current, None)

    @app_commands.command(name="add", description="Add an entry to this server's lore (opens a form)")
    @app_commands.describe(kind="What kind of entry", name="Its name")
    @app_commands.choices(kind=KIND_CHOICES)
    async def add(
        self, interaction: discord.Interaction, kind: app_commands.Choice[str], name: app_commands.Range[str, 1, 100]
    ) -> None:
        name = name.strip()
        policy = policy_for(interaction)
        lore_for(interaction).new_slug(name, policy, guild_id_of(interaction))
        modal = EntryModal(interaction, kind=Kind(kind.value), name=name, base=None, policy=policy)
        await interaction.response.send_modal(modal)

    @app_commands.command(name="edit", description="Edit an entry for this server (opens a prefilled form)")
    @app_commands.describe(name="The entry to edit")
    async def edit(self, interaction: discord.Interaction, name: str) -> None:
        entry = resolve_target(interaction, name)
        modal = EntryModal(interaction, kind=entry.kind, name=entry.name, base=entry, policy=policy_for(interaction))
        await interaction.response.send_modal(modal)

    @app_commands.command(name="fact", description="Add a fact to an entry, with the episode that reveals it")
    @app_commands.describe(name="The entry", text="The fact", episode="Episode that reveals it, {first} to {last}")
    @episode_option(episode=0)
    async def fact(
        self,
        interaction: discord.Interaction,
        name: str,
        text: app_commands.Range[str, 1, MAX_FACT_TEXT],
        episode: int,
    ) -> None:
        entry = resolve_target(interaction, name)
        await defer(interaction)
        lore = lore_for(interaction)
        revision = await lore.add_fact(
            guild_id_of(interaction), entry.slug, text.strip(), episode, author_of(interaction)
        )
        await send(
            interaction,
            f"Added a fact to **{entry.name}** ({lore.franchise.label(max(episode, entry.introduced))}, "
            f"revision {revision}).",
            ephemeral=True,
        )

    @app_commands.command(name="alias", description="Add another name for an entry")
    @app_commands.describe(name="The entry", alias="The other name")
    async def alias(
        self, interaction: discord.Interaction, name: str, alias: app_commands.Range[str, 1, MAX_ALIAS]
    ) -> None:
        entry = resolve_target(interaction, name)
        await defer(interaction)
        lore = lore_for(interaction)
        revision = await lore.add_alias(
            guild_id_of(interaction), entry.slug, alias.strip(), author_of(interaction), policy=policy_for(interaction)
        )
        await send(
            interaction,
            f"**{entry.name}** is now also found as “{alias.strip()}” (revision {revision}).",
            ephemeral=True,
        )

    @app_commands.command(name="remove", description="Remove an entry from this server's lore (asks to confirm)")
    @app_commands.describe(name="The entry to remove")
    async def remove(self, interaction: discord.Interaction, name: str) -> None:
        entry = resolve_target(interaction, name)
        confirm = Confirm(interaction.user.id, confirm_label=f"Remove {entry.name}")
        canon = lore_for(interaction).canon_visible(entry.slug, policy_for(interaction))
        note = " (a canon entry: it stays for other servers)" if canon else ""
        confirm.message = await send(
            interaction, f"Remove **{entry.name}** from this server's lore{note}?", view=confirm, ephemeral=True
        )
        await confirm.wait()
        if confirm.interaction is None:
            return  # timed out: the view disabled its buttons
        if not confirm.value:
            await confirm.interaction.response.edit_message(content="Nothing was removed.", view=None)
            return
        await defer(confirm.interaction)
        lore = lore_for(interaction)
        revision = await lore.remove_entry(guild_id_of(interaction), entry.slug, author_of(interaction))
        back = lore.restores(entry.slug, revision, policy_for(interaction))
        await confirm.interaction.edit_original_response(
            content=f"Removed **{entry.name}** (revision {revision}). To bring it back: "
            f"`/lore-admin revert name:{entry.slug} revision:{back}`" + (" (the canon's version)." if canon else "."),
            view=None,
        )

    @app_commands.command(name="history", description="The revisions of an entry in this server")
    @app_commands.describe(name="The entry")
    async def history(self, interaction: discord.Interaction, name: str) -> None:
        slug, shown = await resolve_history(interaction, name, exact=False)
        lore = lore_for(interaction)
        history = await lore.history(guild_id_of(interaction), slug, policy_for(interaction))
        if not history.revisions:
            await send(interaction, f"**{shown}** has no revisions.", ephemeral=True)
            return
        own = history.own
        lines = [
            f"**{r.number}.** {r.action} by {r.author} — <t:{int(r.created_at)}:f>"
            + (" *(removed)*" if r.is_removal else "")
            for r in reversed(history.revisions)
        ]
        if own and lore.canon_visible(slug, policy_for(interaction)):
            lines.append("**0.** the canon's version (revert to 0 to follow the canon again)")
        embed = discord.Embed(
            title=limits.shorten(f"History: {shown}", limits.EMBED_TITLE),
            description=limits.pack_lines(lines, limits.EMBED_DESCRIPTION)[0],
            colour=0x2C2F33,
        )
        if own:
            footer = "Revisions in this server" + (
                " · it follows the canon now" if lore.follows_canon(guild_id_of(interaction), slug) else ""
            )
        else:
            footer = "The canon's revisions: this server follows the canon (nothing to revert here)"
        embed.set_footer(text=footer)
        await send(interaction, embeds=[embed], ephemeral=True)

    @app_commands.command(name="revert", description="Restore an entry to one of its revisions in this server")
    @app_commands.describe(
        name="The entry", revision="The revision number (see /lore-admin history); 0 = the canon's version"
    )
    async def revert(
        self, interaction: discord.Interaction, name: str, revision: app_commands.Range[int, 0, MAX_REVISION]
    ) -> None:
        await defer(interaction)
        lore = lore_for(interaction)
        slug, shown = await resolve_history(interaction, name, exact=True)
        new = await lore.revert(
            guild_id_of(interaction), slug, revision, author_of(interaction), policy=policy_for(interaction)
        )
        if lore.follows_canon(guild_id_of(interaction), slug):
            text = f"**{shown}** follows the canon again (revision {new} of this server's history)."
        else:
            text = f"Reverted **{shown}** to revision {revision} (now revision {new})."
        await send(interaction, text, ephemeral=True)

    @app_commands.command(name="import", description="Import a YAML or JSON lore pack into this server's lore")
    @app_commands.describe(file="A .yaml, .yml or .json lore pack (see /lore-admin export for the format)")
    @heavy("import")
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        if file.size > MAX_IMPORT_BYTES:
            raise LoreError(f"That file is too large (the limit is {MAX_IMPORT_BYTES // 1024} KB); nothing changed.")
        if not file.filename.lower().endswith((".yaml", ".yml", ".json")):
            raise LoreError("Attach a .yaml, .yml or .json lore pack; nothing changed.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        lore = lore_for(interaction)
        try:
            report = await lore.import_pack(
                data,
                guild_id=guild_id_of(interaction),
                author=author_of(interaction),
                filename=file.filename,
                policy=policy_for(interaction),
            )
        except PackError as e:
            head = f"**{file.filename}** was not imported; nothing changed. {len(e.errors)} problem(s):\n"
            body = "\n".join(f"• `{err}`" for err in e.errors)
            files = None
            if len(head) + len(body) > limits.CONTENT:
                files = [discord.File(io.BytesIO("\n".join(e.errors).encode()), filename="errors.txt")]
                body = limits.shorten(body, limits.CONTENT - len(head) - 60) + "\n(full list attached)"
            await send(interaction, head + body, ephemeral=True, files=files)
            return
        lines = [f"Imported **{file.filename}**: {report.summary()}."]
        if report.created:
            lines.append("New: " + ", ".join(report.created))
        if report.updated:
            lines.append("Updated: " + ", ".join(report.updated))
        if report.removed:
            lines.append("Removed: " + ", ".join(report.removed))
        await send(interaction, "\n".join(lines), ephemeral=True)

    @app_commands.command(name="export", description="This server's own lore as a YAML file")
    @heavy("export")
    async def export(self, interaction: discord.Interaction) -> None:
        text = lore_for(interaction).export(guild_id_of(interaction), "yaml")
        file = discord.File(io.BytesIO(text.encode("utf-8")), filename=f"lore-{guild_id_of(interaction)}.yaml")
        count = lore_for(interaction).own_entry_count(guild_id_of(interaction))
        await send(interaction, f"This server's lore ({count} entries).", files=[file], ephemeral=True)

    for _cmd in (edit, fact, alias, remove, history, revert):
        _cmd.autocomplete("name")(_entry_ac)
    del _cmd
