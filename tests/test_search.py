"""Name search: typos, aliases, partial and swapped names, ambiguity, spoiler-aware candidates."""

from __future__ import annotations

import pytest

from lore.model import Kind
from lore.search import browse_key
from lore.spoilers import Mode, Policy

LATE = Policy(13, Mode.SHOW)


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("naomi ortman", "naomi-orthmann"),  # typo
        ("orthmann", "naomi-orthmann"),  # partial
        ("orthmann naomi", "naomi-orthmann"),  # swapped words
        ("Nami", "naomi-orthmann"),  # the seed's misspelling, kept as an alias
        ("ナオミ・オルトマン", "naomi-orthmann"),  # Japanese
        ("なおみ おるとまん", "naomi-orthmann"),  # hiragana for katakana
        ("ＮＡＯＭＩ", "naomi-orthmann"),  # full-width
        ("verde", "phantom-verde"),  # one word of the name
        ("okhrona", "ochrona"),  # typo
        ("Rogue", "rouge-redstar"),  # a common misspelling
        ("rouge-redstar", "rouge-redstar"),  # slug (autocomplete value)
        ("  ROUGE!! ", "rouge-redstar"),  # case, punctuation, spacing
    ],
)
def test_lookups_resolve(mini, query, slug):
    answer = mini.ask(query, LATE)
    assert answer.view is not None, answer.result
    assert answer.view.slug == slug


def test_ambiguous_surname_asks_instead_of_guessing(mini):
    answer = mini.ask("junghardt", LATE)
    assert answer.view is None
    assert answer.result.ambiguous
    assert {c.slug for c in answer.result.candidates} == {"roy-junghardt", "gene-junghardt"}


def test_nonsense_gives_no_match_but_visible_suggestions(mini):
    policy = Policy(0, Mode.HIDE)
    answer = mini.ask("qwxzv plork", policy)
    assert answer.view is None and not answer.result.ambiguous
    assert answer.result.candidates, "closest suggestions are offered"
    for cand in answer.result.candidates:
        assert mini.get(cand.slug).introduced <= 0


def test_kind_filter(mini):
    assert mini.ask("aletheia", LATE, kinds=[Kind.CHARACTER]).view is None
    assert mini.ask("aletheia", LATE, kinds=[Kind.FACTION]).view.slug == "aletheia"


def test_hidden_entry_gets_exactly_the_nonsense_reply(mini):
    """Under hide an entry introduced later does not exist: asking for it by name is no different
    from asking for a name that exists nowhere."""
    policy = Policy(3, Mode.HIDE)
    by_name = mini.ask("Jet Black Noir", policy).to_json()
    assert by_name["match"] is None
    assert "jet-black-noir" not in str(by_name)
    assert all(c["slug"] != "jet-black-noir" for c in by_name["candidates"])


def test_tag_mode_exact_name_of_a_later_entry_is_a_miss_outside_the_spoiler_note(mini):
    tagged = mini.ask("jet black noir", Policy(3, Mode.TAG))
    hidden = mini.ask("jet black noir", Policy(3, Mode.HIDE))
    assert tagged.view is None and tagged.result.candidates == hidden.result.candidates
    assert tagged.note is not None and tagged.note.startswith("||") and "Jet Black Noir" in tagged.note


def test_slug_of_a_later_entry_is_a_miss_like_any_other(mini):
    by_slug = mini.ask("jet-black-noir", Policy(3, Mode.HIDE))
    by_text = mini.ask("jet black noir", Policy(3, Mode.HIDE))
    assert by_slug.view is None
    assert by_slug.result.candidates == by_text.result.candidates


def test_tag_mode_fuzzy_guess_does_not_reach_a_later_entry(mini):
    answer = mini.ask("jet blak noar", Policy(3, Mode.TAG))
    assert answer.view is None
    assert all(c.slug != "jet-black-noir" for c in answer.result.candidates)


def test_alias_revealed_later_is_absent_and_only_named_inside_the_spoiler_note(mini):
    # "Divine Facilitator" is Naomi's title from episode 7: linking it to her is the reveal.
    tagged = mini.ask("divine facilitator", Policy(5, Mode.TAG))
    assert tagged.view is None and "Naomi" in tagged.note and tagged.note.startswith("||")
    assert all("Naomi" not in c.name for c in tagged.result.candidates if c.matched.casefold() == "divine facilitator")
    assert mini.ask("divine facilitator", Policy(5, Mode.HIDE)).view is None
    assert mini.ask("divine facilitator", Policy(7, Mode.HIDE)).view.slug == "naomi-orthmann"


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("episode", [0, 2, 3, 7, 13])
@pytest.mark.parametrize("prefix", ["", "j", "ju", "jet", "d", "div", "ph", "g", "a", "n"])
def test_autocomplete_never_offers_what_the_policy_hides(mini, mode, episode, prefix):
    policy = Policy(episode, mode)
    for cand in mini.complete(prefix, policy):
        entry = mini.get(cand.slug)
        if mode is not Mode.SHOW:
            assert entry.introduced <= episode
            assert cand.episode <= episode, (cand, policy)


def test_autocomplete_prefix_and_word_prefix(mini):
    labels = [c.name for c in mini.complete("verd", LATE)]
    assert labels[0] == "Phantom Verde"
    assert len(mini.complete("", LATE, limit=25)) <= 25
    assert [c.slug for c in mini.complete("ro", Policy(0, Mode.HIDE))] == ["rouge-redstar"]


async def test_text_search_on_a_name_shows_what_the_entry_is(mini):
    results = await mini.search_text("mars", LATE)
    first = results.hits[0]
    assert first.slug == "mars" and first.snippet == "A colonised planet."


BROWSING = [Kind.CHARACTER, Kind.FACTION, Kind.CONCEPT, Kind.LOCATION, Kind.EPISODE, Kind.SERIES]


def test_empty_autocomplete_lists_the_cast_first(mini):
    kinds = [c.kind for c in mini.complete("", LATE)]
    assert kinds[0] is Kind.CHARACTER and kinds == sorted(kinds, key=BROWSING.index)


def test_browsing_order_puts_numbers_in_numeric_order():
    names = ["Episode 10: B", "Episode 2: A", "Episode 1: C"]
    assert sorted(names, key=lambda n: browse_key(n, Kind.EPISODE)) == ["Episode 1: C", "Episode 2: A", "Episode 10: B"]


def test_autocomplete_fill_leaves_out_far_fetched_guesses(mini):
    names = [c.name for c in mini.complete("jil", LATE)]
    assert "Rouge Redstar" not in names
