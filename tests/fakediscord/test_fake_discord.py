"""Drive a tiny real discord.py bot through the fake Discord."""

from __future__ import annotations

import io
import logging
import time

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from fakediscord import (
    CommandUnavailable,
    FakeDiscord,
    InvalidInteraction,
    NoResponse,
    ViolationsError,
    render_result,
)
from fakediscord.pytest_plugin import fake_discord  # noqa: F401  (the plugin's fixture)

CHARACTERS = ["Rouge Redstar", "Naomi Orthmann", "Jill Lavender", "Rosalind", "Roxanne"]


class PageView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.add_item(discord.ui.Button(label="Docs", url="https://example.invalid/docs", row=0))

    @discord.ui.button(label="Next", custom_id="next", style=discord.ButtonStyle.primary, row=0)
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="page 2", view=self)

    @discord.ui.select(
        custom_id="pick",
        placeholder="Pick an episode",
        options=[discord.SelectOption(label=f"Episode {i}", value=f"ep{i}") for i in range(1, 4)],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"you picked {select.values[0]}", ephemeral=True)


class ReportModal(discord.ui.Modal, title="Report a lore error"):
    summary = discord.ui.Label(
        text="Summary",
        description="What is wrong?",
        component=discord.ui.TextInput(custom_id="summary", max_length=200),
    )
    details = discord.ui.TextInput(
        label="Details", custom_id="details", style=discord.TextStyle.paragraph, required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        summary = self.summary.component.value  # type: ignore[attr-defined]
        await interaction.response.send_message(f"thanks: {summary} / {self.details.value or '-'}", ephemeral=True)


class Confirm(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.answer: bool | None = None
        self.interaction: discord.Interaction | None = None

    @discord.ui.button(label="Yes", custom_id="yes", style=discord.ButtonStyle.danger)
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.answer, self.interaction = True, interaction
        self.stop()

    @discord.ui.button(label="No", custom_id="no")
    async def no(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.answer, self.interaction = False, interaction
        self.stop()


class TinyBot(commands.Bot):
    def __init__(self, guild_id: int, **options) -> None:
        super().__init__(
            **options,
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.guild_id = guild_id
        self.ready_seen = False
        tree = self.tree

        @tree.command(description="Check the bot is alive")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        @tree.command(description="Look up a character")
        @app_commands.describe(name="Character name")
        async def character(interaction: discord.Interaction, name: str) -> None:
            embed = discord.Embed(title=name, description=f"All about {name}.", color=0xCC0000)
            embed.add_field(name="Series", value="Metallic Rouge")
            embed.set_footer(text="spoiler-safe")
            await interaction.response.send_message(embed=embed, view=PageView())

        @character.autocomplete("name")
        async def character_name(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=c, value=c) for c in CHARACTERS if c.lower().startswith(current.lower())]

        @tree.command(description="Too many suggestions")
        async def greedy(interaction: discord.Interaction, word: str) -> None:
            await interaction.response.send_message(word)

        @greedy.autocomplete("word")
        async def greedy_word(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=f"w{i}", value=f"w{i}") for i in range(26)]

        @tree.command(description="An oversized embed")
        async def essay(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=discord.Embed(description="x" * 5000))

        @tree.command(description="Report a lore error")
        async def report(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(ReportModal())

        @tree.command(description="Export as a file")
        async def export(interaction: discord.Interaction) -> None:
            data = io.BytesIO(b"name: Rouge\n")
            await interaction.response.send_message(
                "here", file=discord.File(data, filename="rouge.yaml"), ephemeral=True
            )

        @tree.command(description="Think, then answer")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True, ephemeral=True)
            await interaction.followup.send("done thinking")
            await interaction.followup.send("and one more thing")

        @tree.command(description="Name a channel")
        async def where(interaction: discord.Interaction, channel: discord.TextChannel, count: int = 1) -> None:
            await interaction.response.send_message(f"{channel.name} x{count}")

        @tree.command(description="Wipe after confirming")
        async def wipe(interaction: discord.Interaction) -> None:
            view = Confirm()
            await interaction.response.send_message("Sure?", view=view, ephemeral=True)
            await view.wait()  # the command's task waits here for the click
            assert view.interaction is not None
            await view.interaction.response.edit_message(content="wiped" if view.answer else "kept", view=None)

        @tree.command(description="A link that is too long")
        async def longlink(interaction: discord.Interaction) -> None:
            view = discord.ui.View()
            view.add_item(discord.ui.Button(label="Go", url="https://example.invalid/" + "a" * 600))
            await interaction.response.send_message("see", view=view)

        @tree.context_menu(name="Who is this")
        async def who(interaction: discord.Interaction, member: discord.Member) -> None:
            await interaction.response.send_message(f"that is {member.display_name}", ephemeral=True)

        @tree.context_menu(name="Quote")
        async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(f"> {message.content}", ephemeral=True)

        @tree.command(description="Crash")
        async def crash(interaction: discord.Interaction) -> None:
            raise RuntimeError("kaboom")

        @tree.command(description="Ping everyone, badly")
        async def shout(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(
                "@everyone hi", allowed_mentions=discord.AllowedMentions(everyone=True)
            )

        admin = app_commands.Group(
            name="lore-admin",
            description="Lore administration",
            default_permissions=discord.Permissions(manage_guild=True),
        )

        @admin.command(name="import", description="Import a lore pack")
        async def import_(interaction: discord.Interaction, file: discord.Attachment) -> None:
            data = await file.read()
            await interaction.response.send_message(
                f"imported {file.filename}: {len(data)} bytes, first line {data.splitlines()[0].decode()!r}",
                ephemeral=True,
            )

        packs = app_commands.Group(name="packs", description="Pack commands", parent=admin)

        @packs.command(name="list", description="List packs")
        @app_commands.choices(
            kind=[app_commands.Choice(name="Core", value="core"), app_commands.Choice(name="Fan", value="fan")]
        )
        async def list_(interaction: discord.Interaction, kind: app_commands.Choice[str]) -> None:
            await interaction.response.send_message(f"packs of kind {kind.value}", ephemeral=True)

        tree.add_command(admin)

        @tree.command(description="Guild only", guild=discord.Object(guild_id))
        async def local(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"local to {interaction.guild.name}")

    async def setup_hook(self) -> None:
        await self.tree.sync()
        await self.tree.sync(guild=discord.Object(self.guild_id))

    async def on_ready(self) -> None:
        self.ready_seen = True


@pytest.fixture
async def world():
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Rouge Fans", channels=["general", "spoilers"])
        admin = fake.add_member(guild, "Admin", manage_guild=True)
        viewer = fake.add_member(guild, "Viewer")
        yield fake, guild, admin, viewer


async def test_ping_and_startup(world):
    fake, guild, _admin, viewer = world
    bot = TinyBot(guild.id)
    async with fake.running(bot):
        assert bot.get_guild(guild.id) is not None
        assert bot.user.id == fake.application_id
        r = await fake.slash("ping", user=viewer)
        assert r.type == 4
        assert r.content == "pong"
        assert not r.ephemeral
        assert r.text.strip() == "pong"
    assert fake.sync_count == 2
    assert fake.global_sync_count == 1
    assert fake.guild_sync_count(guild) == 1
    assert not fake.unknown_requests
    assert fake.violations == []
    assert bot.is_closed()
    # the patches are undone
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


async def test_gateway_compression_and_resume_url(world):
    fake, guild, _, viewer = world
    async with fake.running(TinyBot(guild.id)):
        conn = fake.connections[0]
        # discord.py asks for transport compression; the fake honours it
        assert conn.query.get("compress") in ("zlib-stream", "zstd-stream")
        assert conn.query.get("encoding") == "json" and conn.query.get("v") == "10"
        await fake.disconnect(4000)
        assert fake.resume_count == 1 and fake.identify_count == 1
        assert fake.connections[-1].path == "/gateway/resume"
        r = await fake.slash("ping", user=viewer)
        assert r.content == "pong"


async def test_invalidated_session_identifies_again(world):
    fake, guild, _, viewer = world
    bot = TinyBot(guild.id)

    async def no_identify_delay(shard_id, *, initial=False):  # discord.py sleeps 5 s before a re-IDENTIFY
        return None

    bot.before_identify_hook = no_identify_delay
    fake.shards.identify_interval = 0  # the bot skips the wait, so this fake does not check the pace
    async with fake.running(bot):
        first = fake.session
        await fake.disconnect(4000, invalidate=True)
        assert fake.identify_count == 2 and fake.resume_count == 0 and fake.session is not first
        await fake._wait_for(lambda: bot.get_guild(guild.id) is not None, 2, "guild not reloaded")
        r = await fake.slash("ping", user=viewer)
        assert r.content == "pong"


async def test_resume_replays_missed_events(world):
    fake, guild, _, viewer = world
    bot = TinyBot(guild.id)
    async with fake.running(bot):
        session = fake.session
        conn = session.connection
        await conn.close(code=4000)  # server-side close with a resumable code, don't wait
        new_channel = fake.add_channel(guild, "late-news")  # dispatched while disconnected
        await fake._drain_pending()
        await fake._wait_for(lambda: fake.resume_count == 1, 5, "no resume")
        assert fake.session is session
        await fake._wait_for(lambda: bot.get_channel(new_channel.id) is not None, 2, "CHANNEL_CREATE not replayed")
        r = await fake.slash("where", {"channel": new_channel}, user=viewer)
        assert r.content == "late-news x1"


async def test_the_bot_removed_from_a_guild_and_invited_back(world):
    """GUILD_DELETE reaches the bot as ``on_guild_remove`` (not as an outage); the guild's channels
    then refuse it as Discord does, and an invitation brings the guild back (GUILD_CREATE)."""
    fake, guild, _, _ = world
    bot = TinyBot(guild.id)
    removed: list[int] = []

    async def on_guild_remove(g: discord.Guild) -> None:
        removed.append(g.id)

    bot.add_listener(on_guild_remove)
    async with fake.running(bot):
        channel = bot.get_partial_messageable(guild.channels["general"].id, guild_id=guild.id)
        fake.remove_bot(guild)
        await fake._wait_for(lambda: removed == [guild.id], 2, "no on_guild_remove")
        assert bot.get_guild(guild.id) is None and guild.id not in fake.guilds
        with pytest.raises(discord.Forbidden) as refused:
            await channel.send("still here?")
        assert refused.value.code == 50001
        fake.invite_bot(guild)
        await fake._wait_for(lambda: bot.get_guild(guild.id) is not None, 2, "GUILD_CREATE not dispatched")
        await channel.send("back")
        assert [m.content for m in fake.channel_messages(guild.channels["general"])] == ["back"]


async def test_autocomplete_embed_button_select(world):
    fake, guild, _, viewer = world
    async with fake.running(TinyBot(guild.id)):
        choices = await fake.autocomplete("character", {"name": "ro"}, focused="name", user=viewer)
        assert choices.names == ["Rouge Redstar", "Rosalind", "Roxanne"]
        assert choices.result.type == 8

        r = await fake.slash("character", {"name": "Rouge Redstar"}, user=viewer, channel=guild.channels["spoilers"])
        assert r.embed["title"] == "Rouge Redstar"
        assert r.embed["fields"][0] == {"name": "Series", "value": "Metallic Rouge", "inline": True}
        assert [b.get("label") for b in r.buttons] == ["Next", "Docs"]
        assert r.selects[0]["custom_id"] == "pick"
        text = render_result(r)
        assert "## Rouge Redstar" in text and "[Next](primary: next)" in text and "Episode 2 = 'ep2'" in text

        r2 = await fake.click(r, "next")
        assert r2.type == 7
        assert r2.message.id == r.message.id
        assert r2.content == "page 2"
        assert r.content == ""  # results are snapshots

        r3 = await fake.select(r2, "pick", ["ep3"])
        assert r3.type == 4 and r3.ephemeral and r3.content == "you picked ep3"

        with pytest.raises(InvalidInteraction):
            await fake.click(r, label="Docs")  # link buttons send nothing
        with pytest.raises(InvalidInteraction):
            await fake.select(r, "pick", ["ep9"])


async def test_modal_roundtrip(world):
    fake, guild, _, viewer = world
    async with fake.running(TinyBot(guild.id)):
        r = await fake.slash("report", user=viewer)
        assert r.type == 9
        assert r.modal.title == "Report a lore error"
        assert r.modal.input_ids == ["summary", "details"]
        assert r.modal.components[0]["type"] == 18  # a Label wrapping the text input
        with pytest.raises(InvalidInteraction):
            await fake.submit_modal(r, {"details": "no summary"})
        r2 = await fake.submit_modal(r, {"summary": "wrong episode number"})
        assert r2.type == 4 and r2.ephemeral
        assert r2.content == "thanks: wrong episode number / -"


async def test_files_defer_followups_and_options(world):
    fake, guild, admin, viewer = world
    async with fake.running(TinyBot(guild.id)):
        r = await fake.slash("export", user=viewer)
        assert r.ephemeral
        assert r.files == {"rouge.yaml": b"name: Rouge\n"}
        assert r.attachments[0].url.startswith(fake.base_url)

        r = await fake.slash("slow", user=viewer)
        assert r.type == 5
        assert r.content == "done thinking"  # the first follow-up fills the deferred message
        assert r.ephemeral
        assert [m.content for m in r.messages] == ["done thinking", "and one more thing"]

        r = await fake.slash("where", {"channel": guild.channels["spoilers"], "count": 3}, user=viewer)
        assert r.content == "spoilers x3"
        with pytest.raises(InvalidInteraction):
            await fake.slash("where", {"count": 3}, user=viewer)  # required option missing

        who = await fake.context_menu("Who is this", admin, user=viewer)
        assert who.content == "that is Admin"
        quoted = await fake.context_menu("Quote", r, user=viewer)
        assert quoted.content == "> spoilers x3"

        r = await fake.slash("local", user=viewer)
        assert r.content == "local to Rouge Fans"
        assert r.interaction["data"]["guild_id"] == str(guild.id)


async def test_subcommands_attachments_and_permissions(world):
    fake, guild, admin, viewer = world
    async with fake.running(TinyBot(guild.id)):
        att = fake.attachment("pack.yaml", b"name: rouge\nepisodes: 12\n")
        r = await fake.slash("lore-admin", {"import": {"file": att}}, user=admin)
        assert r.content == "imported pack.yaml: 25 bytes, first line 'name: rouge'"
        r = await fake.slash("lore-admin import", {"file": att}, user=admin)
        assert r.content.startswith("imported pack.yaml")
        data = r.interaction["data"]
        assert data["options"][0]["type"] == 1 and data["options"][0]["name"] == "import"
        assert str(att.id) in data["resolved"]["attachments"]

        r = await fake.slash("lore-admin packs list", {"kind": "Fan"}, user=admin)  # choice by name
        assert r.content == "packs of kind fan"
        assert r.interaction["data"]["options"][0]["type"] == 2

        with pytest.raises(CommandUnavailable):
            await fake.slash("lore-admin import", {"file": att}, user=viewer)
        assert r.interaction["member"]["permissions"] != "0"


async def test_command_waiting_for_a_confirmation_view(world):
    fake, guild, admin, viewer = world
    async with fake.running(TinyBot(guild.id)):
        start = time.monotonic()
        asked = await fake.slash("wipe", user=admin)
        assert asked.content == "Sure?" and asked.ephemeral
        with pytest.raises(InvalidInteraction, match="ephemeral"):
            await fake.click(asked, "yes", user=viewer)  # nobody else sees an ephemeral message
        done = await fake.click(asked, label="Yes")  # answered by the waiting command's task
        assert done.type == 7 and done.content == "wiped" and done.components == []
        assert time.monotonic() - start < 1.0  # parked on View.wait(), not waited out


async def test_bot_error_is_reported(world):
    fake, guild, _, viewer = world
    logging.getLogger("discord.app_commands.tree").disabled = False
    async with fake.running(TinyBot(guild.id)):
        with pytest.raises(NoResponse, match="kaboom"):
            await fake.slash("crash", user=viewer)
        r = await fake.slash("crash", user=viewer, require_response=False)
        assert not r.responded and not r.timed_out
        assert "RuntimeError: kaboom" in r.errors[-1]


async def test_oversized_payloads_are_violations(world):
    fake, guild, _, viewer = world
    with pytest.raises(ViolationsError) as info:
        async with fake.running(TinyBot(guild.id)):
            r = await fake.slash("essay", user=viewer, require_response=False)
            assert r.type is None  # Discord answers 400 Invalid Form Body
            assert any(v.rule == "embed.description" for v in r.violations)
            choices = await fake.autocomplete(
                "greedy", {"word": "w"}, focused="word", user=viewer, require_response=False
            )
            assert choices.result.violations[0].rule == "autocomplete.choices"
            r = await fake.slash("shout", user=viewer)  # project rule: recorded, not rejected
            assert r.content == "@everyone hi"
    rules = {v.rule for v in info.value.violations}
    assert {"embed.description", "autocomplete.choices", "allowed_mentions.parse"} <= rules


async def test_clean_shutdown_and_on_ready(world):
    fake, guild, _, _viewer = world
    bot = TinyBot(guild.id, guild_ready_timeout=0.05)  # don't sit out discord.py's 2 s on_ready delay
    async with fake.running(bot, wait_ready=True):
        assert bot.ready_seen
    assert bot.is_closed()
    assert all(c.closed for c in fake.connections)


async def test_openapi_schema_is_checked_too(world):
    fake, guild, _, viewer = world
    if fake._openapi is None:
        pytest.skip("Discord's OpenAPI document (../shared/discord-api/openapi.json) is not available")
    async with fake.running(TinyBot(guild.id), check_violations=False):
        r = await fake.slash("longlink", user=viewer, require_response=False)
    found = {(v.rule, v.where) for v in r.violations}
    assert ("button.url", "data.components[0].components[0].url") in found
    assert ("openapi", "data.components[0].components[0].url") in found


async def test_pytest_plugin_fixture(fake_discord):  # noqa: F811
    guild = fake_discord.add_guild("Plugin Guild")
    member = fake_discord.add_member(guild, "Someone")
    async with fake_discord.running(TinyBot(guild.id)):
        r = await fake_discord.slash("ping", user=member)
    assert r.content == "pong"
