"""The spoiler check and the message lookup (lore.spoilercheck), on the canon pack and on the
labelled fan messages of tests/data/spoiler_messages.yaml."""

from __future__ import annotations

import re

import pytest

from bench.spoilercheck import EPISODES, canon_catalog, load_messages, measure
from lore.markup import NOTHING_LATER
from lore.spoilercheck import Catalog, check_spoilers, lookup_names, verdict_text
from lore.spoilers import Mode, Policy

SPAN = re.compile(r"\|\|((?:\\.|[^|\\])*)\|\|", re.DOTALL)


@pytest.fixture(scope="module")
def canon() -> Catalog:
    return canon_catalog()


def test_a_later_name_is_a_spoiler_with_its_episode(canon):
    v = check_spoilers(canon, "Flash Silvia is so cool", 3)
    assert v.spoils and [(h.kind, h.said, h.episode) for h in v.hits] == [("name", "Flash Silvia", 7)]
    assert not check_spoilers(canon, "Flash Silvia is so cool", 7).spoils


def test_a_later_alias_of_a_known_entry_is_a_spoiler(canon):
    # Ze Noah is what the Visitors (episode 1) call themselves from episode 6 on
    v = check_spoilers(canon, "the Ze Noah are watching", 3)
    assert [(h.slug, h.episode) for h in v.hits] == [("visitors", 6)]
    assert not check_spoilers(canon, "the Visitors are watching", 3).spoils


def test_a_name_known_for_another_entry_is_not_a_spoiler(canon):
    # "Jill" names Flash Silvia only from episode 7, but Jill herself is there from episode 2
    assert not check_spoilers(canon, "Jill is nice", 3).spoils
    assert check_spoilers(canon, "Jill is nice", 1).spoils


def test_a_declared_twist_is_a_spoiler_until_its_episode(canon):
    text = "so Jill was actually Silvia all along"
    v = check_spoilers(canon, text, 3)
    assert [(h.kind, h.slug, h.episode) for h in v.hits] == [("phrase", "flash-silvia", 7)]
    assert v.hits[0].said == "Jill was actually Silvia"
    assert not check_spoilers(canon, text, 7).spoils
    assert check_spoilers(canon, "Rion killing Juval", 3).episodes() == [4]  # other forms of a phrase's words
    assert check_spoilers(canon, "Roy is the Puppetmaster", 11).episodes() == [12]
    assert not check_spoilers(canon, "Roy is the Puppetmaster", 12).spoils


def test_near_misses_are_not_spoilers(canon):
    for text in ("Naomi is so human compared to Rouge", "I love opera", "he had to alter his plans", "Orion"):
        assert not check_spoilers(canon, text, 0).spoils, text


def test_the_verdict_is_one_spoiler_span_and_fits_a_message(canon):
    for text in ("nothing here", "Jill is Flash Silvia and the Puppetmaster is Roy " * 30):
        verdict = verdict_text(check_spoilers(canon, text, 3))
        spans = SPAN.findall(verdict)
        assert len(spans) == 1 and verdict == f"||{spans[0]}||"
        assert len(verdict) <= 1600
    assert "No:" in verdict_text(check_spoilers(canon, "hello", 3))
    assert "episode 7" in verdict_text(check_spoilers(canon, "Flash Silvia", 3))


def test_a_quoted_message_cannot_break_out_of_the_span(canon):
    verdict = verdict_text(check_spoilers(canon, "||Flash Silvia|| @everyone", 3))
    assert len(SPAN.findall(verdict)) == 1
    assert "@everyone" not in verdict  # escaped: \@everyone


def test_lookup_finds_only_what_the_viewer_may_see(canon):
    at3 = lookup_names(canon, "Flash Silvia and Naomi and Jet Black Noir", Policy(3, Mode.HIDE))
    assert [slug for slug, _ in at3.found] == ["flash-silvia", "naomi-orthmann"]  # "Silvia" is known
    assert at3.later is None
    tagged = lookup_names(canon, "Flash Silvia and Naomi and Jet Black Noir", Policy(3, Mode.TAG))
    assert tagged.found == at3.found
    assert tagged.later is not None and "Jet Black Noir" in tagged.later and "episode 8" in tagged.later
    quiet = lookup_names(canon, "Naomi", Policy(3, Mode.TAG))
    assert quiet.later == f"||{NOTHING_LATER}||"  # the block is there either way
    everything = lookup_names(canon, "Jet Black Noir", Policy(3, Mode.SHOW))
    assert [slug for slug, _ in everything.found] == ["jet-black-noir", "eden-varok"]


def test_the_labelled_set_is_large_and_varied():
    messages = load_messages()
    assert len(messages) >= 60
    kinds = {m.kind for m in messages}
    assert {"spoiler", "near-miss", "innocent", "japanese"} <= kinds
    assert len({max(m.spoils) for m in messages if m.spoils}) >= 8  # spoilers at many episodes


def test_precision_and_recall_floors(canon):
    scores, _ = measure(canon, load_messages(), EPISODES)
    for s in scores:
        assert s.precision >= 0.9, (s.episode, s.precision)
        if s.tp + s.fn >= 10:
            assert s.recall >= 0.6, (s.episode, s.recall)
    overall_tp = sum(s.tp for s in scores)
    assert overall_tp / (overall_tp + sum(s.fn for s in scores)) >= 0.8
