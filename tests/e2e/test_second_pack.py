"""A second franchise through the same bot: the synthetic two-season test pack
(tests/data/clockwork_orchard.yaml, 24 episodes) run through the real client against the fake
Discord and through ``lorebot console``. Its commands register with its own ranges and roster
command, its spoilers are gated at episode 20 (S2E8), and nothing of the canon shows anywhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fakediscord import FakeDiscord
from tests.conftest import SECOND_PACK
from tests.counterfactual.markup import outside, spans
from tests.e2e.conftest import make_bot, open_world
from tests.e2e.test_schedule import FIRST, TICK, Clock, announcements, wait_for

#: Words of the canon (Metallic Rouge) that must never reach a user of another franchise.
CANON_WORDS = re.compile(r"metallic|rouge|immortal|nean|naomi|aletheia|ochrona|usurper|bones", re.IGNORECASE)


@pytest.fixture
async def orchard(tmp_path: Path) -> AsyncIterator[Any]:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Orchard Fans", channels=["general"])
        admin = fake.add_member(guild, "Admin", manage_guild=True)
        viewer = fake.add_member(guild, "Viewer")
        bot = await make_bot(tmp_path / "orchard.sqlite3", pack=SECOND_PACK)
        async with fake.running(bot):
            yield fake, guild, admin, viewer


def options(command: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in command.get("options", [])}


def registered(fake: FakeDiscord) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in fake.registered_commands()}


def sub(command: dict[str, Any], name: str) -> dict[str, Any]:
    return options(command)[name]


def assert_no_canon(text: str) -> None:
    found = CANON_WORDS.findall(text)
    assert not found, f"canon words in a reply of another franchise: {found}"


async def test_its_commands_register_with_its_episode_list_and_roster(orchard):
    fake, *_ = orchard
    cmds = registered(fake)
    assert "gearwardens" in cmds and "immortal-nine" not in cmds
    roster = cmds["gearwardens"]
    assert roster["description"] == "The Gearwardens: the roster, or one member's card"
    assert options(roster)["member"]["description"] == "One Gearwarden (leave empty for the roster)"
    assert options(roster)["member"]["autocomplete"] is True
    episode = options(cmds["episode"])["number"]
    assert (episode["min_value"], episode["max_value"], episode["description"]) == (1, 24, "Episode number, 1 to 24")
    progress = sub(cmds["progress"], "set")
    assert (options(progress)["episode"]["min_value"], options(progress)["episode"]["max_value"]) == (0, 24)
    spoilers = options(sub(cmds["spoilers"], "episode"))["number"]
    assert (spoilers["min_value"], spoilers["max_value"]) == (0, 24)
    assert spoilers["description"] == "Episodes watched, 0 to 24"
    fact = options(sub(cmds["lore-admin"], "fact"))["episode"]
    assert (fact["min_value"], fact["max_value"]) == (0, 24)
    timeline = options(cmds["timeline"])
    assert (timeline["from"]["max_value"], timeline["to"]["max_value"]) == (24, 24)
    assert_no_canon(str(fake.registered_commands()))


async def test_spoilers_are_gated_at_episode_20(orchard):
    fake, guild, admin, viewer = orchard
    ch = guild.channels["general"]
    await fake.slash("spoilers episode", {"number": 19}, user=admin, channel=ch)
    before = await fake.slash("character", {"name": "tomas wick"}, user=viewer, channel=ch)
    card = before.embeds[0]
    assert card["title"] == "Tomas Wick"
    later = next(f["value"] for f in card["fields"] if f["name"] == "Later episodes")
    assert "secretly the Pruner" in spans(later)[0]  # under tag: only inside the one spoiler block
    assert "secretly the Pruner" not in outside(before.all_text.replace(later, ""))
    mara = await fake.slash("character", {"name": "mara quill"}, user=viewer, channel=ch)
    status = next(f["value"] for f in mara.embeds[0]["fields"] if f["name"] == "Status")
    assert status.startswith("Alive")
    # episode 20's title comes with the preview at the end of 19; episode 21's does not
    beyond = await fake.slash("episode", {"number": 21}, user=viewer, channel=ch)
    assert "After the Shears" not in outside(beyond.all_text)

    await fake.slash("spoilers episode", {"number": 20}, user=admin, channel=ch)
    after = await fake.slash("character", {"name": "tomas wick"}, user=viewer, channel=ch)
    facts = " ".join(f["value"] for f in after.embeds[0]["fields"] if f["name"] != "Later episodes")
    assert "secretly the Pruner" in outside(facts)
    mara = await fake.slash("character", {"name": "mara quill"}, user=viewer, channel=ch)
    status = next(f["value"] for f in mara.embeds[0]["fields"] if f["name"] == "Status")
    assert status.startswith("Deceased (episode 20)")
    card = await fake.slash("episode", {"number": 20}, user=viewer, channel=ch)
    assert "The Shears Fall" in card.all_text
    assert "Spoilers: up to episode 20 (S2E8)" in card.embeds[0]["footer"]["text"]


async def test_episodes_typed_by_season_and_episode(orchard):
    fake, guild, admin, viewer = orchard
    ch = guild.channels["general"]
    opened = await fake.slash("lore-admin add", {"kind": "character", "name": "Late Gardener"}, user=admin, channel=ch)
    summary_id, aliases_id, episode_id = (i["custom_id"] for i in opened.modal.inputs)
    assert opened.modal.inputs[2]["label"] == "Introduced in episode (0-24 or s2e3)"
    done = await fake.submit_modal(
        opened, {summary_id: "Arrives late.", aliases_id: "The Latecomer @ s2e9", episode_id: "s2e8"}
    )
    assert "Added **Late Gardener**" in done.content and "introduced in episode 20 (S2E8)" in done.content
    bad = await fake.slash("lore-admin add", {"kind": "concept", "name": "Nowhere"}, user=admin, channel=ch)
    summary_id, _aliases, episode_id = (i["custom_id"] for i in bad.modal.inputs)
    refused = await fake.submit_modal(bad, {summary_id: "x", episode_id: "s3e1"})
    assert refused.ephemeral and "There is no season 3: the series has 2 seasons" in refused.content
    assert "nothing was changed" in refused.content
    again = await fake.slash("lore-admin add", {"kind": "concept", "name": "Nowhere"}, user=admin, channel=ch)
    refused = await fake.submit_modal(again, {again.modal.inputs[2]["custom_id"]: "s2e13"})
    assert "Season 2: Harvest has episodes 1 to 12" in refused.content
    await fake.slash("spoilers episode", {"number": 20}, user=admin, channel=ch)
    seen = await fake.slash("character", {"name": "late gardener"}, user=viewer, channel=ch)
    assert seen.embeds[0]["title"] == "Late Gardener"
    assert "The Latecomer" in spans(seen.all_text)[0]  # revealed at S2E9 = episode 21


async def test_replies_name_episodes_by_season_and_episode(tmp_path):
    """Wherever a reply names an episode, a pack with seasons gets its code too: episode 20 is
    "episode 20 (S2E8)" (the canon, without seasons, says "episode 20" as before)."""
    clock = Clock()
    async with open_world(
        tmp_path, channels=("general", "episodes"), pack=SECOND_PACK, clock=clock, schedule_interval=TICK
    ) as w:
        fake, ch, admin, viewer = w.fake, w.ch(), w.admin, w.viewer
        at = await fake.slash("spoilers episode", {"number": 20}, user=admin, channel=ch)
        assert at.content == "Spoilers in this server: up to episode **20** (S2E8)."
        status = await fake.slash("spoilers status", user=admin, channel=ch)
        assert "**In force in this channel:** up to episode 20 (S2E8) · tag" in status.content
        assert "**Server setting:** up to episode 20 (S2E8)\n" in status.content
        helped = await fake.slash("help", user=viewer, channel=ch)
        assert "**Spoilers here:** up to episode 20 (S2E8) · tag" in helped.embeds[0]["description"]
        card = await fake.slash("character", {"name": "sela fen"}, user=viewer, channel=ch)
        first = next(f["value"] for f in card.embeds[0]["fields"] if f["name"] == "First appearance")
        assert first == "Episode 5 (S1E5)"
        drawn = await fake.slash("timeline", {"from": 21}, user=viewer, channel=ch)
        assert drawn.content.startswith(
            "Episode 21 (S2E9) is beyond the spoiler setting here (up to episode 20 (S2E8))"
        )
        fact = await fake.slash(
            "lore-admin fact",
            {"name": "sela fen", "text": "Hums while she works.", "episode": 14},
            user=admin,
            channel=ch,
        )
        assert "Added a fact to **Sela Fen** (episode 14 (S2E2), revision" in fact.content

        started = await fake.slash(
            "spoilers schedule start",
            {"start": "2027-01-07 20:00 Europe/Paris", "every": 7, "announce": w.ch("episodes")},
            user=admin,
            channel=ch,
        )
        assert f"episode 21 (S2E9) opens <t:{int(FIRST)}:F>" in started.content
        assert "then one episode every 7 days until episode 24 (S2E12)" in started.content
        clock.now = FIRST + 60
        await wait_for(lambda: announcements(w), "the announcement")
        (posted,) = announcements(w)
        assert posted.startswith("📺 **Episode 21 (S2E9)** is open for discussion.")
        assert "Next: episode 22 (S2E10) <t:" in posted
        shown = await fake.slash("spoilers schedule show", user=admin, channel=ch)
        assert "**This server**: episode 22 (S2E10) opens" in shown.content


async def test_roster_help_about_and_colours_are_the_packs(orchard):
    fake, guild, admin, viewer = orchard
    ch = guild.channels["general"]
    await fake.slash("spoilers episode", {"number": 24}, user=admin, channel=ch)
    roster = await fake.slash("gearwardens", user=viewer, channel=ch)
    text = roster.all_text
    assert "Ivo Brass" in text and "Mara Quill" in text and "Sela Fen" in text
    assert roster.embeds[0]["color"] == 0xA1B2C3
    member = await fake.slash("gearwardens", {"member": "ivo"}, user=viewer, channel=ch)
    assert member.embeds[0]["title"] == "Ivo Brass" and member.embeds[0]["color"] == 0xA1B2C3
    choices = await fake.autocomplete("gearwardens", {"member": "ma"}, focused="member", user=viewer, channel=ch)
    assert "Mara Quill" in choices.names
    tree = await fake.slash("lore", {"query": "central tree"}, user=viewer, channel=ch)
    assert tree.embeds[0]["color"] == 0x44DD44  # the pack's colour for places
    helped = await fake.slash("help", user=viewer, channel=ch)
    assert helped.embeds[0]["title"] == "Clockwork Orchard test bot"
    assert "/gearwardens" in helped.all_text and "/immortal-nine" not in helped.all_text
    about = await fake.slash("about", user=viewer, channel=ch)
    assert about.embeds[0]["title"] == "The Clockwork Orchard"
    assert "Synthetic lore written for the test suite" in about.all_text
    replies = [roster, member, tree, helped, about]
    for name in ("ivo brass", "tomas wick", "the pruner", "gearwardens", "rust choir", "winding key"):
        replies.append(await fake.slash("lore", {"query": name}, user=viewer, channel=ch))
    replies.append(await fake.slash("episode", {"number": 24}, user=viewer, channel=ch))
    replies.append(await fake.slash("search", {"text": "tree"}, user=viewer, channel=ch))
    replies.append(await fake.slash("spoilers status", user=admin, channel=ch))
    replies.append(await fake.slash("progress set", {"episode": 22}, user=viewer, channel=ch))
    for reply in replies:
        assert_no_canon(reply.all_text)
        for embed in reply.embeds:
            assert_no_canon(str(embed))


def test_the_console_serves_the_second_pack(tmp_path):
    script = "\n".join(
        [
            "/help",
            "/spoilers episode number:20",
            "/character name:tomas wik",
            "/gearwardens",
            "/episode number:25",
            ":quit",
        ]
    )
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--pack", str(SECOND_PACK), "console"],
        input=script + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Clockwork Orchard test bot" in out and "/gearwardens" in out
    assert "up to episode **20**" in out
    assert "secretly the Pruner" in out
    assert "Ivo Brass" in out
    assert "25" in out and "24" in out  # the number is refused against the pack's range
    assert_no_canon(out)
