"""Lookups end to end: cards, autocomplete gating, did-you-mean, pagination, policies, mentions."""

from __future__ import annotations

import pytest

from fakediscord import CommandUnavailable
from tests.counterfactual.markup import outside, spans

EPHEMERAL = 64


def footer(result) -> str:
    return result.embeds[0]["footer"]["text"]


async def test_commands_are_registered_as_the_public_interface(world):
    names = {c["name"] for c in world.fake.registered_commands()}
    assert names == {
        "lore",
        "character",
        "faction",
        "concept",
        "immortal-nine",
        "episode",
        "search",
        "progress",
        "help",
        "about",
        "spoilers",
        "lore-admin",
        "relations",
        "timeline",
        "quiz",
        "Look up lore",
        "Check for spoilers",
    }
    menus = {c["name"]: c["type"] for c in world.fake.registered_commands() if c["type"] != 1}
    assert menus == {"Look up lore": 3, "Check for spoilers": 3}  # message commands
    admin_groups = {c["name"]: c for c in world.fake.registered_commands() if c["name"] in ("spoilers", "lore-admin")}
    for cmd in admin_groups.values():
        assert int(cmd["default_member_permissions"]) == 1 << 5  # Manage Server
    subs = {o["name"] for o in admin_groups["lore-admin"]["options"]}
    assert subs == {"add", "edit", "fact", "alias", "remove", "history", "revert", "import", "export"}
    add = next(o for o in admin_groups["lore-admin"]["options"] if o["name"] == "add")
    kinds = {c["value"] for c in next(o for o in add["options"] if o["name"] == "kind")["choices"]}
    assert kinds == {"character", "faction", "concept", "location"}  # the form has no fields for the rest


async def test_character_card_with_typo(world):
    r = await world.fake.slash("character", {"name": "naomi ortman"}, user=world.viewer, channel=world.ch())
    assert r.type == 4 and not r.ephemeral
    card = r.embeds[0]
    assert card["title"] == "Naomi Orthmann"
    assert footer(r).startswith("Spoilers: up to episode 0 · tag")
    assert {"Also known as", "Status", "First appearance"} <= {f["name"] for f in card["fields"]}
    # the episode-6 fact is there, in the one spoiler block (default policy: episode 0, tag)
    later = next(f for f in card["fields"] if f["name"] == "Later episodes")["value"]
    assert "She is secretly an Ochrona agent." in spans(later)[0] and outside(later) == ""
    assert card["fields"][-1]["name"] == "Later episodes"


async def test_hide_mode_says_nothing_of_what_is_held_back(world):
    await world.fake.slash("spoilers mode", {"mode": "hide"}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("character", {"name": "naomi"}, user=world.viewer, channel=world.ch())
    assert "Ochrona agent" not in r.all_text and "||" not in r.all_text
    # no count: how much is held back would rank characters by how much is still to come
    assert footer(r) == "Spoilers: up to episode 0 · hide (server)"


@pytest.mark.parametrize(("mode", "expect_noir"), [("hide", False), ("tag", False), ("show", True)])
async def test_autocomplete_is_gated_by_the_reply_policy(world, mode, expect_noir):
    await world.fake.slash("spoilers episode", {"number": 3}, user=world.admin, channel=world.ch())
    await world.fake.slash("spoilers mode", {"mode": mode}, user=world.admin, channel=world.ch())
    choices = await world.fake.autocomplete(
        "character", {"name": "j"}, focused="name", user=world.viewer, channel=world.ch()
    )
    assert len(choices) <= 25
    assert ("jet-black-noir" in choices.values) is expect_noir
    assert all("Noir" not in n for n in choices.names) or expect_noir
    # a channel override changes what autocomplete offers there
    await world.fake.slash(
        "spoilers episode", {"number": 13, "channel": world.ch("finale")}, user=world.admin, channel=world.ch()
    )
    finale = await world.fake.autocomplete(
        "character", {"name": "jet"}, focused="name", user=world.viewer, channel=world.ch("finale")
    )
    assert "jet-black-noir" in finale.values


async def test_autocomplete_with_no_match_offers_a_single_hint(world):
    choices = await world.fake.autocomplete(
        "character", {"name": "zzqx"}, focused="name", user=world.viewer, channel=world.ch()
    )
    assert len(choices) == 1 and "No match" in choices.names[0]
    r = await world.fake.slash("character", {"name": choices.values[0]}, user=world.viewer, channel=world.ch())
    assert r.ephemeral and "pick one of the suggestions" in r.content


async def test_private_reply_uses_the_users_progress(world):
    await world.fake.slash("spoilers episode", {"number": 0}, user=world.admin, channel=world.ch())
    await world.fake.slash("spoilers mode", {"mode": "hide"}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("progress set", {"episode": 8}, user=world.viewer, channel=world.ch())
    assert r.ephemeral
    public = await world.fake.slash("character", {"name": "jet black noir"}, user=world.viewer, channel=world.ch())
    # the hidden entry does not exist here: no card, and no trace of it among the suggestions
    assert not public.embeds and "jet-black-noir" not in str(public.components)
    private = await world.fake.slash(
        "character", {"name": "jet black noir", "private": True}, user=world.viewer, channel=world.ch()
    )
    assert private.ephemeral and private.embeds[0]["title"] == "Jet Black Noir"
    assert "your progress" in footer(private)
    shown = await world.fake.slash("progress show", user=world.viewer, channel=world.ch())
    assert "episode **8**" in shown.content
    await world.fake.slash("progress clear", user=world.viewer, channel=world.ch())
    again = await world.fake.slash("progress show", user=world.viewer, channel=world.ch())
    assert "not set" in again.content


async def test_tag_mode_exact_name_of_a_later_entry_is_the_hide_reply_plus_a_spoiler_note(world):
    r = await world.fake.slash("character", {"name": "Jet Black Noir"}, user=world.viewer, channel=world.ch())
    assert not r.embeds and "episode 8" in spans(r.content)[-1]
    await world.fake.slash("spoilers mode", {"mode": "hide"}, user=world.admin, channel=world.ch())
    hidden = await world.fake.slash("character", {"name": "Jet Black Noir"}, user=world.viewer, channel=world.ch())
    assert outside(r.content).rstrip("\n") == hidden.content


async def test_did_you_mean_select_answers_with_the_chosen_entry(world):
    await world.fake.slash("spoilers episode", {"number": 5}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("lore", {"query": "junghardt"}, user=world.viewer, channel=world.ch())
    assert "Did you mean" in r.content
    select = r.selects[0]
    assert {o["value"] for o in select["options"]} == {"roy-junghardt", "gene-junghardt"}
    stranger = await world.fake.select(r, None, ["roy-junghardt"], user=world.viewer2)
    assert stranger.ephemeral and "belong to the person" in stranger.content
    chosen = await world.fake.select(r, None, ["roy-junghardt"], user=world.viewer)
    assert chosen.embeds[0]["title"] == "Roy Junghardt"
    assert not chosen.components


async def test_no_match_is_ephemeral_with_visible_suggestions(world):
    r = await world.fake.slash("lore", {"query": "qqq zzz"}, user=world.viewer, channel=world.ch())
    assert r.ephemeral and "nothing called" in r.content


async def test_roster_episode_help_about(world):
    await world.fake.slash("spoilers episode", {"number": 3}, user=world.admin, channel=world.ch())
    roster = await world.fake.slash("immortal-nine", user=world.viewer, channel=world.ch())
    assert "Phantom Verde" in roster.embeds[0]["description"]
    page = roster.embeds[0]
    # introduced in episode 8: only inside the roster's spoiler block
    assert "Jet Black Noir" not in outside(page["description"]) + "".join(outside(f["value"]) for f in page["fields"])
    assert "Jet Black Noir" in spans(page["fields"][-1]["value"])[0]
    member = await world.fake.slash("immortal-nine", {"member": "verde"}, user=world.viewer, channel=world.ch())
    assert member.embeds[0]["title"] == "Phantom Verde"
    ep = await world.fake.slash("episode", {"number": 1}, user=world.viewer, channel=world.ch())
    assert "Crimson Is the Sound of Dawn" in ep.embeds[0]["title"]
    assert "2024-01-11" in ep.embeds[0]["description"]
    helped = await world.fake.slash("help", user=world.viewer, channel=world.ch())
    assert "/character" in helped.all_text and "up to episode 3" in helped.all_text
    about = await world.fake.slash("about", user=world.viewer, channel=world.ch())
    assert "Bot version" in about.all_text


async def test_members_cannot_use_admin_commands(world):
    with pytest.raises(CommandUnavailable):
        await world.fake.slash("spoilers status", user=world.viewer, channel=world.ch())
    # a server owner may re-grant the command in the integration settings: the run-time check holds
    for command, options in [
        ("spoilers status", {}),
        ("spoilers episode", {"number": 13}),
        ("lore-admin export", {}),
        ("lore-admin fact", {"name": "mars", "text": "x", "episode": 0}),
    ]:
        r = await world.fake.slash(command, options, user=world.viewer, channel=world.ch(), check_permissions=False)
        assert r.ephemeral and "Manage Server" in r.content
    status = await world.fake.slash("spoilers status", user=world.admin, channel=world.ch())
    assert "up to episode 0" in status.content  # nothing changed


async def test_override_order_channel_over_server(world):
    await world.fake.slash("spoilers episode", {"number": 2}, user=world.admin, channel=world.ch())
    await world.fake.slash(
        "spoilers episode", {"number": 9, "channel": world.ch("finale")}, user=world.admin, channel=world.ch()
    )
    await world.fake.slash(
        "spoilers mode", {"mode": "hide", "channel": world.ch("slow")}, user=world.admin, channel=world.ch()
    )
    status = await world.fake.slash("spoilers status", user=world.admin, channel=world.ch())
    assert "Channel overrides" in status.content and "up to episode 9" in status.content
    general = await world.fake.slash("character", {"name": "rouge"}, user=world.viewer, channel=world.ch())
    finale = await world.fake.slash("character", {"name": "rouge"}, user=world.viewer, channel=world.ch("finale"))
    slow = await world.fake.slash("character", {"name": "rouge"}, user=world.viewer, channel=world.ch("slow"))
    assert footer(general).startswith("Spoilers: up to episode 2 · tag")
    assert footer(finale).startswith("Spoilers: up to episode 9 · tag")
    assert footer(slow).startswith("Spoilers: up to episode 2 · hide")
    await world.fake.slash("spoilers reset", {"channel": world.ch("finale")}, user=world.admin, channel=world.ch())
    finale = await world.fake.slash("character", {"name": "rouge"}, user=world.viewer, channel=world.ch("finale"))
    assert footer(finale).startswith("Spoilers: up to episode 2")
    # another server is unaffected
    elsewhere = await world.fake.slash(
        "character", {"name": "rouge"}, user=world.other_admin, channel=world.ch(guild=world.other)
    )
    assert footer(elsewhere).startswith("Spoilers: up to episode 0 · tag")


async def test_threads_and_forum_posts_follow_their_parent_channel(world):
    from fakediscord.models import GUILD_FORUM

    fake, guild = world.fake, world.guild
    forum = fake.add_channel(guild, "episode-talk", type=GUILD_FORUM)
    await fake.slash("spoilers episode", {"number": 13}, user=world.admin, channel=world.ch())
    for channel in (world.ch("slow"), forum):  # a newcomers' channel and a forum held back to episode 2
        for option, value in (("number", 2), ("mode", "hide")):
            cmd = "spoilers episode" if option == "number" else "spoilers mode"
            r = await fake.slash(cmd, {option: value, "channel": channel}, user=world.admin, channel=world.ch())
            assert channel.mention in r.content
    thread = fake.add_thread(guild, "first-timers", parent=world.ch("slow"))
    post = fake.add_thread(guild, "Episode 2 discussion", parent=forum)
    main = await fake.slash("character", {"name": "rouge"}, user=world.viewer, channel=world.ch())
    assert footer(main).startswith("Spoilers: up to episode 13")
    for where in (thread, post):
        r = await fake.slash("character", {"name": "rouge"}, user=world.viewer, channel=where)
        assert footer(r).startswith("Spoilers: up to episode 2 · hide (channel)"), footer(r)
        ac = await fake.autocomplete("character", {"name": "jet"}, focused="name", user=world.viewer, channel=where)
        assert "jet-black-noir" not in ac.values and all("Noir" not in n for n in ac.names)
    # without the parent's override, the thread is back on the server's setting
    await fake.slash("spoilers reset", {"channel": world.ch("slow")}, user=world.admin, channel=world.ch())
    r = await fake.slash("character", {"name": "rouge"}, user=world.viewer, channel=thread)
    assert footer(r).startswith("Spoilers: up to episode 13 · tag (server)")
