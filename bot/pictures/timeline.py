"""Draw a :class:`lore.graph.Timeline` as PNG pages: one row per episode down a time line, with its
title, Japanese title, air date, and the deaths and reveals the viewer has seen."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.pictures import style
from bot.pictures.fonts import draw_text, fit, wrap
from lore import EpisodeRow, Franchise, Timeline

WIDTH = 900
MARGIN = 28
HEADER = 84
FOOTER = 56
AXIS_X = 92  # the time line
TEXT_X = 124
EVENT_X = TEXT_X + 18
TEXT_W = WIDTH - TEXT_X - MARGIN
EVENT_W = WIDTH - EVENT_X - MARGIN
TITLE_SIZE, SUB_SIZE, EVENT_SIZE = 18, 13, 14
EVENT_LINE = 21
#: A page holds episodes up to this height (one episode always fits, however long).
PAGE_BODY = 820
DEATH = 0xE74C3C
REVEAL = 0xC39BD3
EPISODE = 0xD35400


@dataclass(frozen=True, slots=True)
class RowLayout:
    row: EpisodeRow
    top: int
    title: str
    subtitle: str
    events: list[tuple[str, list[str]]]  # (kind, wrapped lines)
    height: int


def _row(row: EpisodeRow) -> RowLayout:
    title = fit(row.title, TEXT_W, TITLE_SIZE, True)
    parts = [p for p in (row.title_ja, row.air_date) if p]
    subtitle = fit("  ·  ".join(parts), TEXT_W, SUB_SIZE)
    events = [(e.kind, wrap(e.text, EVENT_W, EVENT_SIZE, max_lines=2)) for e in row.events]
    height = 28 + (20 if subtitle else 0) + 6 + sum(EVENT_LINE * len(lines) for _, lines in events)
    if not events:
        height += EVENT_LINE
    return RowLayout(row, 0, title, subtitle, events, height + 18)


def paginate(tl: Timeline) -> list[list[RowLayout]]:
    pages: list[list[RowLayout]] = [[]]
    used = 0
    for row in tl.episodes:
        lay = _row(row)
        if pages[-1] and used + lay.height > PAGE_BODY:
            pages.append([])
            used = 0
        pages[-1].append(RowLayout(lay.row, HEADER + used, lay.title, lay.subtitle, lay.events, lay.height))
        used += lay.height
    return [p for p in pages if p]


def draw(tl: Timeline, caption: str, franchise: Franchise, heading: str = "Timeline") -> list[bytes]:
    """One PNG per page (an empty timeline gives no page); each page names its episodes as
    ``franchise`` does (``Episodes 13–24 (S2E1–S2E12)`` with seasons)."""
    pages = paginate(tl)
    return [_page(rows, caption, franchise, heading, i + 1, len(pages)) for i, rows in enumerate(pages)]


def _page(rows: list[RowLayout], caption: str, franchise: Franchise, heading: str, number: int, count: int) -> bytes:
    s = style.SCALE
    height = rows[-1].top + rows[-1].height + FOOTER
    shapes = Image.new("RGB", (WIDTH * s, height * s), style.BACKGROUND)
    d = ImageDraw.Draw(shapes)
    top, bottom = rows[0].top + 14, rows[-1].top + rows[-1].height - 18
    d.line([(AXIS_X * s, top * s), (AXIS_X * s, bottom * s)], fill=style.RULE, width=3 * s)
    for r in rows:
        cy = r.top + 14
        d.ellipse(((AXIS_X - 9) * s, (cy - 9) * s, (AXIS_X + 9) * s, (cy + 9) * s), fill=style.rgb(EPISODE))
        y = r.top + 28 + (20 if r.subtitle else 0) + 6
        for kind, lines in r.events:
            _marker(d, TEXT_X + 5, y + 10, kind, s)
            y += EVENT_LINE * len(lines)
    legend_y = height - FOOTER + 22
    d.line([(MARGIN * s, (legend_y - 10) * s), ((WIDTH - MARGIN) * s, (legend_y - 10) * s)], fill=style.RULE, width=s)
    _marker(d, MARGIN + 5, legend_y + 9, "death", s)
    _marker(d, MARGIN + 80, legend_y + 9, "reveal", s)
    img = style.reduce(shapes)
    draw_text(img, (MARGIN, 18), heading, 24, style.TEXT, bold=True)
    first, last = rows[0].row.number, rows[-1].row.number
    sub = franchise.span_label(first, last, capital=True)
    if count > 1:
        sub += f" · page {number} of {count}"
    draw_text(img, (MARGIN, 52), sub, 13, style.MUTED)
    for r in rows:
        draw_text(img, (AXIS_X - 20, r.top + 14), f"{r.row.number}", 22, style.TEXT, bold=True, anchor="rm")
        draw_text(img, (TEXT_X, r.top + 2), r.title, TITLE_SIZE, style.TEXT, bold=True)
        y = r.top + 28
        if r.subtitle:
            draw_text(img, (TEXT_X, y), r.subtitle, SUB_SIZE, style.MUTED)
            y += 20
        y += 6
        if not r.events:
            draw_text(img, (EVENT_X, y), "no death or reveal", EVENT_SIZE, style.RULE_TEXT)
        for _, lines in r.events:
            for line in lines:
                draw_text(img, (EVENT_X, y), line, EVENT_SIZE, style.TEXT)
                y += EVENT_LINE
    draw_text(img, (MARGIN + 16, legend_y), "death", 12, style.MUTED)
    draw_text(img, (MARGIN + 91, legend_y), "identity revealed", 12, style.MUTED)
    draw_text(img, (WIDTH - MARGIN, legend_y + 1), caption, 12, style.MUTED, anchor="ra")
    return style.encode(img)


def _marker(d: ImageDraw.ImageDraw, x: float, y: float, kind: str, s: int) -> None:
    if kind == "death":  # a cross
        d.rectangle(((x - 1.5) * s, (y - 6) * s, (x + 1.5) * s, (y + 6) * s), fill=style.rgb(DEATH))
        d.rectangle(((x - 5) * s, (y - 3) * s, (x + 5) * s, y * s), fill=style.rgb(DEATH))
    else:  # a diamond
        d.polygon(
            [(x * s, (y - 6) * s), ((x + 6) * s, y * s), (x * s, (y + 6) * s), ((x - 6) * s, y * s)],
            fill=style.rgb(REVEAL),
        )
