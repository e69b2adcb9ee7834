"""Admin flows end to end: forms, facts, aliases, removal, history and revert, import and export."""

from __future__ import annotations

import yaml

from tests.counterfactual.markup import outside, spans


def pack_with(n: int, word: str = "glimmer") -> bytes:
    entries = [
        {
            "slug": f"fan-entry-{i}",
            "kind": "concept",
            "name": f"Fan Entry {i}",
            "summary": f"A server-made entry about the {word} number {i}.",
            "facts": [{"text": f"It has a {word} of its own ({i}).", "episode": 0, "source": "fans"}],
        }
        for i in range(n)
    ]
    return yaml.safe_dump({"pack": {"name": "fans", "sources": [{"id": "fans"}]}, "entries": entries}).encode()


async def test_add_entry_through_the_form_stays_in_this_server(world):
    opened = await world.fake.slash(
        "lore-admin add", {"kind": "character", "name": "Club Regular"}, user=world.admin, channel=world.ch()
    )
    assert opened.type == 9 and opened.modal is not None
    ids = {i["custom_id"] for i in opened.modal.inputs}
    assert len(ids) == 3
    summary_id, aliases_id, episode_id = (i["custom_id"] for i in opened.modal.inputs)
    done = await world.fake.submit_modal(
        opened,
        {summary_id: "Sits by the stage every night.", aliases_id: "The Regular\nStage Ghost @ 2", episode_id: "1"},
    )
    assert done.ephemeral and "Added **Club Regular**" in done.content
    here = await world.fake.slash("character", {"name": "the regular"}, user=world.viewer, channel=world.ch())
    # server at episode 0, tag: the entry does not exist outside the spoiler note of the miss
    assert not here.embeds and "I found nothing called" in here.content
    assert spans(here.content) and "Club Regular" in spans(here.content)[-1]
    assert "Club Regular" not in outside(here.content)
    await world.fake.slash("spoilers episode", {"number": 1}, user=world.admin, channel=world.ch())
    here = await world.fake.slash("character", {"name": "club regular"}, user=world.viewer, channel=world.ch())
    assert here.embeds[0]["title"] == "Club Regular"
    later = next(f["value"] for f in here.embeds[0]["fields"] if f["name"] == "Later episodes")
    assert "Stage Ghost" in spans(later)[0] and not outside(later)
    there = await world.fake.slash(
        "character", {"name": "club regular"}, user=world.other_admin, channel=world.ch(guild=world.other)
    )
    assert not there.embeds


async def test_bad_form_input_changes_nothing(world):
    opened = await world.fake.slash(
        "lore-admin add", {"kind": "concept", "name": "Broken"}, user=world.admin, channel=world.ch()
    )
    summary_id, _aliases_id, episode_id = (i["custom_id"] for i in opened.modal.inputs)
    done = await world.fake.submit_modal(opened, {summary_id: "x", episode_id: "99"})
    assert done.ephemeral and "nothing was changed" in done.content
    export = await world.fake.slash("lore-admin export", user=world.admin, channel=world.ch())
    assert "(0 entries)" in export.content


async def test_edit_form_is_prefilled_and_copy_on_write(world):
    opened = await world.fake.slash("lore-admin edit", {"name": "mars"}, user=world.admin, channel=world.ch())
    summary = next(i for i in opened.modal.inputs if "Summary" in i["label"])
    assert summary.get("value") == "A colonised planet."
    await world.fake.submit_modal(opened, {summary["custom_id"]: "The red frontier of this server."})
    here = await world.fake.slash("concept", {"name": "mars"}, user=world.viewer, channel=world.ch())
    assert "red frontier" in here.embeds[0]["description"]
    there = await world.fake.slash(
        "concept", {"name": "mars"}, user=world.other_admin, channel=world.ch(guild=world.other)
    )
    assert "A colonised planet." in there.embeds[0]["description"]


async def test_fact_alias_history_revert_and_mention_safety(world):
    r = await world.fake.slash(
        "lore-admin fact",
        {"name": "mars", "text": "@everyone <@&123> visit the canals", "episode": 0},
        user=world.admin,
        channel=world.ch(),
    )
    assert "revision 1" in r.content
    await world.fake.slash(
        "lore-admin alias", {"name": "mars", "alias": "Red Planet"}, user=world.admin, channel=world.ch()
    )
    card = await world.fake.slash("concept", {"name": "red planet"}, user=world.viewer, channel=world.ch())
    assert "@everyone" in card.all_text
    # every message went out with allowed_mentions parse=[] (the fake fails the test otherwise)
    for req in card.requests:
        body = req.body or {}
        data = body.get("data", body)
        if "allowed_mentions" in data:
            assert data["allowed_mentions"].get("parse") == []
    history = await world.fake.slash("lore-admin history", {"name": "mars"}, user=world.admin, channel=world.ch())
    assert "add alias" in history.all_text and "add fact" in history.all_text
    await world.fake.slash("lore-admin revert", {"name": "mars", "revision": 1}, user=world.admin, channel=world.ch())
    gone = await world.fake.slash("concept", {"name": "red planet"}, user=world.viewer, channel=world.ch())
    assert not gone.embeds or gone.embeds[0]["title"] != "Mars"


async def test_remove_asks_and_only_the_admin_can_confirm(world):
    asked = await world.fake.slash("lore-admin remove", {"name": "mars"}, user=world.admin, channel=world.ch())
    assert "Remove **Mars**" in asked.content and len(asked.buttons) == 2
    cancel = await world.fake.click(asked, label="Cancel")
    assert "Nothing was removed" in cancel.content
    still = await world.fake.slash("concept", {"name": "mars"}, user=world.viewer, channel=world.ch())
    assert still.embeds[0]["title"] == "Mars"
    asked = await world.fake.slash("lore-admin remove", {"name": "mars"}, user=world.admin, channel=world.ch())
    confirmed = await world.fake.click(asked, label="Remove Mars")
    assert "Removed **Mars**" in confirmed.content
    gone = await world.fake.slash("concept", {"name": "mars"}, user=world.viewer, channel=world.ch())
    assert not gone.embeds
    elsewhere = await world.fake.slash(
        "concept", {"name": "mars"}, user=world.other_admin, channel=world.ch(guild=world.other)
    )
    assert elsewhere.embeds[0]["title"] == "Mars"


async def test_import_export_round_trip_with_real_attachments(world):
    att = world.fake.attachment("fans.yaml", pack_with(3))
    r = await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    assert "3 created" in r.all_text
    again = await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    assert "0 created, 0 updated, 3 unchanged" in again.all_text
    exported = await world.fake.slash("lore-admin export", user=world.admin, channel=world.ch())
    ((filename, data),) = exported.files.items()
    assert filename.endswith(".yaml")
    assert b"fan-entry-2" in data
    back = world.fake.attachment("back.yaml", data)
    r = await world.fake.slash("lore-admin import", {"file": back}, user=world.admin, channel=world.ch())
    assert "0 created, 0 updated" in r.all_text
    other = await world.fake.slash("lore-admin export", user=world.other_admin, channel=world.ch(guild=world.other))
    assert all(b"fan-entry" not in d for d in other.files.values())


async def test_bad_import_lists_every_error_and_changes_nothing(world):
    bad = yaml.safe_load(pack_with(2))
    bad["entries"][0]["facts"][0]["episode"] = 42
    bad["entries"][1]["kind"] = "spaceship"
    att = world.fake.attachment("bad.yaml", yaml.safe_dump(bad).encode())
    r = await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    assert "nothing changed" in r.all_text
    assert "entries[0].facts[0].episode: must be between 0 and 13" in r.all_text
    assert "entries[1].kind" in r.all_text
    exported = await world.fake.slash("lore-admin export", user=world.admin, channel=world.ch())
    assert all(b"fan-entry" not in d for d in exported.files.values())
    broken = world.fake.attachment("broken.yaml", b"entries: [\n - {slug: x")
    r = await world.fake.slash("lore-admin import", {"file": broken}, user=world.admin, channel=world.ch())
    assert "invalid YAML" in r.all_text


async def test_search_paginates_and_only_the_owner_turns_pages(world):
    att = world.fake.attachment("fans.yaml", pack_with(30))
    await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("search", {"text": "glimmer"}, user=world.viewer, channel=world.ch())
    assert "page 1/" in r.embeds[0]["footer"]["text"]
    labels = [b.get("label") for b in r.buttons]
    assert "›" in labels
    stranger = await world.fake.click(r, label="›", user=world.viewer2)
    assert stranger.ephemeral and "belong to the person" in stranger.content
    turned = await world.fake.click(r, label="›", user=world.viewer)
    assert "page 2/" in turned.embeds[0]["footer"]["text"]


async def test_admin_guesses_stay_within_the_channel_policy(world):
    # at episode 0 a fuzzy guess must not name an entry introduced later, even to an admin
    guess = await world.fake.slash("lore-admin remove", {"name": "jet blak"}, user=world.admin, channel=world.ch())
    assert "Noir" not in guess.all_text and not guess.buttons
    # named exactly, a later entry is still out of reach here: the reply says only how far it lies
    exact = await world.fake.slash(
        "lore-admin remove", {"name": "Jet Black Noir"}, user=world.admin, channel=world.ch()
    )
    # (answered as a name that exists nowhere: saying "beyond this channel" would confirm it exists)
    assert exact.content == "No entry called “Jet Black Noir” in this server's lore." and not exact.buttons
    # a later alias of a visible entry must not be turned into that entry's name either
    later_alias = await world.fake.slash(
        "lore-admin history", {"name": "Divine Facilitator"}, user=world.admin, channel=world.ch()
    )
    assert "Naomi" not in later_alias.all_text
    # from a channel whose setting reaches episode 8, the admin can act on it
    await world.fake.slash(
        "spoilers episode", {"number": 8, "channel": world.ch("finale")}, user=world.admin, channel=world.ch()
    )
    there = await world.fake.slash(
        "lore-admin remove", {"name": "Jet Black Noir"}, user=world.admin, channel=world.ch("finale")
    )
    assert "Remove **Jet Black Noir**" in there.content
    await world.fake.click(there, label="Cancel")


async def test_admin_writes_need_an_exact_name_or_a_picked_suggestion(world):
    guess = await world.fake.slash(
        "lore-admin fact",
        {"name": "naomi ortman", "text": "Likes tea.", "episode": 0},
        user=world.admin,
        channel=world.ch(),
    )
    assert "Did you mean **Naomi Orthmann**" in guess.content and "nothing was changed" in guess.content
    history = await world.fake.slash("lore-admin history", {"name": "naomi"}, user=world.admin, channel=world.ch())
    assert "this server follows the canon" in history.embeds[0]["footer"]["text"]
    picked = await world.fake.slash(
        "lore-admin fact",
        {"name": "naomi-orthmann", "text": "Likes tea.", "episode": 0},
        user=world.admin,
        channel=world.ch(),
    )
    assert "Added a fact to **Naomi Orthmann**" in picked.content


async def test_removed_canon_entry_comes_back_with_revision_zero(world):
    r = await world.fake.slash("lore-admin remove", {"name": "mars"}, user=world.admin, channel=world.ch())
    done = await world.fake.click(r, label="Remove Mars")
    assert "revert name:mars revision:0" in done.content
    gone = await world.fake.slash("concept", {"name": "mars"}, user=world.viewer, channel=world.ch())
    assert "nothing called" in gone.content
    history = await world.fake.slash("lore-admin history", {"name": "mars"}, user=world.admin, channel=world.ch())
    assert (
        "remove by" in history.embeds[0]["description"]
        and "**0.** the canon's version" in (history.embeds[0]["description"])
    )
    back = await world.fake.slash(
        "lore-admin revert", {"name": "mars", "revision": 0}, user=world.admin, channel=world.ch()
    )
    assert "follows the canon again" in back.content
    card = await world.fake.slash("concept", {"name": "mars"}, user=world.viewer, channel=world.ch())
    assert card.embeds[0]["title"] == "Mars"
    again = await world.fake.slash("lore-admin history", {"name": "mars"}, user=world.admin, channel=world.ch())
    assert (
        "back to the canon" in again.embeds[0]["description"]
        and "follows the canon now" in (again.embeds[0]["footer"]["text"])
    )
    twice = await world.fake.slash(
        "lore-admin revert", {"name": "mars", "revision": 0}, user=world.admin, channel=world.ch()
    )
    assert "already follows the canon" in twice.content


async def test_edit_form_saves_nothing_when_unchanged_or_when_the_entry_changed_meanwhile(world):
    opened = await world.fake.slash("lore-admin edit", {"name": "mars"}, user=world.admin, channel=world.ch())
    same = await world.fake.submit_modal(opened, {})
    assert "Nothing changed in **Mars**" in same.content
    history = await world.fake.slash("lore-admin history", {"name": "mars"}, user=world.admin, channel=world.ch())
    assert "this server follows the canon" in history.embeds[0]["footer"]["text"]
    stale = await world.fake.slash("lore-admin edit", {"name": "mars"}, user=world.admin, channel=world.ch())
    await world.fake.slash(
        "lore-admin fact", {"name": "mars", "text": "Dusty.", "episode": 0}, user=world.admin, channel=world.ch()
    )
    summary = next(i for i in stale.modal.inputs if "Summary" in i["label"])
    late = await world.fake.submit_modal(stale, {summary["custom_id"]: "Red."})
    assert "changed while this form was open" in late.content
    card = await world.fake.slash("concept", {"name": "mars"}, user=world.viewer, channel=world.ch())
    assert "Dusty." in card.all_text and "Red." not in card.embeds[0]["description"]


async def test_edit_form_shows_only_aliases_this_channel_may_see_and_keeps_the_rest(world):
    # the server is at episode 0: "Divine Facilitator" (episode 7) must not appear in the admin's form
    opened = await world.fake.slash("lore-admin edit", {"name": "naomi"}, user=world.admin, channel=world.ch())
    aliases = next(i for i in opened.modal.inputs if "Aliases" in i["label"])
    assert "Nami" in aliases["value"] and "Facilitator" not in opened.modal.text
    saved = await world.fake.submit_modal(opened, {aliases["custom_id"]: aliases["value"] + "\nNao"})
    # the reply is the one a world without the later alias gives; the later alias is kept as the
    # canon has it, and not copied into the server's lore (its export holds only what it wrote)
    assert "Updated **Naomi Orthmann**" in saved.content and "beyond" not in saved.content
    export = world.bot.lore.export(world.guild.id)
    assert "Facilitator" not in export and "Nao" in export
    await world.fake.slash("spoilers episode", {"number": 13}, user=world.admin, channel=world.ch())
    card = await world.fake.slash("character", {"name": "nao"}, user=world.viewer, channel=world.ch())
    names = next(f["value"] for f in card.embeds[0]["fields"] if f["name"] == "Also known as")
    assert "Nao" in names and "Divine Facilitator" in names
    # with everything in view, the form lists the later alias with its episode
    again = await world.fake.slash("lore-admin edit", {"name": "naomi"}, user=world.admin, channel=world.ch())
    assert "Divine Facilitator @ 7" in next(i for i in again.modal.inputs if "Aliases" in i["label"])["value"]


async def test_history_and_revert_do_not_reach_around_the_servers_own_version(world):
    # ambiguous: a server entry shares the alias "Naomi"; revert must refuse as fact does
    await world.fake.slash(
        "lore-admin fact",
        {"name": "naomi-orthmann", "text": "Likes tea.", "episode": 0},
        user=world.admin,
        channel=world.ch(),
    )
    att = world.fake.attachment(
        "fans.yaml",
        b"pack: {name: fans, sources: [{id: fans}]}\nentries:\n"
        b"  - {slug: naomi-the-cat, kind: character, name: Naomi the Cat, aliases: [{name: Naomi, shared: true}]}\n",
    )
    await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    r = await world.fake.slash(
        "lore-admin revert", {"name": "Naomi", "revision": 1}, user=world.admin, channel=world.ch()
    )
    assert "several entries" in r.content and "Reverted" not in r.content
    # beyond the channel: the server moved Mars to episode 10; at episode 0 its history is out of reach
    data = {"slug": "mars", "kind": "location", "name": "Mars", "introduced": 10, "summary": "Later."}
    await world.bot.lore.save_entry(world.guild.id, data, "admin", "edit")
    h = await world.fake.slash("lore-admin history", {"name": "mar"}, user=world.admin, channel=world.ch())
    assert not h.embeds and "History" not in h.all_text and "Mars" not in h.all_text
