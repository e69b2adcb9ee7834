"""Fonts for the pictures: Noto Sans CJK JP (SIL Open Font License 1.1), installed from PyPI.

One face covers Latin, kana and kanji, so ナオミ・オルトマン renders as itself, never as boxes.
Text is laid out with Pillow's basic engine (no system shaping library), the same on every machine.
"""

from __future__ import annotations

from functools import lru_cache

import noto_cjk_sans_jp_bold
import noto_cjk_sans_jp_regular
from PIL import Image, ImageDraw, ImageFont

REGULAR = str(noto_cjk_sans_jp_regular.FONT_PATH)
BOLD = str(noto_cjk_sans_jp_bold.FONT_PATH)


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(BOLD if bold else REGULAR, size, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=8192)
def text_width(text: str, size: int, bold: bool = False) -> int:
    return int(font(size, bold).getlength(text) + 0.999)


@lru_cache(maxsize=4096)
def _mask(text: str, size: int, bold: bool, anchor: str) -> tuple[Image.Image, int, int]:
    """``text`` rendered once as an 8-bit coverage mask, with its offset from the anchor point.
    Names, relation labels and legend entries recur from picture to picture: rasterising a glyph
    of this large CJK font costs far more than pasting it again."""
    face = font(size, bold)
    left, top, right, bottom = (int(v) for v in face.getbbox(text, anchor=anchor))
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=face, fill=255, anchor=anchor)
    return mask, left, top


def draw_text(
    img: Image.Image,
    xy: tuple[float, float],
    text: str,
    size: int,
    fill: tuple[int, int, int],
    *,
    bold: bool = False,
    anchor: str = "la",
) -> None:
    """Draw ``text`` at ``xy`` (as ``ImageDraw.text`` with this ``anchor`` would), from the mask cache."""
    if not text:
        return
    mask, left, top = _mask(text, size, bold, anchor)
    img.paste(fill, (round(xy[0]) + left, round(xy[1]) + top), mask)


def fit(text: str, width: int, size: int, bold: bool = False) -> str:
    """``text`` cut with an ellipsis to at most ``width`` pixels."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def wrap(text: str, width: int, size: int, bold: bool = False, max_lines: int = 3) -> list[str]:
    """``text`` in lines of at most ``width`` pixels, broken at spaces (or anywhere in CJK text)."""
    words = text.split(" ")
    lines: list[str] = []
    line = ""
    for word in words:
        trial = f"{line} {word}" if line else word
        if text_width(trial, size, bold) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = word
        while text_width(line, size, bold) > width and len(line) > 1:  # one long word: break it
            cut = len(line)
            while cut > 1 and text_width(line[:cut], size, bold) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = fit(lines[-1] + " …", width, size, bold)
    return lines
