"""The message commands end to end (right-click a message → Apps): "Look up lore" and "Check for
spoilers", with the moderator's repost button, through the real client against fake Discord."""

from __future__ import annotations

import re

import pytest

from fakediscord import FakeChannel, FakeDiscord, FakeMember, FakeMessage, FileAttachment, Perm
from lore.packs import CANON_PACK_PATH
from tests.e2e.conftest import open_world

SPAN = re.compile(r"\|\|((?:\\.|[^|\\])*)\|\|", re.DOTALL)


def said(fake: FakeDiscord, channel: FakeChannel, member: FakeMember, content: str) -> FakeMessage:
    """A member's message in ``channel`` (the fake has no gateway for members' messages: the bot,
    without the message-content intent, only ever sees it through the message command)."""
    msg = fake._new_message(None, channel.id, channel.guild.id if channel.guild else None)
    msg.author = member.user.to_dict()
    msg.content = content
    return msg


def outside_spans(text: str) -> str:
    return SPAN.sub("||…||", text)


@pytest.fixture
async def canon_world(tmp_path):
    async with open_world(tmp_path, channels=("general", "finale"), pack=CANON_PACK_PATH) as w:
        await w.fake.slash("spoilers episode", {"number": 3}, user=w.admin, channel=w.ch())
        yield w


async def test_look_up_lore_lists_what_the_message_names_at_the_viewers_progress(canon_world):
    w = canon_world
    msg = said(w.fake, w.ch(), w.viewer2, "Naomi and Flash Silvia vs Jet Black Noir, and Gene's face!")
    r = await w.fake.context_menu("Look up lore", msg, user=w.viewer, channel=w.ch())
    assert r.ephemeral
    listing = r.embeds[0]
    assert listing["title"] == "Lore named in this message"
    # at the channel's episode 3: Silvia is known (not as Flash Silvia), Noir is not there at all
    assert "Naomi Orthmann" in listing["description"] and "Silvia" in listing["description"]
    assert "Gene Junghardt" in listing["description"]
    assert "Noir" not in outside_spans(r.all_text)
    assert "Jet Black Noir" in r.content and "episode 8" in r.content  # the one spoiler block (tag)
    assert r.content.startswith("||") and r.content.endswith("||")
    options = [o["value"] for o in r.selects[0]["options"]]
    assert options == ["naomi-orthmann", "flash-silvia", "gene-junghardt"]
    card = await w.fake.select(r, r.selects[0]["custom_id"], ["flash-silvia"], user=w.viewer)
    assert card.embeds[0]["title"] == "Silvia"

    # the viewer's own progress gates their answer: at 8 Jet Black Noir is there
    await w.fake.slash("progress set", {"episode": 8}, user=w.viewer, channel=w.ch())
    r = await w.fake.context_menu("Look up lore", msg, user=w.viewer, channel=w.ch())
    assert "Jet Black Noir" in r.embeds[0]["description"]
    assert "Flash Silvia" in r.embeds[0]["description"]


async def test_look_up_lore_with_one_name_or_none(canon_world):
    w = canon_world
    one = await w.fake.context_menu("Look up lore", said(w.fake, w.ch(), w.viewer2, "rouge!!"), user=w.viewer)
    assert one.ephemeral and one.embeds[0]["title"] == "Rouge Redstar"
    none = await w.fake.context_menu("Look up lore", said(w.fake, w.ch(), w.viewer2, "lol ok"), user=w.viewer)
    assert none.ephemeral and none.content.startswith("I found no lore names in this message.")


async def test_check_for_spoilers_against_the_channels_episode(canon_world):
    w = canon_world
    msg = said(w.fake, w.ch(), w.viewer2, "can't believe Jill was Flash Silvia the whole time")
    r = await w.fake.context_menu("Check for spoilers", msg, user=w.viewer, channel=w.ch())
    assert r.ephemeral and not r.buttons  # a member without Manage Messages gets no button
    assert "episode 3" in outside_spans(r.content)
    (verdict,) = SPAN.findall(r.content)  # every word of the verdict is inside the one span
    assert verdict.startswith("Yes") and "Flash Silvia" in verdict and "episode 7" in verdict
    # the viewer's own progress does not matter: the check is about this channel
    await w.fake.slash("progress set", {"episode": 13}, user=w.viewer, channel=w.ch())
    again = await w.fake.context_menu("Check for spoilers", msg, user=w.viewer, channel=w.ch())
    assert again.content == r.content
    # a channel at episode 7 has seen it
    await w.fake.slash("spoilers episode", {"number": 7, "channel": w.ch("finale")}, user=w.admin, channel=w.ch())
    msg7 = said(w.fake, w.ch("finale"), w.viewer2, "can't believe Jill was Flash Silvia the whole time")
    ok = await w.fake.context_menu("Check for spoilers", msg7, user=w.viewer, channel=w.ch("finale"))
    assert SPAN.findall(ok.content)[0].startswith("No")
    # the reply looks the same from outside whatever the verdict
    assert outside_spans(ok.content).replace("7", "3") == outside_spans(r.content)


async def test_a_moderator_reposts_under_spoiler_tags_and_the_original_goes(canon_world):
    w = canon_world
    mod = w.fake.add_member(w.guild, "Mod", permissions=Perm.MANAGE_MESSAGES)
    bot_role = w.guild.roles[w.fake.bot_user.name]
    bot_role.permissions |= Perm.MANAGE_MESSAGES
    msg = said(w.fake, w.ch(), w.viewer2, "the Puppetmaster is Roy ||lol|| <@&1> @everyone")
    r = await w.fake.context_menu("Check for spoilers", msg, user=mod, channel=w.ch())
    assert [b["label"] for b in r.buttons] == ["Repost under spoiler tags"]
    done = await w.fake.click(r, r.buttons[0]["custom_id"], user=mod)
    assert "deleted the original" in done.all_text
    assert w.fake.messages[msg.id].deleted
    (repost,) = [m for m in w.fake.channel_messages(w.ch()) if "hidden as a possible spoiler" in m.content]
    assert f"<@{w.viewer2.user.id}>" in repost.content and "Second Viewer" in repost.content  # credited
    assert repost.history[0]["allowed_mentions"] == {"parse": []}  # nobody is pinged
    body = repost.content.split("\n", 1)[1]
    assert len(SPAN.findall(body)) == 1 and body.startswith("||") and body.endswith("||")
    assert "Puppetmaster is Roy" in body


async def test_without_manage_messages_the_bot_reposts_and_says_it_cannot_delete(canon_world):
    w = canon_world
    mod = w.fake.add_member(w.guild, "Mod", permissions=Perm.MANAGE_MESSAGES)
    msg = said(w.fake, w.ch(), w.viewer2, "Eden is Jet Black Noir")
    r = await w.fake.context_menu("Check for spoilers", msg, user=mod, channel=w.ch())
    done = await w.fake.click(r, r.buttons[0]["custom_id"], user=mod)
    assert "could not delete the original" in done.all_text and "Manage Messages" in done.all_text
    assert not w.fake.messages[msg.id].deleted
    assert any("hidden as a possible spoiler" in m.content for m in w.fake.channel_messages(w.ch()))


async def test_the_button_checks_manage_messages_again_when_pressed(canon_world):
    w = canon_world
    role = w.fake.add_role(w.guild, "Helpers", Perm.MANAGE_MESSAGES)
    mod = w.fake.add_member(w.guild, "Helper", roles=[role])
    msg = said(w.fake, w.ch(), w.viewer2, "Eden is Jet Black Noir")
    r = await w.fake.context_menu("Check for spoilers", msg, user=mod, channel=w.ch())
    assert r.buttons
    role.permissions = 0  # the role lost the permission meanwhile
    refused = await w.fake.click(r, r.buttons[0]["custom_id"], user=mod)
    assert "Manage Messages" in refused.all_text
    assert not w.fake.messages[msg.id].deleted
    assert not any("hidden as a possible spoiler" in m.content for m in w.fake.channel_messages(w.ch()))


async def test_help_lists_the_message_commands(canon_world):
    w = canon_world
    r = await w.fake.slash("help", user=w.viewer, channel=w.ch())
    fields = {f["name"]: f["value"] for f in r.embeds[0]["fields"]}
    menus = fields["Message commands (right-click a message → Apps)"]
    assert "**Check for spoilers**" in menus and "**Look up lore**" in menus


async def test_a_repost_carries_the_files_as_spoilers(canon_world):
    w = canon_world
    mod = w.fake.add_member(w.guild, "Mod", permissions=Perm.MANAGE_MESSAGES)
    w.guild.roles[w.fake.bot_user.name].permissions |= Perm.MANAGE_MESSAGES
    msg = said(w.fake, w.ch(), w.viewer2, "look who it is: Jet Black Noir")
    att = w.fake.attachment("noir.png", b"\x89PNG not really", "image/png")
    msg.attachments = [FileAttachment(att.id, att.filename, att.data, att.content_type, url=att.url)]
    r = await w.fake.context_menu("Check for spoilers", msg, user=mod, channel=w.ch())
    done = await w.fake.click(r, r.buttons[0]["custom_id"], user=mod)
    assert "deleted the original" in done.all_text
    (repost,) = [m for m in w.fake.channel_messages(w.ch()) if "hidden as a possible spoiler" in m.content]
    assert [(a.filename, a.data) for a in repost.attachments] == [("SPOILER_noir.png", b"\x89PNG not really")]
