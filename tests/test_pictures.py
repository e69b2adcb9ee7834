"""Pictures: the relation map and the timeline draw only what the policy reveals (the same bytes as
from the visible world), legibly (no label overlaps, every visible relation drawn), deterministically,
with Japanese names in a font that has them; the painter caches, bounds and times out."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from bot.pictures import fonts, relations, timeline
from bot.pictures.painter import Painter, PictureError
from lore.graph import MAX_NODES, Edge, Node, RelationGraph, relation_graph
from lore.graph import timeline as build_timeline
from lore.model import Kind, RelationType
from lore.packs import CANON_PACK_PATH, load_pack
from lore.service import LoreService
from lore.spoilers import Mode, Policy
from lore.visible import write_visible_pack

pytestmark = pytest.mark.skipif(not CANON_PACK_PATH.exists(), reason="canon pack not present")

EPISODES = (1, 4, 7, 8, 12)
MAP_ENTRIES = ("naomi-orthmann", "rouge-redstar", "aletheia", "immortal-nine", "roy-junghardt", "jill")


class Worlds:
    """The canon, and the visible world at each episode, each in its own service (opened lazily)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.pack = load_pack(CANON_PACK_PATH)
        self.full = self.loop.run_until_complete(LoreService.open(tmp / "full.sqlite3"))
        self._visible: dict[int, LoreService] = {}

    def visible(self, episode: int) -> LoreService:
        if episode not in self._visible:
            pack = write_visible_pack(self.pack, episode, self.tmp / f"visible-{episode}.json")
            svc = LoreService.open(self.tmp / f"visible-{episode}.sqlite3", canon_pack=pack)
            self._visible[episode] = self.loop.run_until_complete(svc)
        return self._visible[episode]

    def close(self) -> None:
        for svc in [self.full, *self._visible.values()]:
            self.loop.run_until_complete(svc.close())
        self.loop.close()


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> Iterator[Worlds]:
    w = Worlds(tmp_path_factory.mktemp("pictures"))
    yield w
    w.close()


def _map(svc: LoreService, slug: str, policy: Policy, depth: int) -> RelationGraph | None:
    return relation_graph(svc, slug, policy, None, depth)


# -- the counterfactual property ------------------------------------------------------------------


@pytest.mark.parametrize("episode", EPISODES)
def test_every_map_equals_the_map_of_the_visible_world(worlds, episode):
    """Structure first, for every entry a viewer can reach: same nodes, same edges, same trim count."""
    visible = worlds.visible(episode)
    slugs = sorted(e.slug for e in visible.entries() if e.kind is not Kind.EPISODE)
    assert len(slugs) > 10
    for mode in (Mode.HIDE, Mode.TAG):
        policy = Policy(episode, mode)
        for slug in slugs:
            for depth in (1, 2):
                assert _map(worlds.full, slug, policy, depth) == _map(visible, slug, policy, depth), (slug, mode, depth)
    # what the visible world lacks is not drawn from the full one either
    later = sorted(e.slug for e in worlds.full.entries() if e.introduced > episode)
    for slug in later:
        assert _map(worlds.full, slug, Policy(episode, Mode.HIDE), 1) is None
        assert _map(worlds.full, slug, Policy(episode, Mode.TAG), 1) is None


@pytest.mark.parametrize("episode", (1, 7, 12))
def test_map_and_timeline_bytes_equal_the_visible_worlds(worlds, episode):
    visible = worlds.visible(episode)
    for mode in (Mode.HIDE, Mode.TAG):
        policy = Policy(episode, mode)
        for slug in ("naomi-orthmann", "roy-junghardt"):
            full = Painter().draw_relations(worlds.full, slug, policy, None, 2)
            seen = Painter().draw_relations(visible, slug, policy, None, 2)
            assert full is not None and seen is not None
            assert full.picture.data == seen.picture.data
        full_pages = Painter().draw_timeline(worlds.full, policy, None, 1, 13)
        seen_pages = Painter().draw_timeline(visible, policy, None, 1, 13)
        assert [p.data for p in full_pages] == [p.data for p in seen_pages]
        assert [p.filename for p in full_pages] == [p.filename for p in seen_pages]


def test_the_map_grows_with_the_episode(worlds):
    """Later lore appears only from its episode on: the twist that Naomi is a Nean, Roy's masks."""
    early = _map(worlds.full, "naomi-orthmann", Policy(5, Mode.HIDE), 1)
    late = _map(worlds.full, "naomi-orthmann", Policy(13, Mode.HIDE), 1)
    assert early is not None and late is not None
    assert {n.slug for n in early.nodes} < {n.slug for n in late.nodes}
    roy_before = _map(worlds.full, "roy-junghardt", Policy(11, Mode.TAG), 1)
    roy_after = _map(worlds.full, "roy-junghardt", Policy(12, Mode.TAG), 1)
    assert roy_before is not None and roy_after is not None
    identity = RelationType.IDENTITY_OF
    assert not any(e.type is identity and "puppetmaster" in (e.source, e.target) for e in roy_before.edges)
    assert any(e.type is identity and "puppetmaster" in (e.source, e.target) for e in roy_after.edges)
    shown = _map(worlds.full, "roy-junghardt", Policy(0, Mode.SHOW), 1)
    assert shown is not None and {n.slug for n in roy_after.nodes} <= {n.slug for n in shown.nodes}


def test_timeline_stops_at_the_policy_and_shows_only_seen_deaths_and_reveals(worlds):
    at3 = build_timeline(worlds.full, Policy(3, Mode.TAG))
    at4 = build_timeline(worlds.full, Policy(4, Mode.TAG))
    assert [r.number for r in at3.episodes] == [1, 2, 3]
    texts3 = " ".join(e.text for r in at3.episodes for e in r.events)
    texts4 = " ".join(e.text for r in at4.episodes for e in r.events)
    assert "Phantom Verde" not in texts3
    assert "Dr. Afdal is Phantom Verde" in texts4
    assert [r.number for r in build_timeline(worlds.full, Policy(2, Mode.SHOW)).episodes] == list(range(1, 14))
    assert build_timeline(worlds.full, Policy(0, Mode.HIDE)).episodes == ()
    middle = build_timeline(worlds.full, Policy(13, Mode.HIDE), first=5, last=8)
    assert [r.number for r in middle.episodes] == [5, 6, 7, 8]


# -- layout ---------------------------------------------------------------------------------------


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("episode", (5, 13))
def test_no_label_overlaps_and_every_visible_relation_is_drawn(worlds, episode):
    policy = Policy(episode, Mode.HIDE)
    checked = 0
    for entry in worlds.full.entries():
        if entry.kind not in (Kind.CHARACTER, Kind.FACTION):
            continue
        graph = _map(worlds.full, entry.slug, policy, 2)
        if graph is None:
            continue
        lay = relations.layout(graph, policy.footer())
        boxes = [n.box for n in lay.nodes.values()]
        for i, a in enumerate(boxes):
            assert 0 <= a[0] < a[2] <= lay.width and 0 <= a[1] < a[3] <= lay.height
            for b in boxes[i + 1 :]:
                assert not _overlaps(a, b), (entry.slug, a, b)
        # labels fit their boxes
        for n in lay.nodes.values():
            size = relations.ROOT_SIZE if n.root else relations.NAME_SIZE
            assert fonts.text_width(n.name, size, True) <= n.box[2] - n.box[0]
        drawn = {frozenset((ln.a, ln.b)) for ln in lay.lines}
        assert drawn == {frozenset((e.source, e.target)) for e in graph.edges}
        assert set(lay.nodes) == {n.slug for n in graph.nodes}
        assert len(graph.nodes) <= MAX_NODES
        # the legend names every colour on the map, below the map
        legend_colours = {c for _, c, what in lay.legend if what == "node"}
        assert {n.colour for n in lay.nodes.values()} <= legend_colours
        assert max(n.box[3] for n in lay.nodes.values()) < lay.height - 40
        checked += 1
    assert checked > 20


def test_a_crowded_map_is_trimmed_and_says_so(worlds):
    graph = _map(worlds.full, "rouge-redstar", Policy(13, Mode.SHOW), 2)
    assert graph is not None
    assert len(graph.nodes) == MAX_NODES and graph.trimmed > 0
    lay = relations.layout(graph, "x")
    assert f"{graph.trimmed} more not drawn" in lay.subtitle


def test_same_graph_same_bytes_and_a_real_png(worlds):
    policy = Policy(8, Mode.TAG)
    graph = _map(worlds.full, "naomi-orthmann", policy, 2)
    assert graph is not None
    one, two = relations.draw(graph, policy.footer()), relations.draw(graph, policy.footer())
    assert one == two
    img = Image.open(io.BytesIO(one))
    assert img.format == "PNG" and img.width >= 640 and img.height >= 400
    assert len(one) < 1024 * 1024  # far within Discord's smallest upload limit
    pages = timeline.draw(build_timeline(worlds.full, Policy(13, Mode.HIDE)), "cap", worlds.full.franchise)
    assert len(pages) >= 2  # 13 episodes are paginated
    for page in pages:
        im = Image.open(io.BytesIO(page))
        assert im.width == timeline.WIDTH and im.height <= timeline.HEADER + timeline.PAGE_BODY + 200


def test_japanese_names_render_with_real_glyphs():
    font = fonts.font(16, True)
    missing = font.getmask("\uffff").getbbox()  # a code point no font has: the .notdef box
    for ch in "ナオミ・オルトマン紅暁":
        mask = font.getmask(ch)
        assert mask.getbbox() is not None
        assert bytes(mask) != bytes(font.getmask("\uffff")) or mask.getbbox() != missing
    graph = RelationGraph(
        "naomi",
        1,
        (
            Node("naomi", "ナオミ・オルトマン", Kind.CHARACTER, 0, None, "", ""),
            Node("rouge", "ルージュ・レッドスター", Kind.CHARACTER, 1, "naomi", "", ""),
        ),
        (Edge("naomi", "rouge", RelationType.ALLIED_WITH),),
        0,
    )
    lay = relations.layout(graph, "cap")
    assert lay.nodes["naomi"].name == "ナオミ・オルトマン"
    assert relations.draw(graph, "cap")[:8] == b"\x89PNG\r\n\x1a\n"


# -- the painter ----------------------------------------------------------------------------------


async def test_painter_caches_by_scope_version_and_policy(mini):
    painter = Painter()
    policy = Policy(3, Mode.TAG)
    first = await painter.relations(mini, "rouge-redstar", policy, None, 1)
    assert first is not None
    started = time.perf_counter()
    again = await painter.relations(mini, "rouge-redstar", policy, None, 1)
    assert again is first and time.perf_counter() - started < 0.05
    other = await painter.relations(mini, "rouge-redstar", Policy(8, Mode.TAG), None, 1)
    assert other is not None and other is not first
    # a server's edit makes a new scope version: its map is drawn again
    await mini.add_fact(42, "rouge-redstar", "A fact of this server.", 1, author="test")
    edited = await painter.relations(mini, "rouge-redstar", policy, 42, 1)
    assert edited is not None and edited is not first
    assert await painter.relations(mini, "no-such-entry", policy, None, 1) is None
    painter.close()


async def test_painter_cache_is_bounded(mini):
    painter = Painter(entries=3, size=10**9)
    for ep in range(6):
        await painter.relations(mini, "rouge-redstar", Policy(ep, Mode.HIDE), None, 1)
    assert len(painter.cache) == 3
    small = Painter(entries=100, size=20_000)
    for ep in range(6):
        await small.relations(mini, "rouge-redstar", Policy(ep, Mode.SHOW), None, 2)
        assert small.cache.bytes <= 20_000
    painter.close()
    small.close()


async def test_painter_gives_a_sentence_when_drawing_takes_too_long(mini, monkeypatch):
    painter = Painter(time_limit=0.05)

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return None

    monkeypatch.setattr(painter, "draw_relations", slow)
    with pytest.raises(PictureError, match="took too long"):
        await painter.relations(mini, "rouge-redstar", Policy(3, Mode.TAG), None, 1)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    painter.close()
    painter = Painter()
    monkeypatch.setattr(painter, "draw_timeline", broken)
    with pytest.raises(PictureError, match="could not draw"):
        await painter.timeline(mini, Policy(3, Mode.TAG), None)
    painter.close()


async def test_the_readme_examples_are_drawn_by_the_project(tmp_path):
    from bench.examples import DEFAULT_DIR, write_examples

    written = await write_examples(tmp_path)
    assert sorted(p.name for p in written) == ["relations-naomi-orthmann-ep5.png", "timeline-ep1-5.png"]
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG")
        committed = DEFAULT_DIR / path.name
        assert committed.exists() and committed.stat().st_size < 200_000
