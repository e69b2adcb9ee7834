"""/lore-admin: a server's own lore — new entries, and edits of the canon kept as patches over it (Manage Server)."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import limits
from bot.checks import admin_group_check, guild_id_of
from bot.cogs.lookup import NO_MATCH, autocomplete_entries, echo
from bot.ratelimit import heavy
from bot.replies import defer, lore_for, policy_for, send
from bot.views import AdminForm, Confirm
from lore import (
    FOLLOW_CANON,
    MAX_ALIAS,
    MAX_EPISODE,
    MAX_FACT_TEXT,
    MAX_REVISION,
    Alias,
    Entry,
    Kind,
    LoreError,
    Mode,
    PackError,
    Policy,
    StaleEntry,
    escape,
)

log = logging.getLogger(__name__)

EVERYTHING = Policy(MAX_EPISODE, Mode.SHOW)
MAX_IMPORT_BYTES = 1024 * 1024
#: Kinds a server can add through the form (episodes and the series need fields the form does not ask for).
KIND_CHOICES = [app_commands.Choice(name=k.value, value=k.value) for k in Kind if k not in (Kind.SERIES, Kind.EPISODE)]
EXISTS = "An entry with that name already exists: use `/lore-admin edit`."
_ALIAS_LINE = re.compile(r"^(?P<name>.+?)\s*(?:@\s*(?P<ep>\d{1,2}))?\s*$")


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:80].strip("-")
    return slug or "entry-" + hashlib.sha1(name.encode()).hexdigest()[:8]


def author_of(interaction: discord.Interaction) -> str:
    return f"{interaction.user} ({interaction.user.id})"


def parse_episode(text: str) -> int:
    text = text.strip() or "0"
    if not text.isdigit() or not 0 <= int(text) <= MAX_EPISODE:
        raise LoreError(f"The episode must be a number from 0 to {MAX_EPISODE}; nothing was changed.")
    return int(text)


def parse_aliases(text: str) -> list[dict[str, Any]]:
    """One alias per line, optionally ``Name @ episode`` for an alias that is itself a reveal."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _ALIAS_LINE.match(line)
        assert m is not None  # the pattern matches any non-empty line
        name, ep = m.group("name").strip(), m.group("ep")
        episode = int(ep) if ep is not None else 0
        if episode > MAX_EPISODE:
            raise LoreError(f"The alias episode must be from 0 to {MAX_EPISODE}; nothing was changed.")
        out.append({"name": limits.shorten(name, 200), "episode": episode})
    return out


def format_aliases(aliases: list[Alias]) -> str:
    return "\n".join(a.name if a.episode == 0 else f"{a.name} @ {a.episode}" for a in aliases)


def visible_to(policy: Policy, episode: int) -> bool:
    """Whether an item revealed at ``episode`` may be shown plainly under ``policy``."""
    return policy.mode is Mode.SHOW or episode <= policy.episode


def resolve_target(interaction: discord.Interaction, name: str, *, exact: bool = True) -> Entry:
    """The entry an admin command acts on, found as the channel would find it: a picked suggestion
    (its slug) or, with ``exact``, a name or alias typed in full; a guess is only offered back.

    Lore beyond the channel's spoiler setting is out of reach here: under ``hide`` it does not
    exist, and under ``tag`` the reply says only that it lies beyond (naming it, or putting it in
    a form or a button, would be the reveal)."""
    if name == NO_MATCH:
        raise LoreError("Pick an entry from the suggestions.")
    lore = lore_for(interaction)
    policy = policy_for(interaction)
    answer = lore.ask(name, policy, guild_id_of(interaction))
    view, match = answer.view, answer.result.match
    if view is None or match is None:
        if answer.result.ambiguous:
            raise LoreError("That name matches several entries: pick one from the suggestions.")
        raise LoreError(f"No entry called “{echo(name)}” in this server's lore.")
    if exact and match.score < 100.0:
        raise LoreError(
            f"No entry is called exactly “{echo(name)}”. Did you mean **{escape(view.name)}**? "
            "Pick it from the suggestions or type its full name; nothing was changed."
        )
    entry = lore.get(view.slug, guild_id_of(interaction))
    if entry is None:  # pragma: no cover - the index and documents change together
        raise LoreError("That entry is no longer available.")
    return entry


async def resolve_history(interaction: discord.Interaction, name: str, *, exact: bool) -> tuple[str, str]:
    """(slug, name to show) for history and revert, which also reach an entry this server removed:
    by the canon's name for it (when the channel may see that), or by its slug."""
    try:
        entry = resolve_target(interaction, name, exact=exact)
        return entry.slug, entry.name
    except LoreError:
        lore = lore_for(interaction)
        canon = lore.ask(name, policy_for(interaction), None)
        candidates = []
        named = canon.result.match is not None and canon.result.match.score >= 100.0
        slug = canon.view.slug if canon.view is not None else None
        # only for an entry this server removed: a live version of its own (ambiguous, inexact or
        # beyond the channel) was judged above, and must not be reached around
        if slug is not None and (named or not exact) and lore.get(slug, guild_id_of(interaction)) is None:
            candidates.append((slug, canon.view.name))  # type: ignore[union-attr]  # slug implies a view
        if lore.get(name, guild_id_of(interaction)) is None and not lore.canon_visible(name, policy_for(interaction)):
            candidates.append((name, name))  # a server's own entry that it removed, by slug
        for slug, shown in candidates:
            if (await lore.history(guild_id_of(interaction), slug))[0] != "canon":
                return slug, shown
        raise


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
        label="Introduced in episode (0-13)", max_length=2, default="0"
    )

    def __init__(
        self, opener: discord.Interaction, *, kind: Kind, name: str, base: Entry | None, policy: Policy = EVERYTHING
    ):
        super().__init__(opener, title=f"{'Edit' if base else 'New'} {kind.value}: {name}")
        self.kind, self.name, self.base, self.policy = kind, name, base, policy
        if base is not None:  # prefilled with what the channel sees; the rest is kept as it is on saving
            shown = [a for a in base.aliases if visible_to(policy, a.episode)]
            self.summary.default = base.summary[:2000]
            self.aliases.default = format_aliases(shown)[: limits.TEXT_INPUT]
            self.episode.default = str(base.introduced)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        lore = lore_for(interaction)
        introduced = parse_episode(self.episode.value)
        aliases = parse_aliases(self.aliases.value)
        summary = self.summary.value.strip()
        await defer(interaction)
        try:  # checked inside the write: another admin or process may have saved meanwhile
            if self.base is None:
                slug = slugify(self.name)
                data: dict[str, Any] = {"slug": slug, "kind": self.kind.value, "name": self.name}
                data.update(summary=summary, introduced=introduced)
                data["aliases"] = [{**a, "episode": max(a["episode"], introduced)} for a in aliases]
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
            raise LoreError(EXISTS if self.base is None else self._stale()) from None
        if revision is None:
            await send(interaction, f"Nothing changed in **{self.name}**; nothing was saved.", ephemeral=True)
            return
        verb = "Added" if self.base is None else "Updated"
        text = (
            f"{verb} **{self.name}** in this server's lore (revision {revision}, introduced in episode {introduced})."
        )
        await send(interaction, text, ephemeral=True)

    def _stale(self) -> str:
        return (
            f"**{self.name}** changed while this form was open, so nothing was saved. "
            "Run `/lore-admin edit` again to start from the current version."
        )


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
        if lore_for(interaction).taken(slugify(name), policy, guild_id_of(interaction)):
            raise LoreError(EXISTS)
        modal = EntryModal(interaction, kind=Kind(kind.value), name=name, base=None, policy=policy)
        await interaction.response.send_modal(modal)

    @app_commands.command(name="edit", description="Edit an entry for this server (opens a prefilled form)")
    @app_commands.describe(name="The entry to edit")
    async def edit(self, interaction: discord.Interaction, name: str) -> None:
        entry = resolve_target(interaction, name)
        modal = EntryModal(interaction, kind=entry.kind, name=entry.name, base=entry, policy=policy_for(interaction))
        await interaction.response.send_modal(modal)

    @app_commands.command(name="fact", description="Add a fact to an entry, with the episode that reveals it")
    @app_commands.describe(name="The entry", text="The fact", episode=f"Episode that reveals it, 0 to {MAX_EPISODE}")
    async def fact(
        self,
        interaction: discord.Interaction,
        name: str,
        text: app_commands.Range[str, 1, MAX_FACT_TEXT],
        episode: app_commands.Range[int, 0, MAX_EPISODE],
    ) -> None:
        entry = resolve_target(interaction, name)
        await defer(interaction)
        lore = lore_for(interaction)
        revision = await lore.add_fact(
            guild_id_of(interaction), entry.slug, text.strip(), episode, author_of(interaction)
        )
        await send(
            interaction,
            f"Added a fact to **{entry.name}** (episode {max(episode, entry.introduced)}, revision {revision}).",
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
        back = 0 if canon else revision - 1
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
        scope, revisions = await lore.history(guild_id_of(interaction), slug)
        if not revisions:
            await send(interaction, f"**{shown}** has no revisions.", ephemeral=True)
            return
        own = scope != "canon"
        lines = [
            f"**{r.number}.** {r.action} by {r.author} — <t:{int(r.created_at)}:f>"
            + (" *(removed)*" if r.removed and r.action != FOLLOW_CANON else "")
            for r in reversed(revisions)
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


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(LoreAdmin(bot))
