"""Forms and components: checked again when submitted, answered even when the bot forgot them, and
their failures reported like a command's (one error path)."""

from __future__ import annotations

import logging

from bot.errors import EXPIRED
from bot.views import FORM_NEEDS_MANAGE, FORM_NOT_YOURS, FORM_OTHER_SERVER
from fakediscord import FakeDiscord, Perm
from tests.e2e.conftest import FAST_IDENTIFY, make_bot
from tests.e2e.test_admin import pack_with


def _summary_id(opened) -> str:
    return next(i["custom_id"] for i in opened.modal.inputs if "Summary" in i["label"])


async def _mars_state(world) -> tuple[str, int]:
    """What a forged submit must not change: Mars's summary here, and its revision count."""
    entry = world.bot.lore.get("mars", world.guild.id)
    _scope, revisions = await world.bot.lore.history(world.guild.id, "mars")
    return entry.summary, len(revisions)


async def test_a_forged_form_submit_is_refused_and_writes_nothing(world):
    opened = await world.fake.slash("lore-admin edit", {"name": "mars"}, user=world.admin, channel=world.ch())
    field = _summary_id(opened)
    before = await _mars_state(world)
    second_admin = world.fake.add_member(world.guild, "Second Admin", manage_guild=True)
    # the admin of the other server, who is also a member here with Manage Server there only
    world.fake.add_member(world.guild, user=world.other_admin.user)
    admin_elsewhere = world.fake.add_member(world.other, user=world.admin.user, manage_guild=True)

    forged = [
        (dict(user=second_admin), FORM_NOT_YOURS),  # another user, even one with Manage Server
        (dict(user=world.viewer), FORM_NOT_YOURS),  # a member
        (dict(user=admin_elsewhere, channel=world.ch(guild=world.other)), FORM_OTHER_SERVER),
    ]
    for who, refusal in forged:
        r = await world.fake.submit_modal(opened, {field: "Forged summary."}, **who)
        assert r.ephemeral and r.content == refusal
        assert await _mars_state(world) == before
    # the admin who opened it, after losing Manage Server
    kept_roles = list(world.admin.roles)
    world.admin.roles[:] = [r for r in world.admin.roles if not r.permissions & Perm.MANAGE_GUILD]
    r = await world.fake.submit_modal(opened, {field: "Forged summary."})
    assert r.ephemeral and r.content == FORM_NEEDS_MANAGE
    assert await _mars_state(world) == before
    # the form stays the opener's: with the permission back, it saves
    world.admin.roles[:] = kept_roles
    done = await world.fake.submit_modal(opened, {field: "The red frontier."})
    assert done.ephemeral and "Updated **Mars**" in done.content
    assert world.bot.lore.get("mars", world.guild.id).summary == "The red frontier."


async def test_an_add_form_submitted_by_someone_else_creates_nothing(world):
    opened = await world.fake.slash(
        "lore-admin add", {"kind": "concept", "name": "Club Canal"}, user=world.admin, channel=world.ch()
    )
    r = await world.fake.submit_modal(opened, {_summary_id(opened): "Forged."}, user=world.viewer)
    assert r.content == FORM_NOT_YOURS
    assert world.bot.lore.get("club-canal", world.guild.id) is None


async def test_an_error_inside_a_form_goes_down_the_one_error_path(world, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(world.bot.lore, "save_entry", broken)
    monkeypatch.setattr(world.bot.lore, "edit_entry", broken)
    opened = await world.fake.slash("lore-admin edit", {"name": "mars"}, user=world.admin, channel=world.ch())
    with caplog.at_level(logging.ERROR, logger="lorebot"):
        r = await world.fake.submit_modal(opened, {_summary_id(opened): "New."})
    assert r.ephemeral and r.content.startswith("Something went wrong while saving")
    assert "disk on fire" not in r.content
    assert any("form" in rec.getMessage() and rec.exc_info for rec in caplog.records)


async def test_an_error_inside_a_button_goes_down_the_one_error_path(world, monkeypatch, caplog):
    att = world.fake.attachment("fans.yaml", pack_with(30))
    await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("search", {"text": "glimmer"}, user=world.viewer, channel=world.ch())
    from bot.views import Paginator

    async def broken(self, interaction, index):
        raise RuntimeError("page fell off")

    monkeypatch.setattr(Paginator, "_show", broken)
    with caplog.at_level(logging.ERROR, logger="lorebot"):
        turned = await world.fake.click(r, label="›")
    assert turned.ephemeral and turned.content.startswith("Something went wrong while answering")
    assert any("component" in rec.getMessage() and rec.exc_info for rec in caplog.records)


async def test_menus_and_forms_from_before_a_restart_answer_that_they_expired(tmp_path):
    db = tmp_path / "restart.sqlite3"
    async with FakeDiscord(identify_interval=FAST_IDENTIFY) as fake:
        guild = fake.add_guild("Rouge Fans", channels=["general"])
        admin = fake.add_member(guild, "Admin", manage_guild=True)
        viewer = fake.add_member(guild, "Viewer")
        here = guild.channels["general"]
        async with fake.running(await make_bot(db, identify_interval=FAST_IDENTIFY)):
            att = fake.attachment("fans.yaml", pack_with(30))
            await fake.slash("lore-admin import", {"file": att}, user=admin, channel=here)
            await fake.slash("spoilers episode", {"number": 5}, user=admin, channel=here)
            pages = await fake.slash("search", {"text": "glimmer"}, user=viewer, channel=here)
            menu = await fake.slash("lore", {"query": "junghardt"}, user=viewer, channel=here)
            form = await fake.slash("lore-admin edit", {"name": "mars"}, user=admin, channel=here)
            assert pages.buttons and menu.selects and form.modal is not None
        async with fake.running(await make_bot(db, identify_interval=FAST_IDENTIFY)):
            stale_page = await fake.click(pages, label="›")
            stale_menu = await fake.select(menu, None, ["roy-junghardt"])
            stale_form = await fake.submit_modal(form, {_summary_id(form): "Saved after a restart?"})
            for r in (stale_page, stale_menu, stale_form):
                assert r.ephemeral and r.content == EXPIRED
                assert not r.violations
            # nothing was saved, and fresh commands work as ever
            again = await fake.slash("lore-admin edit", {"name": "mars"}, user=admin, channel=here)
            summary = next(i for i in again.modal.inputs if "Summary" in i["label"])
            assert summary.get("value") != "Saved after a restart?"
            fresh = await fake.slash("search", {"text": "glimmer"}, user=viewer, channel=here)
            turned = await fake.click(fresh, label="›")
            assert "page 2/" in turned.embeds[0]["footer"]["text"]


async def test_a_component_id_the_bot_never_made_answers_that_it_expired(world):
    r = await world.fake.slash("search", {"text": "rouge"}, user=world.viewer, channel=world.ch())
    from fakediscord.interactions import base_payload

    payload = base_payload(
        application_id=world.fake.application_id,
        itype=3,
        data={"custom_id": "not-a-menu-of-ours", "component_type": 2},
        user=world.viewer,
        channel=world.ch(),
        app_permissions=0,
        message=world.fake.messages[r.message.id].to_discord() if r.message else None,
    )
    answered = await world.fake.send_interaction(payload, actor=world.viewer, channel=world.ch())
    assert answered.ephemeral and answered.content == EXPIRED
