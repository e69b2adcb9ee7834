"""Reveal phrases: the pack field the spoiler check recognises twists by (never shown)."""

from __future__ import annotations

import pytest

from lore.model import Entry, RevealPhrase
from lore.packs import CANON_PACK_PATH, PackError, load_pack, validate
from lore.visible import visible_entry


def _pack(phrases: list[dict[str, object]]) -> dict[str, object]:
    return {
        "entries": [
            {"slug": "jill", "kind": "character", "name": "Jill", "introduced": 2},
            {
                "slug": "flash-silvia",
                "kind": "character",
                "name": "Silvia",
                "introduced": 1,
                "reveal_phrases": phrases,
            },
        ]
    }


def test_a_phrase_names_entries_and_words_with_alternatives():
    pack = validate(_pack([{"text": "{jill}  is|was {flash-silvia}", "episode": 7}]))
    phrase = pack.entries[1].reveal_phrases[0]
    assert phrase.text == "{jill} is|was {flash-silvia}"
    assert phrase.refs() == ["jill", "flash-silvia"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{jill}", "at least two items"),
        ("{Jill} is", "neither a word"),
        ("{jill} is||was", "neither a word"),
        ("{jill is", "neither a word"),
    ],
)
def test_a_malformed_phrase_is_refused_with_a_reason(text, why):
    with pytest.raises(PackError) as err:
        validate(_pack([{"text": text, "episode": 7}]))
    assert why in " ".join(err.value.errors)


def test_a_phrase_naming_an_unknown_entry_or_revealed_too_early_is_refused():
    with pytest.raises(PackError) as err:
        validate(_pack([{"text": "{nobody} is {jill}", "episode": 7}]))
    assert "no entry with slug 'nobody'" in " ".join(err.value.errors)
    with pytest.raises(PackError) as err:
        validate(_pack([{"text": "{jill} is here", "episode": 0}]))
    assert "revealed before the entry is introduced" in " ".join(err.value.errors)


def test_the_visible_world_has_no_later_phrase():
    entry = Entry.model_validate(
        {
            "slug": "flash-silvia",
            "kind": "character",
            "name": "Silvia",
            "introduced": 1,
            "reveal_phrases": [{"text": "{jill} is {flash-silvia}", "episode": 7}],
        }
    )
    world = {"jill": 2, "flash-silvia": 1}
    seen = visible_entry(entry, 6, world)
    assert seen is not None and seen.reveal_phrases == []
    seen = visible_entry(entry, 7, world)
    assert seen is not None and seen.reveal_phrases == entry.reveal_phrases
    seen = visible_entry(entry, 7, {"flash-silvia": 1})  # a world without Jill: the phrase goes too
    assert seen is not None and seen.reveal_phrases == []


def test_the_canon_declares_phrases_for_its_twists():
    pack = load_pack(CANON_PACK_PATH)
    phrases = [p for e in pack.entries for p in e.reveal_phrases]
    assert len(phrases) >= 40
    assert {p.episode for p in phrases} >= {4, 6, 7, 8, 9, 12, 13}
    for entry in pack.entries:
        for p in entry.reveal_phrases:
            assert isinstance(p, RevealPhrase)
            assert p.episode >= entry.introduced
            # every phrase restates a fact of its own episode: the entry has something revealed then
            revealed = {f.episode for f in entry.facts} | {s.episode for s in entry.statuses()}
            revealed |= {r.episode for r in entry.relations} | {s.episode for s in entry.later_summaries}
            assert p.episode in revealed, (entry.slug, p.text)
