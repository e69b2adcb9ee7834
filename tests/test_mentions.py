"""The mention finder: whole words, longest name first, no tiny-word hits (lore.mentions)."""

from __future__ import annotations

import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lore.mentions import MentionFinder, Name

NAMES = [
    Name("Rouge Redstar", "rouge-redstar"),
    Name("Rouge", "rouge-redstar"),
    Name("ルージュ", "rouge-redstar"),
    Name("Naomi", "naomi-orthmann"),
    Name("Naomi Orthmann", "naomi-orthmann"),
    Name("Silvia", "flash-silvia", 1),
    Name("Flash Silvia", "flash-silvia", 7),
    Name("Jet Black Noir", "jet-black-noir", 8),
    Name("Noir", "jet-black-noir", 8),
    Name("Ash", "ash-stahl", 2),
    Name("Rion", "rion", 3),
    Name("Dr. Afdal", "dr-afdal", 2),
    Name("Afdal", "dr-afdal", 2),
    Name("ID", "id", 3),
    Name("WPD", "wellstown-police", 3),
    Name("Opera", "opera", 5),
    Name("The First", "naomi-orthmann", 9),
    Name("Junghardt", "gene-junghardt", 3),
    Name("Junghardt", "roy-junghardt", 1),
    Name("ゼ・ノア", "visitors", 6),
    Name("Metarikku Rūju", "metallic-rouge"),
    Name("262", "noid-262", 2),
]
FINDER = MentionFinder(NAMES)


def keys(text: str) -> list[str]:
    return [m.key for m in FINDER.find(text)]


def test_whole_words_only():
    assert keys("what a crash, Ash everywhere, and Orion") == ["ash"]
    assert keys("Naomis and xNaomi are not Naomi") == ["naomi"]


def test_the_longest_name_wins_and_mentions_do_not_overlap():
    assert keys("Flash Silvia vs Silvia") == ["flash silvia", "silvia"]
    assert keys("jet black noir, then Noir") == ["jet black noir", "noir"]
    assert keys("Naomi Orthmann") == ["naomi orthmann"]


def test_case_accents_punctuation_and_kana_are_folded():
    assert keys("ROUGE REDSTAR and dr afdal") == ["rouge redstar", "dr afdal"]
    assert keys("metarikku ruju") == ["metarikku ruju"]
    assert keys("るーじゅ!") == ["ルージュ"]  # hiragana = katakana
    assert keys("ルージュとナオミ、ゼノアとゼ・ノア") == ["ルージュ", "ゼノア", "ゼノア"]
    assert keys("Rougeが好き") == ["rouge"]


def test_tiny_words_acronyms_and_everyday_words_need_their_spelling():
    assert keys("my id card, my ID card") == ["id"]
    assert keys("the wpd and the WPD") == ["wpd"]
    assert keys("I love opera. Opera is creepy") == ["opera"]
    assert keys("the first time, then The First") == ["the first"]
    assert keys("episode 262 of my rewatch") == []  # a name of digits only never matches


def test_a_shared_alias_names_every_entry_it_belongs_to():
    (m,) = FINDER.find("Junghardt again")
    assert m.slugs == ("gene-junghardt", "roy-junghardt")
    assert {n.episode for n in m.names} == {1, 3}


def test_spans_point_at_the_original_text():
    text = "so… Dr. Afdal, ルージュ!"
    assert [m.text for m in FINDER.find(text)] == ["Dr. Afdal", "ルージュ"]


# -- properties ------------------------------------------------------------------------------
FILLER = st.sampled_from(["lol", "the", "fight", "was", "great", "episode", "wow", "2", "so", "ok"])
SEPS = st.sampled_from([" ", ", ", "! ", "\n", " — ", "... ", "'s ", " (", ") "])
PLAIN = [n for n in NAMES if n.text in {"Rouge Redstar", "Naomi", "Flash Silvia", "Jet Black Noir", "Rion", "Afdal"}]


@st.composite
def sentences(draw: st.DrawFn) -> tuple[str, Name]:
    left = draw(st.lists(FILLER, max_size=4))
    right = draw(st.lists(FILLER, max_size=4))
    name = draw(st.sampled_from(PLAIN))
    spelled = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in name.text)
    parts = [*left, spelled, *right]
    text = parts[0]
    for p in parts[1:]:
        text += draw(SEPS) + p
    return text, name


@settings(max_examples=200, deadline=None)
@given(sentences())
def test_a_name_set_in_any_words_with_any_case_is_found(case: tuple[str, Name]):
    text, name = case
    found = FINDER.find(text)
    assert " ".join(name.text.lower().replace(".", "").split()) in [m.key for m in found]


def _latin_word_char(c: str) -> bool:
    """A letter or digit of a Latin word: Japanese script next to a Latin name ends that word."""
    return c.isalnum() and not "\u3000" <= c <= "\uffff"


TEXT = st.text(alphabet=string.ascii_letters + string.digits + " .,!?'-\n" + "るージュゼ・ノア", max_size=80)


@settings(max_examples=300, deadline=None)
@given(TEXT)
@example("IDる")  # a Latin name followed by kana, as Japanese writes it without a space
def test_mentions_are_ordered_disjoint_and_bounded_by_non_letters(text: str):
    found = FINDER.find(text)
    ends = -1
    for m in found:
        assert m.start >= ends and m.start < m.end  # left to right, never overlapping
        ends = m.end
        assert m.text == text[m.start : m.end]
        if m.key.isascii():  # a Latin name: whole Latin words only ("Rougeとナオミ" names Rouge)
            assert m.start == 0 or not _latin_word_char(text[m.start - 1])
            assert m.end == len(text) or not _latin_word_char(text[m.end])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PLAIN), st.sampled_from(string.ascii_letters + string.digits), st.booleans())
def test_a_name_glued_to_a_letter_is_never_found(name: Name, glue: str, before: bool):
    text = glue + name.text if before else name.text + glue
    assert " ".join(name.text.lower().replace(".", "").split()) not in keys(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["Flash", "Silvia", "Jet", "Black", "Noir", "lol", "Rouge", "Redstar"]), max_size=8))
def test_the_longest_name_at_a_place_is_the_one_taken(tokens: list[str]):
    text = " ".join(tokens)
    for m in FINDER.find(text):
        longer = [n for n in NAMES if n.text.lower().startswith(m.key + " ")]
        for n in longer:  # a longer name starting here would have been taken had the text held it
            assert not text[m.start :].lower().startswith(n.text.lower())
