"""The large-index code paths, run on small data by forcing their thresholds down.

At 100,000 entries the name index prunes fuzzy candidates through a word vocabulary, and the
canon's built index is saved as a snapshot next to the database. Without these tests that code
would only ever run under the benchmark."""

from __future__ import annotations

import functools
import logging
import marshal
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lore import fuzzy, nameindex, normalize, snapshot
from lore.model import Kind
from lore.packs import CANON_PACK_PATH, load_pack
from lore.search import IndexRecord, LayeredIndex, NameIndex
from lore.service import LoreService
from lore.spoilers import Mode, Policy
from tests.conftest import MINI_PACK

EVERYTHING = Policy(13, Mode.SHOW)
CANON_RECORDS = [IndexRecord.of(e) for e in load_pack(CANON_PACK_PATH).entries]
#: A family sharing a surname: with WORD_POSTINGS forced down, "starling" is a common word.
FAMILY = [
    IndexRecord(f"{first.lower()}-starling", f"{first} Starling", Kind.CHARACTER, ep, ((f"{first} Starling", ep),))
    for first, ep in [("Mira", 0), ("Oren", 1), ("Tamsin", 2), ("Edric", 3), ("Lysa", 4), ("Corin", 9)]
]
RECORDS = CANON_RECORDS + FAMILY


@functools.cache
def _layered(large: bool) -> LayeredIndex:
    """The index of RECORDS, small or large, built once (indexes are immutable)."""
    return LayeredIndex([(_index(RECORDS, large=large), frozenset())])


def _index(records: list[IndexRecord], *, large: bool) -> NameIndex:
    """An index built the way a small scope is (scores every name) or a large one is (vocabulary)."""
    with pytest.MonkeyPatch.context() as mp:
        if large:
            mp.setattr(nameindex, "BRUTE_FORCE_LIMIT", 0)
        else:
            mp.setattr(nameindex, "BRUTE_FORCE_LIMIT", 10**9)
        index = NameIndex(records)
    assert (index.vocabulary is not None) is large
    return index


@pytest.fixture
def large_limits(monkeypatch):
    """The pruning limits of a 100,000-entry index, scaled to a hundred entries."""
    monkeypatch.setattr(fuzzy, "PRUNED_CANDIDATES", 30)
    monkeypatch.setattr(fuzzy, "WORD_POSTINGS", 3)


def _typo(rng: random.Random, s: str) -> str:
    i = rng.randrange(len(s))
    op = rng.choice("dsi")
    if op == "d":
        return s[:i] + s[i + 1 :]
    if op == "s" and i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + rng.choice("aeiou") + s[i:]


def _top(result) -> str | None:
    return result.match.slug if result.match is not None else None


def test_the_pruned_search_resolves_typos_as_the_full_scan_does(large_limits):
    small = _layered(False)
    large = _layered(True)
    rng = random.Random(12)
    queries = [(_typo(rng, r.name.lower()), r.slug) for r in RECORDS if len(r.name) >= 5]
    same = sum(_top(small.lookup(q, EVERYTHING)) == _top(large.lookup(q, EVERYTHING)) for q, _ in queries)
    right_small = sum(_top(small.lookup(q, EVERYTHING)) == slug for q, slug in queries)
    right_large = sum(_top(large.lookup(q, EVERYTHING)) == slug for q, slug in queries)
    assert same >= 0.95 * len(queries)
    assert right_large >= right_small - 1
    assert right_large >= 0.75 * len(queries)


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("rougeredstar", "rouge-redstar"),  # typed without its space: split on a known leading word
        ("naomiorthman", "naomi-orthmann"),
        ("xaomi orthmann", "naomi-orthmann"),  # a slip on the first letter
        ("anomi orthmann", "naomi-orthmann"),  # the first two letters swapped
        ("okhrona", "ochrona"),
        ("roy junghart", "roy-junghardt"),
        ("mira starlng", "mira-starling"),  # a rare word (mira) plus a common one (starling)
    ],
)
def test_the_vocabulary_finds_what_a_user_means(large_limits, query, slug):
    large = _layered(True)
    assert _top(large.lookup(query, EVERYTHING)) == slug


def test_a_query_of_only_a_common_word_still_finds_its_names(large_limits):
    large = _layered(True)
    result = large.lookup("starling", EVERYTHING)
    assert result.ambiguous and {c.slug for c in result.candidates} == {r.slug for r in FAMILY}
    early = large.lookup("starling", Policy(2, Mode.HIDE))
    assert {c.slug for c in early.candidates} == {"mira-starling", "oren-starling", "tamsin-starling"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(alphabet="abcdeghijklmnoprstuvy ", min_size=1, max_size=18),
    episode=st.integers(min_value=0, max_value=13),
)
def test_the_pruned_search_offers_nothing_beyond_the_episode(large_limits, text, episode):
    large = _layered(True)
    policy = Policy(episode, Mode.HIDE)
    result = large.lookup(text, policy)
    for cand in [*result.candidates, *([result.match] if result.match else [])]:
        assert cand.episode <= episode
    for cand in large.complete(text, policy):
        assert cand.episode <= episode


@functools.cache
def _without_later_lore(episode: int) -> LayeredIndex:
    """The large index of the world as it stands at ``episode``: later entries and names removed."""
    cut = [
        IndexRecord(r.slug, r.name, r.kind, r.introduced, tuple(n for n in r.names if n[1] <= episode))
        for r in RECORDS
        if r.introduced <= episode
    ]
    return LayeredIndex([(_index(cut, large=True), frozenset())])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.one_of(
        st.text(alphabet="abcdeghijklmnoprstuvy ", min_size=1, max_size=18),
        st.sampled_from([r.name.lower() for r in RECORDS]).map(lambda n: n[: max(2, len(n) - 2)]),
    ),
    episode=st.integers(min_value=0, max_value=12),
)
def test_the_pruned_search_answers_as_if_later_lore_did_not_exist(large_limits, text, episode):
    """Hidden names' words must not take a close word's place, count toward a word's postings or
    use up a prefix limit: under ``hide`` every answer equals the one of the world without them."""
    policy = Policy(episode, Mode.HIDE)
    full, cut = _layered(True), _without_later_lore(episode)
    assert full.lookup(text, policy) == cut.lookup(text, policy)
    assert full.complete(text, policy) == cut.complete(text, policy)


def test_a_words_close_words_are_remembered_per_episode(large_limits):
    """The close words of a query word are kept per episode: a word asked about at a late
    episode, then at an early one, gets the early episode's words, as a fresh index gives them."""
    seen = _index(RECORDS, large=True).vocabulary
    assert seen is not None
    late, early = seen.close_to("corin", 13), seen.close_to("corin", 3)
    fresh = _index(RECORDS, large=True).vocabulary
    assert fresh is not None
    assert early == fresh.close_to("corin", 3) and late == fresh.close_to("corin", 13)
    assert "corin" in {seen.words[v] for v in late} and "corin" not in {seen.words[v] for v in early}
    assert seen.close_to("corin", 13) is late  # asked again: the same answer, not a new search


def _queries() -> list[str]:
    rng = random.Random(3)
    names = [r.name for r in RECORDS[::3]]
    return ["", "ro", "nao", "junghardt", "qqq", *names, *(_typo(rng, n.lower()) for n in names)]


@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
def test_an_index_restored_from_its_snapshot_answers_exactly_as_built(large_limits, large):
    built = _index(RECORDS, large=large)
    restored = NameIndex.from_state(marshal.loads(marshal.dumps(built.state())))
    assert (restored.vocabulary is not None) is large
    a = LayeredIndex([(built, frozenset())])
    b = LayeredIndex([(restored, frozenset())])
    for policy in (EVERYTHING, Policy(3, Mode.HIDE), Policy(5, Mode.TAG)):
        for q in _queries():
            assert a.lookup(q, policy) == b.lookup(q, policy), q
            assert a.complete(q, policy) == b.complete(q, policy), q


def test_a_snapshot_of_another_format_is_refused():
    state = _index(FAMILY, large=True).state()
    state["format"] = nameindex.INDEX_FORMAT + 1
    with pytest.raises(ValueError, match="another format"):
        NameIndex.from_state(state)


_NAMEISH = st.text(alphabet="abcnrs o", min_size=0, max_size=12).map(lambda t: " ".join(t.split()))


@given(q=_NAMEISH, keys=st.lists(_NAMEISH, max_size=12), data=st.data())
def test_boosting_a_batch_of_matches_ranks_each_as_boosting_it_alone(q, keys, data):
    scores = data.draw(st.lists(st.floats(0.0, 100.0), min_size=len(keys), max_size=len(keys)))
    assert fuzzy.boosted(q, keys, scores) == [fuzzy.boost(q, k, s) for k, s in zip(keys, scores, strict=True)]


def test_names_normalised_in_one_pass_equal_normalize_even_with_odd_characters():
    texts = ["Naomi ORTHMANN", "ﾙｼﾞｭ", "a\ue000b", "", "  x  y "]  # one holds the join separator
    assert normalize.normalize_all(texts) == [normalize.normalize(t) for t in texts]
    assert normalize.normalize_all([]) == []


def test_normalisation_falls_back_when_the_fast_fold_disagrees(monkeypatch, caplog):
    monkeypatch.setattr(normalize, "_fast_keys", True)
    monkeypatch.setattr(normalize, "normalize", lambda t: "<" + t.lower() + ">")
    with caplog.at_level(logging.WARNING, logger="lore.normalize"):
        assert normalize.normalize_all(["Ab", "C"]) == ["<ab>", "<c>"]
    assert not normalize._fast_keys
    assert "fast name normalisation differs" in caplog.text


# -- the canon index snapshot next to the database -------------------------------------------
@pytest.fixture
def snapshots(monkeypatch):
    """Every canon scope is "large" enough to keep a snapshot."""
    monkeypatch.setattr(snapshot, "MIN_ENTRIES", 1)


async def _answers(svc: LoreService) -> list[object]:
    return [(svc.ask(q, EVERYTHING).result, svc.complete(q, EVERYTHING)) for q in ("naomi", "rogue", "jung", "ochrna")]


async def _filled(db: Path) -> list[object]:
    """Fill a database from the test pack, then open it once more (which builds and saves the
    canon's index); the answers it gives."""
    async with await LoreService.open(db, canon_pack=MINI_PACK) as svc:
        expected = await _answers(svc)
    async with await LoreService.open(db, canon_pack=MINI_PACK) as svc:
        assert await _answers(svc) == expected
    return expected


async def test_the_canon_index_is_saved_and_reused_while_the_canon_is_unchanged(tmp_path, snapshots, monkeypatch):
    db = tmp_path / "lore.sqlite3"
    expected = await _filled(db)
    snapshot = Path(f"{db}-canon-index")
    assert snapshot.exists() and snapshot.stat().st_size > 0

    def no_building(*args, **kwargs):
        raise AssertionError("the snapshot should have been used")

    with monkeypatch.context() as mp:
        mp.setattr(NameIndex, "from_columns", no_building)
        async with await LoreService.open(db, canon_pack=MINI_PACK) as second:
            assert await _answers(second) == expected


async def test_a_changed_canon_or_a_damaged_snapshot_is_rebuilt(tmp_path, snapshots, caplog):
    db = tmp_path / "lore.sqlite3"
    expected = await _filled(db)
    snapshot = Path(f"{db}-canon-index")
    header = snapshot.read_bytes().split(b"\n", 1)[0]
    snapshot.write_bytes(header + b"\n" + b"\x00garbage")  # right fingerprint, unreadable body
    with caplog.at_level(logging.WARNING, logger="lore.snapshot"):
        async with await LoreService.open(db, canon_pack=MINI_PACK) as svc:
            assert await _answers(svc) == expected
    assert "ignoring the index snapshot" in caplog.text
    # a snapshot of other rows (another fingerprint) is not used, and is replaced
    snapshot.write_bytes(b"lorebot-index-snapshot 1 0000\n" + marshal.dumps({}))
    async with await LoreService.open(db, canon_pack=MINI_PACK) as svc:
        assert await _answers(svc) == expected
    assert snapshot.read_bytes().split(b"\n", 1)[0] == header


async def test_a_snapshot_that_cannot_be_written_is_only_a_warning(tmp_path, snapshots, caplog):
    db = tmp_path / "lore.sqlite3"
    Path(f"{db}-canon-index").mkdir()  # a directory where the file would go
    with caplog.at_level(logging.WARNING, logger="lore.snapshot"):
        await _filled(db)
    assert "could not save the index snapshot" in caplog.text
    assert not list(tmp_path.glob("*.tmp"))


async def test_an_in_memory_database_keeps_no_snapshot(tmp_path, snapshots):
    async with await LoreService.open(":memory:", canon_pack=MINI_PACK) as svc:
        assert svc._snapshot_path() is None
        assert svc.ask("naomi", EVERYTHING).view is not None
