"""/relations and /timeline end to end: the PNG arrives as an attachment the embed shows, within
Discord's limits, gated by the policy in force (server, channel, private progress)."""

from __future__ import annotations

import io

from PIL import Image

from fakediscord import FakeDiscord
from tests.counterfactual.markup import outside, spans

EPHEMERAL = 64
PNG = b"\x89PNG\r\n\x1a\n"


def _image_of(result, index: int = 0) -> bytes:
    embed = result.embeds[index]
    url = embed["image"]["url"]
    assert url.startswith("attachment://")
    files = result.files
    name = url.removeprefix("attachment://")
    assert name in files, (name, list(files))
    return files[name]


async def test_relations_map_arrives_as_a_png_the_embed_shows(world):
    lone = await world.fake.slash("relations", {"name": "naomi"}, user=world.viewer, channel=world.ch())
    assert "No relations to draw" in lone.all_text and not lone.attachments  # episode 0: nothing yet
    await world.fake.slash("spoilers episode", {"number": 6}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("relations", {"name": "rouge"}, user=world.viewer, channel=world.ch())
    assert not r.ephemeral
    embed = r.embeds[0]
    assert embed["title"] == "Relations: Rouge Redstar"
    assert embed["footer"]["text"].startswith("Spoilers: up to episode 6 · tag")
    data = _image_of(r)
    assert data.startswith(PNG)
    assert len(data) <= r.interaction.get("attachment_size_limit", 10 * 1024 * 1024)
    img = Image.open(io.BytesIO(data))
    assert img.width <= 4096 and img.height <= 4096
    assert [a.filename for a in r.attachments] == ["relations-rouge-redstar.png"]


async def test_relations_follow_the_policy_and_the_map_changes_with_it(world):
    ch = world.ch()
    await world.fake.slash("spoilers episode", {"number": 1}, user=world.admin, channel=ch)
    r1 = await world.fake.slash("relations", {"name": "immortal nine", "depth": 2}, user=world.viewer, channel=ch)
    assert "1 related entry" in r1.all_text
    await world.fake.slash("spoilers episode", {"number": 8}, user=world.admin, channel=ch)
    r8 = await world.fake.slash("relations", {"name": "immortal nine", "depth": 2}, user=world.viewer, channel=ch)
    assert "2 related entries" in r8.all_text  # Jet Black Noir joins at episode 8
    assert _image_of(r1) != _image_of(r8)
    assert "episode 8" in r8.embeds[0]["footer"]["text"]
    # the same question again is answered from the cache: the same bytes
    again = await world.fake.slash("relations", {"name": "immortal nine", "depth": 2}, user=world.viewer, channel=ch)
    assert _image_of(again) == _image_of(r8)


async def test_a_later_entry_gets_no_map(world):
    ch = world.ch()
    await world.fake.slash("spoilers mode", {"mode": "hide"}, user=world.admin, channel=ch)
    r = await world.fake.slash("relations", {"name": "jet black noir"}, user=world.viewer, channel=ch)
    assert r.ephemeral and not r.attachments
    assert "Jet Black Noir" not in r.all_text
    await world.fake.slash("spoilers mode", {"mode": "tag"}, user=world.admin, channel=ch)
    tagged = await world.fake.slash("relations", {"name": "jet black noir"}, user=world.viewer, channel=ch)
    # under tag: the hide reply, plus the spoiler note every miss carries
    assert not tagged.attachments and not tagged.embeds
    assert outside(tagged.content).rstrip("\n") == r.content
    assert "Jet Black Noir" in spans(tagged.content)[-1]


async def test_relations_autocomplete_is_gated(world):
    choices = await world.fake.autocomplete(
        "relations", {"name": "jet"}, focused="name", user=world.viewer, channel=world.ch()
    )
    assert all("Jet Black Noir" not in c.name for c in choices)


async def test_private_relations_use_your_progress(world):
    await world.fake.slash("progress set", {"episode": 8}, user=world.viewer, channel=world.ch())
    r = await world.fake.slash("relations", {"name": "rouge", "private": True}, user=world.viewer, channel=world.ch())
    assert "Jet Black Noir" not in r.all_text
    assert r.ephemeral
    assert "up to episode 8" in r.embeds[0]["footer"]["text"]
    assert _image_of(r).startswith(PNG)


async def test_timeline_pages_arrive_and_stop_at_the_policy(world):
    ch = world.ch()
    empty = await world.fake.slash("timeline", {}, user=world.viewer, channel=ch)
    assert empty.ephemeral and not empty.attachments
    assert "beyond the spoiler setting here (up to episode 0)" in empty.all_text
    await world.fake.slash("spoilers episode", {"number": 3}, user=world.admin, channel=ch)
    r = await world.fake.slash("timeline", {}, user=world.viewer, channel=ch)
    assert r.embeds and all(e["footer"]["text"].startswith("Spoilers: up to episode 3") for e in r.embeds)
    for i in range(len(r.embeds)):
        assert _image_of(r, i).startswith(PNG)
    assert all(a.filename.startswith("timeline-ep1") for a in r.attachments)
    later = await world.fake.slash("timeline", {"from": 5}, user=world.viewer, channel=ch)
    assert later.ephemeral and "Episode 5 is beyond" in later.all_text
    backwards = await world.fake.slash("timeline", {"from": 3, "to": 2}, user=world.viewer, channel=ch)
    assert backwards.ephemeral and "must not come after" in backwards.all_text


async def test_help_lists_the_picture_commands(world):
    r = await world.fake.slash("help", {}, user=world.viewer, channel=world.ch())
    assert "/relations" in r.all_text and "/timeline" in r.all_text


async def test_no_violations_of_discord_rules(world):
    await world.fake.slash("relations", {"name": "rouge", "depth": 2}, user=world.viewer, channel=world.ch())
    assert isinstance(world.fake, FakeDiscord)
    assert not world.fake.violations
