"""Start-up, restart, shutdown, and Discord's limits enforced on what the bot sends."""

from __future__ import annotations

import pytest

from bot import embeds as embeds_module
from fakediscord import FakeDiscord, ViolationsError
from tests.e2e.conftest import FAST_IDENTIFY, make_bot


async def test_restart_does_not_resync_unchanged_commands_and_shuts_down_cleanly(tmp_path):
    db = tmp_path / "restart.sqlite3"
    async with FakeDiscord(identify_interval=FAST_IDENTIFY) as fake:
        guild = fake.add_guild("Rouge Fans")
        viewer = fake.add_member(guild, "Viewer")
        first = await make_bot(db, identify_interval=FAST_IDENTIFY)
        async with fake.running(first):
            r = await fake.slash("character", {"name": "rouge"}, user=viewer, channel=guild.channels["general"])
            assert r.embeds[0]["title"] == "Rouge Redstar"
        assert fake.global_sync_count == 1
        assert first.is_closed()
        second = await make_bot(db, identify_interval=FAST_IDENTIFY)
        async with fake.running(second):
            await fake.disconnect(4000)  # a dropped connection resumes; it never re-syncs
            r = await fake.slash("character", {"name": "rouge"}, user=viewer, channel=guild.channels["general"])
            assert r.embeds[0]["title"] == "Rouge Redstar"
        assert fake.global_sync_count == 1, "unchanged commands must not be synced again"
        assert fake.resume_count >= 1


async def test_a_changed_command_tree_is_synced_again(tmp_path):
    db = tmp_path / "changed.sqlite3"
    async with FakeDiscord(identify_interval=FAST_IDENTIFY) as fake:
        fake.add_guild("Rouge Fans")
        async with fake.running(await make_bot(db, identify_interval=FAST_IDENTIFY)):
            pass
        bot = await make_bot(db, identify_interval=FAST_IDENTIFY)

        @bot.tree.command(name="extra", description="A command added in a later version")
        async def extra(interaction):  # pragma: no cover - never invoked
            await interaction.response.send_message("hi")

        async with fake.running(bot):
            pass
        assert fake.global_sync_count == 2


async def test_the_suite_fails_when_the_bot_breaks_a_discord_limit(world, monkeypatch):
    """Proof that the fake enforces limits: a naive card builder that ignores them is caught."""
    import discord

    def naive_pages(view, franchise):
        text = " ".join(f.text for f in view.facts) * 200  # far beyond 4096 characters
        return [discord.Embed(title=view.title, description=text)]

    monkeypatch.setattr(embeds_module, "entry_pages", naive_pages)
    await world.fake.slash("spoilers mode", {"mode": "show"}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("character", {"name": "rouge"}, user=world.viewer, channel=world.ch())
    assert r.violations, "an oversized embed must be reported"
    assert any("description" in str(v) for v in r.violations)
    with pytest.raises(ViolationsError):
        world.fake.assert_no_violations()
    world.fake.take_violations()  # leave the fixture clean


async def test_an_oversized_entry_is_paged_within_limits(world):
    long_fact = ("The lore of this entry goes on and on " * 50).strip()
    pack = {
        "pack": {"name": "big", "sources": [{"id": "fans"}]},
        "entries": [
            {
                "slug": "long-story",
                "kind": "concept",
                "name": "Long Story",
                "summary": "A very long entry.",
                "facts": [{"text": f"{long_fact} ({i})", "episode": 0, "source": "fans"} for i in range(40)],
            }
        ],
    }
    import yaml

    att = world.fake.attachment("big.yaml", yaml.safe_dump(pack).encode())
    await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("concept", {"name": "long story"}, user=world.viewer, channel=world.ch())
    assert not r.violations
    assert "page 1/" in r.embeds[0]["footer"]["text"]
    last = await world.fake.click(r, label="»")
    assert not last.violations and "(39)" in last.all_text
