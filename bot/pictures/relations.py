"""Draw a :class:`lore.graph.RelationGraph` as a PNG: the entry in the middle, its relations around it.

Layout: the entry, then each breadth-first layer of the graph (``networkx.bfs_layers``) on its own
ring (``networkx.shell_layout``); the rings are then widened until no two labels overlap. Nodes
wear their faction's colour (or their kind's); lines are coloured by the kind of relation, with an
arrow where the relation has a direction; each node's second line names its relation to the node
it was reached from. Same graph, same bytes: every order is fixed and nothing random is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.palette import KIND_COLOURS
from bot.pictures import style
from bot.pictures.fonts import draw_text, fit, text_width
from lore import GraphNode, Kind, RelationGraph, RelationType

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
_Rel = tuple[str, str, RelationType]  # source, target, type


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    colour: int


HOSTILE = Category("hostile", 0xE74C3C)
ALLIED = Category("allied or belongs to", 0x5DADE2)
FAMILY = Category("family", 0x58D68D)
IDENTITY = Category("same person", 0xC39BD3)
MADE = Category("made by", 0xF5B041)
OTHER = Category("other", 0xAAB7B8)
CATEGORIES: dict[RelationType, Category] = {
    RelationType.OPPOSES: HOSTILE,
    RelationType.FOUGHT: HOSTILE,
    RelationType.KILLED: HOSTILE,
    RelationType.KILLED_BY: HOSTILE,
    RelationType.DISTRUSTS: HOSTILE,
    RelationType.MEMBER_OF: ALLIED,
    RelationType.WORKS_FOR: ALLIED,
    RelationType.LEADS: ALLIED,
    RelationType.GOVERNS: ALLIED,
    RelationType.PART_OF: ALLIED,
    RelationType.ALLIED_WITH: ALLIED,
    RelationType.SIBLING_OF: FAMILY,
    RelationType.PARENT_OF: FAMILY,
    RelationType.CHILD_OF: FAMILY,
    RelationType.IDENTITY_OF: IDENTITY,
    RelationType.CREATED: MADE,
    RelationType.CREATED_BY: MADE,
    RelationType.RELATED_TO: OTHER,
    RelationType.LOCATED_IN: OTHER,
}
#: The order in which a pair's categories win its line's colour (the most telling first).
_PRECEDENCE = [IDENTITY, HOSTILE, FAMILY, MADE, ALLIED, OTHER]
#: Relations that read the same both ways get no arrowhead.
SYMMETRIC = {
    RelationType.SIBLING_OF,
    RelationType.ALLIED_WITH,
    RelationType.FOUGHT,
    RelationType.RELATED_TO,
    RelationType.IDENTITY_OF,
    RelationType.OPPOSES,
}
KIND_NAMES = {
    Kind.CHARACTER: "character (no faction shown)",
    Kind.FACTION: "faction",
    Kind.CONCEPT: "concept",
    Kind.LOCATION: "place",
    Kind.EPISODE: "episode",
    Kind.SERIES: "series",
}
#: Extra colours for factions outside the canon's table (a server's own), picked by name.
_SPARE = [0x1ABC9C, 0xE67E22, 0x9B59B6, 0x3498DB, 0xF1C40F, 0x16A085, 0xD35400, 0x2ECC71]

NAME_SIZE, SUB_SIZE, ROOT_SIZE = 15, 12, 19
MAX_LABEL = 180  # widest node label (px); longer names end in an ellipsis
PAD_X, PAD_Y = 10, 6
GAP = 10  # least room between two labels
MARGIN = 24
ASPECT = 1.35  # rings are ellipses, wider than tall, as labels are
STAGGER = 8  # a layer of more nodes alternates between two radii


@dataclass(frozen=True, slots=True)
class NodeLayout:
    slug: str
    box: Box
    colour: int
    name: str
    subtitle: str
    root: bool


@dataclass(frozen=True, slots=True)
class LineLayout:
    a: str
    b: str
    colour: int
    arrow_to: tuple[str, ...]  # nodes the line points at (none for a symmetric relation)
    tree: bool  # joins a node to the one it was reached from


@dataclass(frozen=True, slots=True)
class MapLayout:
    width: int
    height: int
    nodes: dict[str, NodeLayout]
    lines: list[LineLayout]
    legend: list[tuple[str, int, str]]  # (label, colour, "node" | "line")
    title: str
    subtitle: str


def node_colour(node: GraphNode) -> int:
    """The pack's colour for the node, else a spare one for its group, else its kind's default."""
    if node.colour is not None:
        return node.colour
    if node.group:
        return _SPARE[sum(map(ord, node.group_name or node.group)) % len(_SPARE)]
    return KIND_COLOURS.get(node.kind, 0x7F8C8D)


def _best_shift(parents: list[float], count: int) -> int:
    """The turn (in steps of one place) that brings a layer's nodes closest to their parents."""

    def cost(shift: int) -> float:
        return sum(
            min(abs(p - ((i - shift) % count) / count), 1 - abs(p - ((i - shift) % count) / count))
            for i, p in enumerate(parents)
        )

    return min(range(count), key=lambda shift: (round(cost(shift), 9), shift))


def _category(types: set[RelationType]) -> Category:
    cats = {CATEGORIES.get(t, OTHER) for t in types}
    return next(c for c in _PRECEDENCE if c in cats)


def _relation_text(types: list[str]) -> str:
    text = " · ".join(types[:2])
    return text + (f" +{len(types) - 2}" if len(types) > 2 else "")


def _overlap(a: Box, b: Box, gap: float = GAP) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def layout(graph: RelationGraph, caption: str) -> MapLayout:
    import networkx as nx  # here, not at import: it weighs a quarter second of the bot's start-up

    nodes = {n.slug: n for n in graph.nodes}
    by_pair: dict[frozenset[str], list[_Rel]] = {}
    for e in graph.edges:
        by_pair.setdefault(frozenset((e.source, e.target)), []).append((e.source, e.target, e.type))

    # label sizes
    sizes: dict[str, tuple[float, float, str, str]] = {}
    for n in graph.nodes:
        root = n.depth == 0
        size = ROOT_SIZE if root else NAME_SIZE
        name = fit(n.name, MAX_LABEL + (60 if root else 0), size, bold=True)
        if root:
            sub = n.group_name if n.group_name and n.kind is not Kind.FACTION else KIND_NAMES[n.kind].split(" ")[0]
        else:
            rels = by_pair.get(frozenset((n.slug, n.parent or "")), [])
            sub = _relation_text(sorted({t.label for _, _, t in rels}))
        sub = fit(sub, MAX_LABEL, SUB_SIZE)
        w = max(text_width(name, size, True), text_width(sub, SUB_SIZE) if sub else 0) + 2 * PAD_X
        h = size + 8 + (SUB_SIZE + 5 if sub else 0) + 2 * PAD_Y
        sizes[n.slug] = (w, h, name, sub)

    # rings: the breadth-first layers of the tree the graph was found by (networkx.bfs_layers),
    # each ordered by the position of its parents and turned to face them, placed on concentric
    # shells by networkx.shell_layout; a crowded layer alternates between two radii.
    tree = nx.Graph()
    tree.add_nodes_from(n.slug for n in graph.nodes)
    tree.add_edges_from((n.parent, n.slug) for n in graph.nodes if n.parent is not None)
    position = {graph.root: 0.0}
    shells: list[list[str]] = []
    for layer in nx.bfs_layers(tree, [graph.root]):
        if not shells:
            shells.append(list(layer))
            continue

        def key(slug: str) -> tuple[float, str, str]:
            n = nodes[slug]
            return (position.get(n.parent or "", 0.0), n.group_name or f"~{n.kind.value}", n.name.casefold())

        ordered = sorted(layer, key=key)
        count = len(ordered)
        if len(shells) > 1:  # turn the layer so that children sit in front of their parents
            parents = [position[nodes[slug].parent or graph.root] for slug in ordered]
            ordered = ordered[_best_shift(parents, count) :] + ordered[: _best_shift(parents, count)]
        for i, slug in enumerate(ordered):
            position[slug] = i / count
        shells.append(ordered)
    unit = nx.shell_layout(tree, nlist=shells, scale=1.0, rotate=0.0)
    # a quarter turn puts the first relation at the top; screen y grows downwards
    angles = {slug: math.atan2(float(unit[slug][1]), float(unit[slug][0])) - math.pi / 2 for slug in nodes}
    rings: list[list[str]] = [shells[0]]
    for shell in shells[1:]:
        if len(shell) > STAGGER:
            rings.extend([shell[0::2], shell[1::2]])
        else:
            rings.append(shell)

    def boxes_for(radii: list[float]) -> dict[str, Box]:
        out = {}
        for k, ring in enumerate(rings):
            r = radii[k]
            for slug in ring:
                w, h, _, _ = sizes[slug]
                cx, cy = ASPECT * r * math.cos(angles[slug]), r * math.sin(angles[slug])
                out[slug] = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        return out

    radii = [0.0]
    for k in range(1, len(rings)):
        tallest = max(sizes[s][1] for s in rings[k])
        radii.append(radii[-1] + tallest + 30 + (sizes[graph.root][1] / 2 if k == 1 else 0))
    boxes = boxes_for(radii)
    ring_of = {s: k for k, ring in enumerate(rings) for s in ring}
    for _ in range(300):  # widen the innermost crowded ring (and those outside it) until labels are clear
        crowded = None
        items = list(boxes.items())
        for i, (a, ba) in enumerate(items):
            for b, bb in items[i + 1 :]:
                if _overlap(ba, bb):
                    k = max(ring_of[a], ring_of[b])
                    crowded = k if crowded is None else min(crowded, k)
        if crowded is None:
            break
        grow = radii[crowded] * 0.04 + 3
        for k in range(crowded, len(rings)):
            radii[k] += grow
        boxes = boxes_for(radii)

    # canvas
    title = f"{nodes[graph.root].name} — relations"
    count = len(graph.nodes) - 1
    subtitle = f"{count} related entr{'y' if count == 1 else 'ies'} within {graph.depth} step{'s' * (graph.depth > 1)}"
    if graph.trimmed:
        subtitle += f" · {graph.trimmed} more not drawn (at most {len(graph.nodes)} entries per map)"
    legend = _legend(graph, by_pair)
    x0 = min(b[0] for b in boxes.values())
    y0 = min(b[1] for b in boxes.values())
    x1 = max(b[2] for b in boxes.values())
    y1 = max(b[3] for b in boxes.values())
    header = 70
    width = int(max(x1 - x0 + 2 * MARGIN, 640, text_width(title, 24, True) + 2 * MARGIN))
    legend_h = _legend_height(legend, width)
    height = int(header + (y1 - y0) + 2 * MARGIN + legend_h + 28)
    dx = (width - (x1 - x0)) / 2 - x0
    dy = header + MARGIN - y0
    placed = {}
    for n in graph.nodes:
        bx = boxes[n.slug]
        box = (round(bx[0] + dx), round(bx[1] + dy), round(bx[2] + dx), round(bx[3] + dy))
        _, _, name, sub = sizes[n.slug]
        placed[n.slug] = NodeLayout(n.slug, box, node_colour(n), name, sub, n.depth == 0)
    lines = []
    for pair in sorted(by_pair, key=lambda p: tuple(sorted(p))):
        rels = by_pair[pair]
        a, b = sorted(pair)
        arrows = sorted({t for _, t, rt in rels if rt not in SYMMETRIC})
        tree_line = nodes[a].parent == b or nodes[b].parent == a
        lines.append(LineLayout(a, b, _category({rt for _, _, rt in rels}).colour, tuple(arrows), tree_line))
    return MapLayout(width, height, placed, lines, legend, fit(title, width - 2 * MARGIN, 24, True), subtitle)


def _legend(graph: RelationGraph, by_pair: dict[frozenset[str], list[_Rel]]) -> list[tuple[str, int, str]]:
    seen: dict[str, tuple[str, int, str]] = {}
    members = {n.group: n for n in graph.nodes if n.group}
    for n in sorted(members.values(), key=lambda n: (n.group_name.casefold(), n.group)):
        seen[f"g:{n.group}"] = (n.group_name, node_colour(n), "node")
    for kind in Kind:
        plain = next((n for n in graph.nodes if not n.group and n.kind is kind), None)
        if plain is not None:
            seen[f"k:{kind.value}"] = (KIND_NAMES[kind], node_colour(plain), "node")
    cats = {_category({rt for _, _, rt in rels}) for rels in by_pair.values()}
    for cat in _PRECEDENCE:
        if cat in cats:
            seen[f"c:{cat.name}"] = (cat.name, cat.colour, "line")
    return list(seen.values())


def _legend_rows(legend: list[tuple[str, int, str]], width: int) -> list[list[tuple[str, int, str]]]:
    rows: list[list[tuple[str, int, str]]] = [[]]
    x = MARGIN + 60
    for item in legend:
        w = 22 + text_width(item[0], SUB_SIZE) + 18
        if rows[-1] and (x + w > width - MARGIN or (item[2] == "line" and rows[-1][-1][2] == "node")):
            rows.append([])
            x = MARGIN + 60
        rows[-1].append(item)
        x += w
    return [r for r in rows if r]


def _legend_height(legend: list[tuple[str, int, str]], width: int) -> int:
    return 22 * len(_legend_rows(legend, width)) + 16


def _text_colour(colour: int) -> tuple[int, int, int]:
    r, g, b = (colour >> 16) & 255, (colour >> 8) & 255, colour & 255
    return (20, 20, 24) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


def _clip(box: Box, towards: tuple[float, float]) -> tuple[float, float]:
    """Where the segment from ``box``'s centre towards a point leaves the box."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    dx, dy = towards[0] - cx, towards[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    hw, hh = (box[2] - box[0]) / 2 + 3, (box[3] - box[1]) / 2 + 3
    t = min(hw / abs(dx) if dx else math.inf, hh / abs(dy) if dy else math.inf)
    return cx + dx * t, cy + dy * t


def draw(graph: RelationGraph, caption: str) -> bytes:
    """The map as PNG bytes; ``caption`` (the policy) goes in the bottom corner."""
    lay = layout(graph, caption)
    s = style.SCALE
    shapes = Image.new("RGB", (lay.width * s, lay.height * s), style.BACKGROUND)
    d = ImageDraw.Draw(shapes)
    centre = {slug: ((n.box[0] + n.box[2]) / 2, (n.box[1] + n.box[3]) / 2) for slug, n in lay.nodes.items()}
    # lines of the tree the map was found by are drawn bold; the others (between two relations) faint
    for line in sorted(lay.lines, key=lambda ln: ln.tree):
        a, b = lay.nodes[line.a], lay.nodes[line.b]
        pa, pb = _clip(a.box, centre[line.b]), _clip(b.box, centre[line.a])
        colour = style.rgb(line.colour) if line.tree else style.blend(line.colour, 0.55)
        d.line([(pa[0] * s, pa[1] * s), (pb[0] * s, pb[1] * s)], fill=colour, width=(2 if line.tree else 1) * s)
        for target in line.arrow_to:
            tip, tail = (pb, pa) if target == line.b else (pa, pb)
            _arrow(d, tip, tail, colour, s)
    for n in lay.nodes.values():
        d.rounded_rectangle(
            tuple(v * s for v in n.box),
            radius=8 * s,
            fill=style.rgb(n.colour),
            outline=style.TEXT if n.root else None,
            width=2 * s if n.root else 0,
        )
    _legend_swatches(d, lay, s)
    # text is anti-aliased by FreeType already: it is drawn at the final size, after scaling down
    img = style.reduce(shapes)
    draw_text(img, (MARGIN, 18), lay.title, 24, style.TEXT, bold=True)
    draw_text(img, (MARGIN, 50), lay.subtitle, 13, style.MUTED)
    for n in lay.nodes.values():
        x0, y0, x1, _ = n.box
        ink = _text_colour(n.colour)
        size = ROOT_SIZE if n.root else NAME_SIZE
        draw_text(img, ((x0 + x1) / 2, y0 + PAD_Y), n.name, size, ink, bold=True, anchor="ma")
        if n.subtitle:
            sub_ink = (60, 60, 66) if ink[0] < 128 else (225, 228, 232)
            draw_text(img, ((x0 + x1) / 2, y0 + PAD_Y + size + 7), n.subtitle, SUB_SIZE, sub_ink, anchor="ma")
    _legend_text(img, lay)
    draw_text(img, (lay.width - MARGIN, lay.height - 12), caption, 12, style.MUTED, anchor="rd")
    return style.encode(img)


def _arrow(
    d: ImageDraw.ImageDraw, tip: tuple[float, float], tail: tuple[float, float], colour: tuple[int, int, int], s: int
) -> None:
    ang = math.atan2(tip[1] - tail[1], tip[0] - tail[0])
    size = 10
    left = (tip[0] - size * math.cos(ang - 0.45), tip[1] - size * math.sin(ang - 0.45))
    right = (tip[0] - size * math.cos(ang + 0.45), tip[1] - size * math.sin(ang + 0.45))
    d.polygon([(p[0] * s, p[1] * s) for p in (tip, left, right)], fill=colour)


def _legend_places(lay: MapLayout) -> list[tuple[float, float, str, int, str, str | None]]:
    """(x, y, label, colour, what, heading) of every legend item."""
    out: list[tuple[float, float, str, int, str, str | None]] = []
    y: float = lay.height - 28 - _legend_height(lay.legend, lay.width) + 8
    headed: set[str] = set()
    for row in _legend_rows(lay.legend, lay.width):
        x = MARGIN + 60
        what = row[0][2]
        heading = None if what in headed else ("Entries" if what == "node" else "Lines")
        headed.add(what)
        for i, (label, colour, kind) in enumerate(row):
            out.append((x, y, label, colour, kind, heading if i == 0 else None))
            x += 22 + text_width(label, SUB_SIZE) + 18
        y += 22
    return out


def _legend_swatches(d: ImageDraw.ImageDraw, lay: MapLayout, s: int) -> None:
    places = _legend_places(lay)
    if places:
        y = places[0][1] - 6
        d.line([(MARGIN * s, y * s), ((lay.width - MARGIN) * s, y * s)], fill=style.RULE, width=s)
    for x, y, _, colour, what, _ in places:
        if what == "node":
            d.rounded_rectangle((x * s, (y + 3) * s, (x + 16) * s, (y + 17) * s), radius=3 * s, fill=style.rgb(colour))
        else:
            d.line([(x * s, (y + 10) * s), ((x + 16) * s, (y + 10) * s)], fill=style.rgb(colour), width=3 * s)


def _legend_text(img: Image.Image, lay: MapLayout) -> None:
    for x, y, label, _, _, heading in _legend_places(lay):
        if heading:
            draw_text(img, (MARGIN, y + 2), heading, SUB_SIZE, style.MUTED, bold=True)
        draw_text(img, (x + 22, y + 2), label, SUB_SIZE, style.TEXT)
