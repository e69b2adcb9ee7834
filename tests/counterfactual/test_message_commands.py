"""The counterfactual property for the message commands: "Look up lore" under (E, mode) answers a
message exactly as the visible world at E would (under ``tag``: outside the spoiler spans), and
"Check for spoilers" at a channel's episode E says, outside its one spoiler span, exactly what the
visible world says: whether the message spoils anything shows nowhere but inside the span.

Messages are drawn from the names and aliases of *every* entry of the canon (later ones included),
everyday words and the words reveal phrases are made of, in any case, glued by punctuation.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cogs.messages import check_reply, plan_lookup
from lore.packs import CANON_PACK_PATH, parse_text, validate
from lore.spoilers import Mode, Policy
from tests.counterfactual.harness import EPISODES, MODES, Worlds, assert_same, embed_out

pytestmark = pytest.mark.skipif(not CANON_PACK_PATH.exists(), reason="canon pack not present")

EXAMPLES = 60
WORDS = ["is", "was", "being", "the", "a", "killed", "dies", "dead", "not", "human", "lol", "brother", "father"]
SEPS = [" ", ", ", "! ", "'s ", "\n", " — ", "||", "*"]


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    loop = asyncio.new_event_loop()
    pack = validate(parse_text(CANON_PACK_PATH.read_bytes(), name=CANON_PACK_PATH.name))
    w = loop.run_until_complete(Worlds.open(pack, tmp_path_factory.mktemp("message-worlds")))
    yield w, loop
    loop.run_until_complete(w.close())
    loop.close()


def message_strategy(pool: list[str]) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(pool), st.sampled_from(pool), st.sampled_from(WORDS))

    @st.composite
    def message(draw: st.DrawFn) -> str:
        parts = draw(st.lists(piece, min_size=1, max_size=6))
        text = ""
        for p in parts:
            p = p.lower() if draw(st.booleans()) else p
            text += (draw(st.sampled_from(SEPS)) if text else "") + p
        return text

    return message()


def surfaces(svc, policy: Policy, text: str) -> dict[str, object]:
    planned = plan_lookup(svc, None, text, policy)
    return {
        "look-up": {
            "embeds": [embed_out(e) for e in planned.pages],
            "content": planned.content,
            "options": planned.options,
        },
        "check": {"embeds": [], "content": check_reply(svc, None, text, policy.episode), "options": []},
    }


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("episode", EPISODES)
def test_message_commands_answer_as_the_visible_world(worlds, episode, mode):
    w, _loop = worlds
    pool = sorted({text for e in w.pack.entries for text, _ in e.all_names()})

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(text=message_strategy(pool))
    def run(text: str) -> None:
        policy = Policy(episode, mode)
        real = surfaces(w.real, policy, text)
        visible = surfaces(w.visible[episode], policy, text)
        # the look-up follows the policy's mode; the check's verdict is always inside its span
        look_up = {"look-up": real["look-up"]}, {"look-up": visible["look-up"]}
        assert_same(*look_up, mode, f"look up {text!r} at {episode}, {mode.value}")
        checked = {"check": real["check"]}, {"check": visible["check"]}
        assert_same(*checked, Mode.TAG, f"check {text!r} at {episode}")

    run()


def test_the_check_does_tell_inside_its_span(worlds):
    """The property is not met by saying nothing: inside the span the worlds differ."""
    w, _loop = worlds
    text = "Jill is Flash Silvia"
    assert check_reply(w.real, None, text, 3) != check_reply(w.visible[3], None, text, 3)
