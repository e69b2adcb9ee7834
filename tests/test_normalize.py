"""Normalisation (property tests) and search on arbitrary input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lore.normalize import normalize
from lore.spoilers import Mode, Policy


def test_examples():
    assert normalize("  Naomi   ORTHMANN! ") == "naomi orthmann"
    assert normalize("Café Rouge") == "cafe rouge"
    assert normalize("ＲＯＵＧＥ") == "rouge"  # full-width
    assert normalize("ﾙｼﾞｭ") == normalize("ルジュ")  # half-width katakana
    assert normalize("るじゅ") == normalize("ルジュ")  # hiragana
    assert normalize("ナオミ・オルトマン") == "ナオミ オルトマン"
    assert normalize("Double-Headed Aerkos") == "double headed aerkos"
    assert normalize("") == ""


@given(st.text(max_size=80))
def test_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@given(st.text(max_size=80))
def test_no_edge_or_double_spaces(text):
    out = normalize(text)
    assert out == out.strip() and "  " not in out


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzàéèöüçñ ", max_size=30))
def test_case_and_accent_insensitive(text):
    assert normalize(text.upper()) == normalize(text.lower())


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), st.integers(0, 13), st.sampled_from(list(Mode)))
def test_search_never_raises_and_respects_policy(mini_sync, text, episode, mode):
    svc = mini_sync
    policy = Policy(episode, mode)
    answer = svc.ask(text, policy)
    completions = svc.complete(text, policy)
    assert len(completions) <= 25
    if mode is not Mode.SHOW:
        for cand in completions + answer.result.candidates:
            assert cand.episode <= episode
        if answer.view is not None:
            assert svc.get(answer.view.slug).introduced <= episode
        assert (answer.later is not None) is (mode is Mode.TAG)
