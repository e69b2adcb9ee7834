"""What changes with the episode: later summaries and statuses, and per-episode cast."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.embeds import entry_pages
from lore.franchise import Franchise
from lore.model import CastMember, Entry, EpisodeInfo, EpisodeList, Kind, LaterSummary, PackMeta, Status
from lore.packs import PackError, validate
from lore.render import Appearance, render_entry
from lore.spoilers import Mode, Policy
from lore.visible import visible_entry
from tests.counterfactual.markup import blank, outside, spans

THIRTEEN = Franchise.of(PackMeta(episodes=EpisodeList(count=13)))

JILL = Entry(
    slug="jill",
    kind=Kind.CHARACTER,
    name="Jill",
    introduced=2,
    summary="A journalist on the bus.",
    later_summaries=[
        LaterSummary(text="Flash Silvia's cover, dropped in episode 7.", episode=7),
        LaterSummary(text="The cover of a leader who dies in the finale.", episode=13),
    ],
    status=Status(state="alive", episode=2),
    later_statuses=[Status(state="deceased", episode=13, note="as Silvia")],
)


@pytest.mark.parametrize(
    ("episode", "summary", "status"),
    [
        (2, "A journalist on the bus.", "Alive"),
        (6, "A journalist on the bus.", "Alive"),
        (7, "Flash Silvia's cover, dropped in episode 7.", "Alive"),
        (13, "The cover of a leader who dies in the finale.", "Deceased (episode 13) — as Silvia"),
    ],
)
@pytest.mark.parametrize("mode", [Mode.HIDE, Mode.TAG])
def test_the_latest_visible_summary_and_status_are_shown(episode, summary, status, mode):
    view = render_entry(JILL, Policy(episode, mode))
    assert view.summary == summary
    assert view.status is not None and view.status.text == status


def test_later_summaries_are_neither_shown_nor_counted_before_their_episode():
    view = render_entry(JILL, Policy(3, Mode.TAG))
    seen = ""
    for p in entry_pages(view, THIRTEEN):
        d = p.to_dict()
        seen += d.get("title", "") + outside(d.get("description", ""))
        seen += "".join(f["name"] + outside(f["value"]) for f in d.get("fields", []))
    assert "Silvia" not in seen and "finale" not in seen
    # only inside the one later block
    assert "Flash Silvia's cover" in view.later and outside(view.later) == ""


def test_show_reads_the_last_summary_and_tag_puts_later_ones_in_the_block():
    assert render_entry(JILL, Policy(0, Mode.SHOW)).summary.startswith("The cover of a leader")
    early = render_entry(JILL, Policy(2, Mode.TAG))
    assert early.summary == "A journalist on the bus." and "Flash Silvia's cover" in spans(early.later)[0]


def test_a_status_revealed_only_later_is_tagged_or_held_back():
    entry = JILL.model_copy(update={"status": Status(state="alive", episode=5), "later_statuses": []})
    tagged = render_entry(entry, Policy(3, Mode.TAG))
    assert tagged.status is None and "Status: Alive" in spans(tagged.later)[0]
    hidden = render_entry(entry, Policy(3, Mode.HIDE))
    assert hidden.status is None and hidden.later is None


texts = st.text(min_size=1, max_size=30).map(str.strip).filter(bool)


@st.composite
def evolving(draw):
    introduced = draw(st.integers(0, 12))
    summary_eps = sorted(draw(st.sets(st.integers(introduced + 1, 13), max_size=4)))
    status_eps = sorted(draw(st.sets(st.integers(introduced, 13), min_size=1, max_size=4)))
    states = st.sampled_from(["alive", "deceased", "unknown"])
    statuses = [Status(state=draw(states), episode=e, note=draw(st.none() | texts)) for e in status_eps]
    return Entry(
        slug="e",
        kind=Kind.CHARACTER,
        name="E",
        introduced=introduced,
        summary=draw(texts),
        later_summaries=[LaterSummary(text=draw(texts), episode=e) for e in summary_eps],
        status=statuses[0],
        later_statuses=statuses[1:],
    )


@given(evolving(), st.integers(0, 13), st.sampled_from([Mode.HIDE, Mode.TAG]))
def test_summary_and_status_are_those_of_the_visible_world(entry, episode, mode):
    """Whatever later summaries or statuses exist, the card shows exactly what it would show if
    they did not (the only difference allowed is a status revealed later, tagged or counted as before)."""
    policy = Policy(episode, mode)
    view = render_entry(entry, policy)
    seen = visible_entry(entry, episode)
    world = render_entry(seen, policy) if seen is not None else None
    if view is None:
        assert world is None
        return
    assert world is not None
    assert view.summary == world.summary and view.status == world.status
    if mode is Mode.TAG:
        assert blank(view.later) == blank(world.later)


def test_validation_orders_later_summaries_and_statuses():
    data = {
        "entries": [
            {
                "slug": "a",
                "kind": "character",
                "name": "A",
                "introduced": 3,
                "summary": "x",
                "later_summaries": [
                    {"text": "y", "episode": 3},
                    {"text": "z", "episode": 8},
                    {"text": "w", "episode": 5},
                ],
                "status": {"state": "alive", "episode": 4},
                "later_statuses": [{"state": "deceased", "episode": 4}],
            }
        ]
    }
    with pytest.raises(PackError) as err:
        validate(data)
    assert err.value.errors == [
        "entries[0].later_summaries[0].episode: must come after episode 3 (the summary it replaces)",
        "entries[0].later_summaries[2].episode: must come after episode 8 (the summary it replaces)",
        "entries[0].later_statuses[0].episode: must come after episode 4 (the status it replaces)",
    ]
    with pytest.raises(PackError) as err:
        validate({"entries": [{"slug": "b", "kind": "concept", "name": "B", "later_statuses": [{"episode": 2}]}]})
    assert "only characters have a status" in err.value.errors[0]


def _episode(number: int, cast: list[CastMember]) -> Entry:
    info = EpisodeInfo(number=number, title=f"Title {number}", air_date=date(2024, 1, number), cast=cast)
    return Entry(slug=f"episode-{number}", kind=Kind.EPISODE, name=f"Episode {number}", episode=info)


def test_validation_checks_cast_members():
    chars = [{"slug": s, "kind": "character", "name": s.title()} for s in ("rouge", "naomi")]
    cast = [
        {"character": "rouge", "first": True},
        {"character": "nobody"},
        {"character": "rouge"},
        {"character": "episode-2"},
    ]
    episodes = [
        {"slug": "episode-1", "kind": "episode", "name": "E1", "episode": {"number": 1, "title": "t", "cast": cast}},
        {
            "slug": "episode-2",
            "kind": "episode",
            "name": "E2",
            "episode": {"number": 2, "title": "u", "cast": [{"character": "rouge", "first": True}]},
        },
    ]
    with pytest.raises(PackError) as err:
        validate({"entries": chars + episodes})
    assert err.value.errors == [
        "entries[2].episode.cast[1].character: no entry with slug 'nobody'",
        "entries[2].episode.cast[2].character: 'rouge' is listed twice",
        "entries[2].episode.cast[3].character: 'episode-2' is not a character",
        "entries[3].episode.cast[0].first: 'rouge' already has its first appearance in episode-1",
    ]


PEOPLE = {"rouge": ("Rouge", 0), "gene": ("Gene", 3), "noir": ("Noir", 8)}


def test_an_episode_lists_only_the_cast_the_viewer_may_see():
    ep5 = _episode(
        5,
        [CastMember(character="rouge"), CastMember(character="gene"), CastMember(character="noir", note="unnamed")],
    )
    ep3 = _episode(3, [CastMember(character="rouge"), CastMember(character="gene", first=True)])
    assert render_entry(ep5, Policy(3, Mode.HIDE), targets=PEOPLE.get).cast == []
    at5 = render_entry(ep5, Policy(5, Mode.HIDE), targets=PEOPLE.get)
    assert [c.text for c in at5.cast] == ["Rouge", "Gene"] and at5.cast[1].target == "gene"
    at8 = render_entry(ep5, Policy(8, Mode.HIDE), targets=PEOPLE.get)
    assert [c.text for c in at8.cast] == ["Rouge", "Gene", "Noir — unnamed"]
    assert [c.text for c in render_entry(ep3, Policy(3, Mode.HIDE), targets=PEOPLE.get).cast] == [
        "Rouge",
        "Gene (first appearance)",
    ]
    tagged = render_entry(ep5, Policy(5, Mode.TAG), targets=PEOPLE.get)
    assert tagged.cast == at5.cast and "Noir — unnamed" in spans(tagged.later)[0]
    fields = {f["name"]: f["value"] for p in entry_pages(at5, THIRTEEN) for f in p.to_dict().get("fields", [])}
    assert fields["Cast"] == "• Rouge\n• Gene"


def test_a_character_card_lists_the_episodes_seen_so_far():
    gene = Entry(slug="gene", kind=Kind.CHARACTER, name="Gene", introduced=3, summary="s")
    apps = [Appearance(3, first=True), Appearance(5), Appearance(12)]
    view = render_entry(gene, Policy(5, Mode.HIDE), appearances=apps)
    assert [a.text for a in view.appearances] == ["3 (first)", "5"]
    fields = {f["name"]: f["value"] for p in entry_pages(view, THIRTEEN) for f in p.to_dict().get("fields", [])}
    assert fields["Appears in episodes"] == "3 (first), 5"
    tagged = render_entry(gene, Policy(5, Mode.TAG), appearances=apps)
    assert [a.text for a in tagged.appearances] == ["3 (first)", "5"] and "episode 12" in spans(tagged.later)[0]
    # an appearance recognised only later (a masked figure) waits for that episode
    late = render_entry(gene, Policy(6, Mode.HIDE), appearances=[Appearance(5, episode=8)])
    assert late.appearances == []


async def test_the_service_links_cast_and_appearances(tmp_path):
    from lore.service import LoreService

    pack = tmp_path / "p.yaml"
    pack.write_text(
        """
pack: {name: t, version: 1}
entries:
  - {slug: rouge, kind: character, name: Rouge, summary: r}
  - {slug: gene, kind: character, name: Gene, introduced: 3, summary: g}
  - slug: episode-3
    kind: episode
    name: Episode 3
    episode: {number: 3, title: Three, cast: [{character: rouge}, {character: gene, first: true}]}
  - slug: episode-5
    kind: episode
    name: Episode 5
    episode: {number: 5, title: Five, cast: [{character: gene}]}
""",
        encoding="utf-8",
    )
    svc = await LoreService.open(tmp_path / "db.sqlite3", canon_pack=pack)
    try:
        view = svc.episode(3, Policy(3, Mode.HIDE))
        assert [c.text for c in view.cast] == ["Rouge", "Gene (first appearance)"]
        gene = svc.ask("gene", Policy(4, Mode.HIDE)).view
        assert [a.text for a in gene.appearances] == ["3 (first)"]
        assert svc.ask("gene", Policy(13, Mode.SHOW)).to_json()["match"]["appearances"][1]["text"] == "5"
        assert svc.episode(5, Policy(4, Mode.HIDE)).cast == []
    finally:
        await svc.close()
