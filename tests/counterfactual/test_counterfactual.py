"""The counterfactual spoiler property, over the canon pack: every reply under a policy (E, mode)
is the reply computed from the visible world at E (under ``tag``: outside the spoiler spans).

Queries are drawn from the names, aliases, slugs and Japanese names of *every* entry (later ones
included), their prefixes and typos, and free text; each is run through every lookup surface in
both worlds at episodes 0, 1, 3, 6, 8, 11 and 12, in both modes.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lore.packs import CANON_PACK_PATH
from lore.spoilers import Mode, Policy
from tests.counterfactual.harness import (
    EPISODES,
    MODES,
    TYPO_ALPHABET,
    admin_surfaces,
    assert_same,
    first_difference,
    fixed_surfaces,
    fresh_guild,
    lookup_surfaces,
    query_pool,
)

pytestmark = pytest.mark.skipif(not CANON_PACK_PATH.exists(), reason="canon pack not present")

#: Generated queries per (episode, mode): 14 combinations.
EXAMPLES = 150
COUNTED: dict[str, int] = {}


def query_strategy(pool: list[str]) -> st.SearchStrategy[str]:
    name = st.sampled_from(pool)

    @st.composite
    def prefix(draw: st.DrawFn) -> str:
        q = draw(name)
        return q[: draw(st.integers(1, max(1, len(q))))]

    @st.composite
    def typo(draw: st.DrawFn) -> str:
        q = list(draw(name))
        i = draw(st.integers(0, max(0, len(q) - 1)))
        op = draw(st.sampled_from(["drop", "swap", "replace", "insert", "case"]))
        if op == "drop" and len(q) > 1:
            del q[i]
        elif op == "swap" and i + 1 < len(q):
            q[i], q[i + 1] = q[i + 1], q[i]
        elif op == "replace":
            q[i] = draw(st.sampled_from(TYPO_ALPHABET))
        elif op == "insert":
            q.insert(i, draw(st.sampled_from(TYPO_ALPHABET)))
        else:
            q = list("".join(q).upper())
        return "".join(q)

    free = st.text(alphabet=TYPO_ALPHABET + "|`>*_@<", min_size=0, max_size=12)
    return st.one_of(name, name, prefix(), typo(), free)


def check(worlds, episode: int, mode: Mode, query: str) -> None:
    w, loop = worlds
    policy = Policy(episode, mode)
    real = loop.run_until_complete(lookup_surfaces(w.real, policy, query))
    visible = loop.run_until_complete(lookup_surfaces(w.visible[episode], policy, query))
    assert_same(real, visible, mode, f"query {query!r} at episode {episode}, {mode.value}")


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("episode", EPISODES)
def test_every_lookup_surface_is_the_visible_worlds(worlds, episode, mode):
    pool = query_pool(worlds[0].pack.entries)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(query=query_strategy(pool))
    def run(query: str) -> None:
        COUNTED[f"{episode}/{mode.value}"] = COUNTED.get(f"{episode}/{mode.value}", 0) + 1
        check(worlds, episode, mode, query)

    run()


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("episode", EPISODES)
def test_fixed_surfaces_are_the_visible_worlds(worlds, episode, mode):
    w, loop = worlds
    policy = Policy(episode, mode)
    real = loop.run_until_complete(fixed_surfaces(w.real, policy))
    visible = loop.run_until_complete(fixed_surfaces(w.visible[episode], policy))
    assert_same(real, visible, mode, f"episode {episode}, {mode.value}")


def _later_items(entry, episode: int) -> int:
    items = [a.episode for a in entry.aliases] + [f.episode for f in entry.facts]
    items += [a.episode for a in entry.attributes] + [r.episode for r in entry.relations]
    return sum(1 for ep in items if ep > episode)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_a_planted_oracle_is_caught(worlds, monkeypatch, mode):
    """The harness can fail: put the old "N later items held back" count back into the card (as
    plain text, outside any span) and the comparison with the visible world catches it."""
    import lore.reading
    from lore.markup import escape

    original = lore.reading.render_entry

    def leaky(entry, policy, **kw):
        view = original(entry, policy, **kw)
        if view is not None:
            view.summary += escape(f" ({_later_items(entry, policy.episode)} later items held back)")
        return view

    monkeypatch.setattr(lore.reading, "render_entry", leaky)
    with pytest.raises(AssertionError, match="depends on later lore"):
        for query in ("Rouge Redstar", "Naomi Orthmann", "Jean Junghardt", "Ash Stahl"):
            check(worlds, 3, mode, query)


def test_a_planted_slug_oracle_is_caught(worlds, monkeypatch):
    """The old tell of hidden slugs — a miss with no suggestions, where any other miss gets the
    closest names — is caught too."""
    from lore.search import LayeredIndex, LookupResult

    original = LayeredIndex.lookup

    def leaky(self, query, policy, kinds=None, within=None):
        if self.find(query.strip()) is not None:
            result = original(self, query, policy, kinds, within)
            if result.match is None:
                return LookupResult(query=query)
            return result
        return original(self, query, policy, kinds, within)

    monkeypatch.setattr(LayeredIndex, "lookup", leaky)
    hidden = [e.slug for e in worlds[0].pack.entries if e.introduced > 3]
    assert hidden
    with pytest.raises(AssertionError, match="depends on later lore"):
        for slug in hidden:
            check(worlds, 3, Mode.HIDE, slug)


#: Generated admin sessions per (episode, mode): each writes in both worlds.
ADMIN_EXAMPLES = 25


def check_admin(worlds, episode: int, mode: Mode, query: str, name: str, guild: int) -> None:
    w, loop = worlds
    policy = Policy(episode, mode)
    real = loop.run_until_complete(admin_surfaces(w.real, policy, query, name, guild))
    visible = loop.run_until_complete(admin_surfaces(w.visible[episode], policy, query, name, guild))
    context = f"admin acting on {query!r} with {name!r} at episode {episode}, {mode.value}"
    d = first_difference(real, visible)
    assert d is None, f"{context}: the reply depends on later lore at {d}"
    after_real = loop.run_until_complete(lookup_surfaces(w.real, policy, query, guild))
    after_visible = loop.run_until_complete(lookup_surfaces(w.visible[episode], policy, query, guild))
    assert_same(after_real, after_visible, mode, f"{context}, then looked up")


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("episode", EPISODES)
def test_admin_writes_and_exports_are_the_visible_worlds(worlds, episode, mode):
    """Adding aliases (names later lore has too), facts, edits through the form, new entries named
    like later entries, imports whose relations and patches point at later entries, going back to
    the canon: every reply, the history and the server's export are those of the visible world,
    and so is every lookup of the server's lore afterwards (its edits are patches over the canon)."""
    pool = query_pool(worlds[0].pack.entries)

    @settings(max_examples=ADMIN_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(query=st.sampled_from(pool), name=st.sampled_from(pool))
    def run(query: str, name: str) -> None:
        check_admin(worlds, episode, mode, query, name, fresh_guild())

    run()


@pytest.mark.parametrize(
    "plant",
    ["alias-against-every-name", "full-copies"],
)
def test_a_planted_admin_oracle_is_caught(worlds, monkeypatch, plant):
    """The admin surfaces can fail: the old duplicate check against every alias (later ones
    included), or the old full copies of canon entries in a server's data, are caught."""
    import lore.service
    from lore.store import Change

    if plant == "full-copies":
        monkeypatch.setattr(lore.service.LoreService, "_change", staticmethod(lambda s, e, b, a: Change(s, e, a)))
        cases = [("Naomi Orthmann", "Nao"), ("Rouge Redstar", "Red")]
    else:
        original = lore.service.LoreService.add_alias

        async def leaky(self, guild_id, slug, alias, author, episode=0, policy=None):
            return await original(self, guild_id, slug, alias, author, episode, None)

        monkeypatch.setattr(lore.service.LoreService, "add_alias", leaky)
        w = worlds[0]
        cases = [(e.name, a.name) for e in w.pack.entries if e.introduced <= 3 for a in e.aliases if a.episode > 3][:5]
        assert cases
    with pytest.raises(AssertionError, match="depends on later lore"):
        for query, name in cases:
            check_admin(worlds, 3, Mode.HIDE, query, name, fresh_guild())


def test_a_planted_quiz_oracle_is_caught(worlds, monkeypatch):
    """The quiz comparison can fail: draw the questions one episode further than the policy, and
    the questions (or their options or reveal) differ from the visible world's."""
    from lore import quiz, quizworld
    from tests.counterfactual.harness import quiz_out

    w, loop = worlds
    original = quizworld.quiz_policy
    for module in (quiz, quizworld):
        monkeypatch.setattr(module, "quiz_policy", lambda p, last: Policy(p.episode + 1, Mode.HIDE, p.source))
    quiz._SPECS.clear()
    try:
        policy = Policy(3, Mode.TAG)
        real = loop.run_until_complete(quiz_out(w.real, policy, seeds=3))
        visible = loop.run_until_complete(quiz_out(w.visible[3], policy, seeds=3))
        with pytest.raises(AssertionError, match="depends on later lore"):
            assert_same({"quiz": real}, {"quiz": visible}, Mode.TAG, "planted")
    finally:
        for module in (quiz, quizworld):
            monkeypatch.setattr(module, "quiz_policy", original)
        quiz._SPECS.clear()


def test_a_planted_picture_oracle_is_caught(worlds, monkeypatch):
    """The picture comparison can fail: let the map and the timeline read every entry under
    ``show`` and the layout models (nodes, edges, events) differ from the visible world's."""
    import lore.graph

    original = lore.graph._Visible.view

    def leaky(self, slug):
        self.policy = Policy(13, Mode.SHOW)
        return original(self, slug)

    from tests.counterfactual.harness import relations_out

    w, _loop = worlds
    policy = Policy(3, Mode.HIDE)

    def maps(svc, query):
        return relations_out(svc, policy, query, svc.ask(query, policy), None)

    monkeypatch.setattr(lore.graph._Visible, "view", leaky)
    with pytest.raises(AssertionError, match="depends on later lore"):
        for query in ("Naomi Orthmann", "Rouge Redstar", "Ash Stahl"):
            assert_same(maps(w.real, query), maps(w.visible[3], query), Mode.HIDE, query)


def test_a_servers_alias_that_a_later_canon_alias_also_has(worlds):
    """Found by the suite: the server names the Wellstown police by their episode-4 alias (and makes
    an entry of that name); the lookup afterwards must not hold the alias back for being later too."""
    check_admin(worlds, 3, Mode.HIDE, "Wellstown security forces", "Wellstown security forces", fresh_guild())
