"""Every autocomplete offers what its command would answer, and nothing beyond the channel's episode."""

from __future__ import annotations


async def _choices(world, command, option, text, *, user=None, channel=None, **options):
    return await world.fake.autocomplete(
        command,
        {option: text, **options},
        focused=option,
        user=user or world.viewer,
        channel=channel or world.ch(),
    )


async def _set(world, episode: int, mode: str) -> None:
    await world.fake.slash("spoilers episode", {"number": episode}, user=world.admin, channel=world.ch())
    await world.fake.slash("spoilers mode", {"mode": mode}, user=world.admin, channel=world.ch())


async def test_lore_query_offers_every_kind_the_channel_may_see(world):
    await _set(world, 2, "hide")
    choices = await _choices(world, "lore", "query", "a")
    assert "aletheia" in choices.values  # a faction
    mixed = await _choices(world, "lore", "query", "")
    kinds_seen = set(mixed.values)
    assert {"rouge-redstar", "mars", "aletheia"} <= kinds_seen  # characters, places and factions
    assert "gene-junghardt" not in kinds_seen and "jet-black-noir" not in kinds_seen  # later lore
    # what a choice carries is what the command resolves
    r = await world.fake.slash("lore", {"query": choices.values[0]}, user=world.viewer, channel=world.ch())
    assert r.embeds and r.embeds[0]["title"] == "Aletheia"


async def test_faction_offers_factions_only_and_only_known_ones(world):
    await _set(world, 1, "hide")
    early = await _choices(world, "faction", "name", "")
    assert early.values == ["immortal-nine"]  # Aletheia and Ochrona are introduced in episode 2
    await _set(world, 2, "hide")
    later = await _choices(world, "faction", "name", "")
    assert set(later.values) == {"immortal-nine", "aletheia", "ochrona"}
    assert "rouge-redstar" not in (await _choices(world, "faction", "name", "rou")).values
    typo = await _choices(world, "faction", "name", "okhrona")
    assert typo.values[:1] == ["ochrona"]


async def test_concept_offers_concepts_and_places(world):
    choices = await _choices(world, "concept", "name", "ma")
    assert choices.values[:1] == ["mars"]
    none = await _choices(world, "concept", "name", "rouge")
    assert len(none) == 1 and "No match" in none.names[0]  # a character is not a concept


async def test_immortal_nine_offers_only_members_known_at_the_episode(world):
    await _set(world, 1, "hide")
    members = await _choices(world, "immortal-nine", "member", "")
    assert members.values == ["phantom-verde"]
    # a non-member is not offered even when the text names it
    assert "rouge-redstar" not in (await _choices(world, "immortal-nine", "member", "rouge")).values
    await _set(world, 8, "hide")
    later = await _choices(world, "immortal-nine", "member", "")
    assert set(later.values) == {"phantom-verde", "jet-black-noir"}
    # private replies follow the user's own progress, and so does their autocomplete
    await _set(world, 1, "hide")
    await world.fake.slash("progress set", {"episode": 8}, user=world.viewer, channel=world.ch())
    mine = await _choices(world, "immortal-nine", "member", "", private=True)
    assert set(mine.values) == {"phantom-verde", "jet-black-noir"}


async def test_lore_admin_autocomplete_sees_what_the_channel_sees(world):
    await _set(world, 2, "hide")
    choices = await _choices(world, "lore-admin edit", "name", "jun", user=world.admin)
    assert "roy-junghardt" in choices.values
    assert "gene-junghardt" not in choices.values  # episode 3: beyond the channel, even for admins
    for command in ("lore-admin fact", "lore-admin alias", "lore-admin remove", "lore-admin history"):
        assert "aletheia" in (await _choices(world, command, "name", "alet", user=world.admin)).values
    # a server's own entry is offered here and nowhere else
    opened = await world.fake.slash(
        "lore-admin add", {"kind": "concept", "name": "Canal Market"}, user=world.admin, channel=world.ch()
    )
    summary_id = next(i["custom_id"] for i in opened.modal.inputs if "Summary" in i["label"])
    await world.fake.submit_modal(opened, {summary_id: "Stalls by the water."})
    here = await _choices(world, "lore-admin edit", "name", "canal", user=world.admin)
    assert here.values[:1] == ["canal-market"]
    there = await _choices(
        world, "lore-admin edit", "name", "canal", user=world.other_admin, channel=world.ch(guild=world.other)
    )
    assert "canal-market" not in there.values
