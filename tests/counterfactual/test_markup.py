"""Hostile markup: a pack whose every field holds Discord markup (pipes, backticks, code spans, `>`,
mentions, backslashes, emphasis) cannot pull later lore out of its spoiler spans.

Every piece of later lore carries a marker (``LATER…``). At every episode of the suite, in both
modes, every output of every surface is (1) the visible world's (outside spans, under ``tag``),
and (2) parsed the way Discord parses spoiler spans (:mod:`tests.counterfactual.markup`), shows no
marker outside a span where Discord renders markdown, and none at all where it does not (titles,
footers, choices, option and button labels, CLI JSON keys outside spans).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from lore.model import Pack
from lore.spoilers import Mode, Policy
from tests.counterfactual.harness import (
    EPISODES,
    MODES,
    Worlds,
    assert_same,
    fixed_surfaces,
    lookup_surfaces,
    query_pool,
)
from tests.counterfactual.markup import outside, segments, spans

#: Markup that could open or close something in Discord, and the text that ends up next to it.
HOSTILE = ["||", "|", "`", "``", "```", "> ", "\\", "<@123>", "@everyone", "**", "_", "~~", "[x](y)", "# ", "-# "]
MARK = "LATER"
#: A marker: which item (kind letter, entry number) and the episode that reveals it.
_MARKER = re.compile(MARK + r"[a-z]\d+e(\d+)")


def later_markers(text: str, episode: int) -> list[str]:
    """The markers in ``text`` of items revealed after ``episode``."""
    return [m.group(0) for m in _MARKER.finditer(text) if int(m.group(1)) > episode]


def h(i: int, text: str) -> str:
    """``text`` wrapped in two pieces of hostile markup (different ones for different ``i``)."""
    return f"{HOSTILE[i % len(HOSTILE)]}{text}{HOSTILE[(i * 7 + 3) % len(HOSTILE)]}"


def hostile_pack() -> Pack:
    entries: list[dict[str, Any]] = [
        {
            "slug": "immortal-nine",
            "kind": "faction",
            "name": "Immortal Nine",
            "summary": h(1, "Nine ||of them|| `ruling` > the city"),
            "facts": [
                {"text": h(2, "They rule."), "episode": 0, "source": "t"},
                {"text": h(3, f"{MARK}g0e7 their secret"), "episode": 7, "source": "t"},
            ],
        }
    ]
    for i in range(9):
        intro = [0, 0, 1, 2, 3, 5, 7, 9, 12][i]
        late = min(intro + 2 + i % 3, 13)
        entries.append(
            {
                "slug": f"member-{i}",
                "kind": "character",
                "name": h(i, f"Member{i}"),
                "introduced": intro,
                "summary": h(i + 1, f"Summary {i} || with `code` and > quote"),
                "later_summaries": [{"text": h(i + 2, f"{MARK}s{i}e{late} new summary"), "episode": late}],
                "aliases": [
                    {"name": h(i + 3, f"Early{i}"), "episode": intro},
                    {"name": h(i + 4, f"{MARK}a{i}e{late}"), "episode": late},
                ],
                "facts": [
                    {"text": h(i + 5, f"Fact {i}"), "episode": intro, "source": "t"},
                    {"text": h(i + 6, f"{MARK}f{i}e{late} twist"), "episode": late, "source": "t"},
                ],
                "attributes": [
                    {"label": "Power", "value": h(i + 7, f"Power {i}"), "episode": intro, "source": "t"},
                    {"label": "Weapon", "value": h(i + 8, f"{MARK}w{i}e{late}"), "episode": late, "source": "t"},
                ],
                "relations": [
                    {"type": "member_of", "target": "immortal-nine", "episode": intro, "note": h(i + 9, "joined")},
                    {
                        "type": "opposes",
                        "target": f"member-{(i + 1) % 9}",
                        "episode": late,
                        "note": h(i + 10, f"{MARK}r{i}e{late}"),
                    },
                ],
                "status": {"state": "alive", "episode": intro, "note": h(i + 11, "fine")},
                "later_statuses": [{"state": "deceased", "episode": late, "note": h(i + 12, f"{MARK}d{i}e{late}")}],
            }
        )
    for n in (4, 9):  # an episode's title is revealed by the preview at n-1, its synopsis at n
        entries.append(
            {
                "slug": f"episode-{n}",
                "kind": "episode",
                "name": h(n, f"Episode {n}: {MARK}t{n}e{n - 1} title"),
                "introduced": 0,
                "summary": h(n + 1, "An episode."),
                "episode": {
                    "number": n,
                    "title": h(n, f"{MARK}t{n}e{n - 1} title"),
                    "title_ja": h(n + 2, f"{MARK}j{n}e{n - 1}"),
                    "air_date": "2024-02-01",
                    "cast": [{"character": "member-1", "episode": n}],
                },
                "facts": [{"text": h(n + 3, f"{MARK}y{n}e{n} synopsis"), "episode": n, "source": "t"}],
            }
        )
    return Pack.model_validate({"pack": {"name": "hostile", "sources": [{"id": "t"}]}, "entries": entries})


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    loop = asyncio.new_event_loop()
    pack = hostile_pack()
    w = loop.run_until_complete(Worlds.open(pack, tmp_path_factory.mktemp("hostile")))
    yield w, loop
    loop.run_until_complete(w.close())
    loop.close()


#: Embed keys and reply parts whose text Discord renders as markdown.
_RENDERED = {"description", "value", "content"}


def _strings(obj: Any, key: str | None = None) -> list[tuple[str | None, str]]:
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _strings(v, k)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in _strings(v, key)]
    return [(key, obj)] if isinstance(obj, str) else []


def _no_marker_outside_spans(surfaces: dict[str, Any], episode: int, context: str) -> None:
    for name, value in surfaces.items():
        if name.startswith("cli/"):  # JSON: every string is drawn by whoever shows it; spans only
            for _key, text in _strings(value):
                assert not later_markers(outside(text), episode), f"{context} {name}: {text!r}"
            continue
        for key, text in _strings(value):
            if key in _RENDERED or (name.startswith(("relations/miss", "quiz")) and key is None):
                seen = outside(text)
            else:
                seen = text  # titles, field names, footers, labels, choices: no markdown at all
            assert not later_markers(seen, episode), f"{context} {name}/{key}: {text!r}"


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("episode", EPISODES)
def test_hostile_text_keeps_later_lore_in_its_spans(hostile, episode, mode):
    w, loop = hostile
    policy = Policy(episode, mode)
    queries = [q for q in query_pool(w.pack.entries)]
    queries += ["member", "early", "later", "||", "`", "power", "summary"]
    for query in queries:
        real = loop.run_until_complete(lookup_surfaces(w.real, policy, query))
        visible = loop.run_until_complete(lookup_surfaces(w.visible[episode], policy, query))
        context = f"query {query!r} at episode {episode}, {mode.value}"
        assert_same(real, visible, mode, context)
        if MARK not in query:  # a reply may echo the viewer's own words
            _no_marker_outside_spans(real, episode, context)
    real = loop.run_until_complete(fixed_surfaces(w.real, policy))
    visible = loop.run_until_complete(fixed_surfaces(w.visible[episode], policy))
    assert_same(real, visible, mode, f"episode {episode}, {mode.value}")
    _no_marker_outside_spans(real, episode, f"fixed surfaces at episode {episode}, {mode.value}")


def test_the_hostile_pack_reaches_every_field(hostile):
    """The test above tests something: at the finale, every marked item is shown somewhere, and
    under tag at episode 0 the markers a card holds are inside its spans."""
    w, loop = hostile
    shown = json.dumps(
        [loop.run_until_complete(lookup_surfaces(w.real, Policy(13, Mode.HIDE), f"member-{i}")) for i in range(9)],
        ensure_ascii=False,
    )
    for kind in "safwrd":
        assert all(re.search(f"{MARK}{kind}{i}e", shown) for i in range(9)), kind
    finale = json.dumps(loop.run_until_complete(fixed_surfaces(w.real, Policy(13, Mode.HIDE))), ensure_ascii=False)
    assert all(f"{MARK}{kind}{n}e" in finale for kind in "tjy" for n in (4, 9))
    roster = loop.run_until_complete(fixed_surfaces(w.real, Policy(3, Mode.TAG)))["roster"]
    later = [t for _k, t in _strings(roster) if MARK in t or "member" in t]
    assert later and any(spans(t) for t in later)
    card = loop.run_until_complete(lookup_surfaces(w.real, Policy(0, Mode.TAG), "member-0"))["answer/lore"]
    texts = [t for _k, t in _strings(card["embeds"])]
    assert any(f"{MARK}f0e" in s for t in texts for s in spans(t))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a ||b|| c", [("a ", False), ("b", True), (" c", False)]),
        ("\\|\\|b\\|\\|", [("\\|\\|b\\|\\|", False)]),  # escaped pipes open nothing
        ("`||b||` c", [("`||b||` c", False)]),  # a code span hides markup
        ("||a `||` b||", [("a `", True), ("` b||", False)]),  # a span closes at the next pair, code or not
        ("||||", [("||||", False)]),  # an empty span is no span
        ("|||x||", [("|x", True)]),
        ("||a\\||", [("a\\", True)]),  # lazily closed: the backslash escapes the first pipe only
        ("``a`b`` ||c||", [("``a`b`` ", False), ("c", True)]),
        ("||open", [("||open", False)]),
    ],
)
def test_spans_are_found_as_discord_finds_them(text, expected):
    assert [(s.text, s.spoiler) for s in segments(text)] == expected


def test_unescaped_markup_is_caught(hostile, monkeypatch):
    """The test can fail: with pack text no longer escaped, a hostile name pulls later lore out of
    (or pushes visible text into) a span, and the comparison catches it."""
    import sys

    import lore.markup

    original = lore.markup.escape
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name.startswith(("lore.", "bot.")) and getattr(module, "escape", None) is original:
            monkeypatch.setattr(module, "escape", lambda text: text)
    w, loop = hostile
    with pytest.raises(AssertionError):
        for episode in (0, 3):
            policy = Policy(episode, Mode.TAG)
            for query in query_pool(w.pack.entries):
                real = loop.run_until_complete(lookup_surfaces(w.real, policy, query))
                visible = loop.run_until_complete(lookup_surfaces(w.visible[episode], policy, query))
                assert_same(real, visible, Mode.TAG, query)
                if MARK not in query:
                    _no_marker_outside_spans(real, episode, query)
