"""Buttons and menus that nobody presses disable themselves in place; an unanswered confirmation removes nothing."""

from __future__ import annotations

import asyncio

import pytest

from bot.views import Confirm, DidYouMean, Paginator
from fakediscord.result import iter_components
from tests.e2e.test_admin import pack_with

EXPIRY = 0.3


@pytest.fixture
def short_views(monkeypatch):
    for view in (Paginator, DidYouMean, Confirm):
        monkeypatch.setattr(view, "TIMEOUT", EXPIRY)


async def live_components(world, message_id: int, wait: float = 5.0) -> list[dict]:
    """The message's components as Discord now holds them, once every one is disabled (or ``wait`` passes)."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        parts = [c for c in iter_components(world.fake.messages[message_id].components) if c["type"] != 1]
        if all(c.get("disabled") for c in parts) or asyncio.get_running_loop().time() > deadline:
            return parts
        await asyncio.sleep(0.05)


async def test_search_pages_disable_on_timeout(world, short_views):
    att = world.fake.attachment("fans.yaml", pack_with(30))
    await world.fake.slash("lore-admin import", {"file": att}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("search", {"text": "glimmer"}, user=world.viewer, channel=world.ch())
    assert any(not b.get("disabled") for b in r.buttons), "a fresh page has buttons to press"
    parts = await live_components(world, r.message.id)
    assert parts and all(c.get("disabled") for c in parts)
    assert "page 1/" in world.fake.messages[r.message.id].embeds[0]["footer"]["text"], "the page itself stays"


async def test_did_you_mean_disables_on_timeout(world, short_views):
    await world.fake.slash("spoilers episode", {"number": 5}, user=world.admin, channel=world.ch())
    r = await world.fake.slash("lore", {"query": "junghardt"}, user=world.viewer, channel=world.ch())
    assert r.selects and not r.selects[0].get("disabled")
    parts = await live_components(world, r.message.id)
    assert [c["type"] for c in parts] == [3] and parts[0].get("disabled")


async def test_unanswered_removal_disables_and_removes_nothing(world, short_views):
    r = await world.fake.slash("lore-admin remove", {"name": "mars"}, user=world.admin, channel=world.ch())
    assert "Remove **Mars**" in r.content
    parts = await live_components(world, r.message.id)
    assert parts and all(c.get("disabled") for c in parts)
    still = await world.fake.slash("concept", {"name": "mars"}, user=world.viewer, channel=world.ch())
    assert still.embeds[0]["title"] == "Mars"
