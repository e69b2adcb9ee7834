"""A lookup or an autocomplete filtered to a few entries (a roster's members) ranks only those:
the right member is never crowded out of "did you mean" by non-members, and a roster's
autocomplete renders nothing."""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cogs.lookup import plan_answer, roster_choices
from lore import nameindex
from lore.model import Kind
from lore.packs import CANON_PACK_PATH, load_pack
from lore.search import IndexRecord, LayeredIndex, NameIndex
from lore.service import LoreService
from lore.spoilers import Mode, Policy
from tests.canon import IMMORTAL_NINE

CANON = [IndexRecord.of(e) for e in load_pack(CANON_PACK_PATH).entries]
#: Non-members whose names a query matches better than the one member it means.
CROWD = [IndexRecord(f"vardo-{i}", f"Vardo {i}", Kind.CHARACTER, 0, ((f"Vardo {i}", 0),)) for i in range(1, 251)] + [
    IndexRecord("verdo-knight", "Vardo the Knight", Kind.CHARACTER, 0, (("Vardo the Knight", 0),))
]
EVERYTHING = Policy(13, Mode.SHOW)


def _index(records: list[IndexRecord], *, large: bool) -> NameIndex:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nameindex, "BRUTE_FORCE_LIMIT", 0 if large else 10**9)
        return NameIndex(records)


@functools.cache
def _full(large: bool) -> LayeredIndex:
    return LayeredIndex([(_index(CANON, large=large), frozenset())])


@functools.cache
def _only(slugs: frozenset[str]) -> LayeredIndex:
    """The index of just these entries: what a search filtered to them must answer."""
    return LayeredIndex([(_index([r for r in CANON if r.slug in slugs], large=False), frozenset())])


@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
def test_the_member_meant_is_found_among_many_closer_non_members(large):
    ix = LayeredIndex([(_index(CROWD, large=large), frozenset())])
    unfiltered = ix.lookup("vardo", EVERYTHING)
    assert "verdo-knight" not in {c.slug for c in unfiltered.candidates}  # crowded out
    filtered = ix.lookup("vardo", EVERYTHING, within={"verdo-knight"})
    picked = filtered.match or filtered.candidates[0]
    assert picked.slug == "verdo-knight"
    assert "verdo-knight" not in {c.slug for c in ix.complete("vardo", EVERYTHING, limit=200)}
    assert [c.slug for c in ix.complete("vardo", EVERYTHING, within={"verdo-knight"})] == ["verdo-knight"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    within=st.frozensets(st.sampled_from([r.slug for r in CANON]), min_size=1, max_size=12),
    text=st.one_of(
        st.text(alphabet="abcdeghijklmnoprstuvy ", max_size=14),
        st.sampled_from([r.name.lower() for r in CANON]).map(lambda n: n[: max(1, len(n) - 3)]),
    ),
    episode=st.integers(min_value=0, max_value=13),
    mode=st.sampled_from(list(Mode)),
    kinds=st.sampled_from([None, (Kind.CHARACTER,), (Kind.CONCEPT, Kind.LOCATION)]),
    large=st.booleans(),
)
def test_a_filtered_search_answers_as_the_index_of_only_those_entries(within, text, episode, mode, kinds, large):
    policy = Policy(episode, mode)
    full, only = _full(large), _only(within)
    assert full.lookup(text, policy, kinds, within) == only.lookup(text, policy, kinds)
    assert full.complete(text, policy, kinds, 25, within) == only.complete(text, policy, kinds)


async def test_the_roster_autocomplete_renders_nothing_and_offers_every_visible_member(tmp_path, monkeypatch):
    async with await LoreService.open(tmp_path / "lore.sqlite3") as svc:
        for episode in (0, 1, 5, 13):
            policy = Policy(episode, Mode.HIDE)
            roster = svc.roster(IMMORTAL_NINE, policy)
            shown = {line.slug for line in roster.members} if roster else set()
            assert svc.roster_members(IMMORTAL_NINE, policy) == (frozenset(shown) if roster else None)
            with monkeypatch.context() as mp:
                mp.setattr(LoreService, "render", lambda *a, **k: pytest.fail("autocomplete rendered an entry"))
                mp.setattr(LoreService, "roster", lambda *a, **k: pytest.fail("autocomplete built the roster"))
                offered = {c.value for c in roster_choices(svc, IMMORTAL_NINE, "", policy, None)} - {"\u2063no-match"}
                assert offered == shown
                for line in roster.members if roster else []:
                    typed = svc.get(line.slug).name[:4]
                    assert line.slug in {c.value for c in roster_choices(svc, IMMORTAL_NINE, typed, policy, None)}


async def test_a_member_lookup_offers_members_only(tmp_path):
    async with await LoreService.open(tmp_path / "lore.sqlite3") as svc:
        policy = Policy(13, Mode.SHOW)
        members = svc.roster_members(IMMORTAL_NINE, policy)
        assert members
        planned = plan_answer(svc, "rouge", (Kind.CHARACTER,), policy, None, within=members)
        assert not planned.pages  # Rouge is not one of the Nine
        assert {c.slug for c in planned.candidates} <= members
