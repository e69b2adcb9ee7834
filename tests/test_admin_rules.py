"""The decisions behind /lore-admin, made by the service (the cog only phrases them)."""

from __future__ import annotations

import pytest

from lore import (
    EntryExists,
    Franchise,
    Kind,
    LoreError,
    Mode,
    Policy,
    new_entry,
    parse_aliases,
    parse_episode,
    shown_aliases,
)
from lore.model import EpisodeList, PackMeta

#: A franchise of 13 episodes without seasons (the canon's list).
THIRTEEN = Franchise.of(PackMeta(episodes=EpisodeList(count=13)))

G = 42
EVERYTHING = Policy(13, Mode.SHOW)


async def test_an_edit_needs_the_full_name_and_a_guess_is_only_offered(mini):
    assert mini.edit_target("mars", EVERYTHING, G).slug == "mars"
    assert mini.ask("mars", EVERYTHING, G).exact and not mini.ask("ochrna", EVERYTHING, G).exact
    with pytest.raises(LoreError, match=r"exactly “ochrna”\. Did you mean \*\*Ochrona\*\*"):
        mini.edit_target("ochrna", EVERYTHING, G)
    assert mini.edit_target("ochrna", EVERYTHING, G, exact=False).slug == "ochrona"
    with pytest.raises(LoreError, match="No entry called “qqq”"):
        mini.edit_target("qqq", EVERYTHING, G)


async def test_history_and_revert_reach_a_removed_entry_and_say_whose_history_it_is(mini):
    assert not (await mini.history(G, "mars")).own  # the canon's revisions: nothing to revert here
    revision = await mini.remove_entry(G, "mars", "admin")
    assert mini.restores("mars", revision, EVERYTHING) == 0  # the canon's version
    history = await mini.history(G, "mars")
    assert history.own and history.revisions[-1].is_removal
    assert await mini.history_target("mars", EVERYTHING, G, exact=True) == ("mars", "Mars")


async def test_a_new_entry_takes_a_free_slug(mini):
    with pytest.raises(EntryExists):
        mini.new_slug("Mars", EVERYTHING, G)
    assert mini.new_slug("Café Ünter Mars!", EVERYTHING, G) == "cafe-unter-mars"
    data = new_entry(
        Kind.LOCATION, "Phobos", "A moon.", parse_aliases(THIRTEEN, "Fear @ 3"), parse_episode(THIRTEEN, "2")
    )
    assert data["aliases"] == [{"name": "Fear", "episode": 3}] and data["slug"] == "phobos"
    revision = await mini.save_entry(G, data, "admin", "add")
    assert mini.restores("phobos", revision + 1, EVERYTHING) == revision  # the server's own: the one before
    with pytest.raises(LoreError, match="from 0 to 13"):
        parse_episode(THIRTEEN, "14")


async def test_a_form_shows_only_the_aliases_the_channel_may_see(mini):
    naomi = mini.get("naomi-orthmann")
    assert "Divine Facilitator" not in [a.name for a in shown_aliases(naomi, Policy(3, Mode.HIDE))]
    assert "Divine Facilitator" in [a.name for a in shown_aliases(naomi, EVERYTHING)]
