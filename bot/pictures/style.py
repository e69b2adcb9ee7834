"""What every picture shares: colours of the page, the drawing scale and the PNG encoding."""

from __future__ import annotations

import io

from PIL import Image

#: Pictures are drawn at this multiple of their size and scaled down: smooth lines and edges.
SCALE = 2
BACKGROUND = (43, 45, 49)  # Discord's dark theme, so a picture sits well in a channel
TEXT = (242, 243, 245)
MUTED = (181, 186, 193)
RULE = (78, 80, 88)
RULE_TEXT = (128, 132, 140)


def rgb(colour: int) -> tuple[int, int, int]:
    return (colour >> 16) & 255, (colour >> 8) & 255, colour & 255


def blend(colour: int, amount: float) -> tuple[int, int, int]:
    """``colour`` mixed with the background: 0 is the colour itself, 1 the background."""
    return tuple(round(c * (1 - amount) + b * amount) for c, b in zip(rgb(colour), BACKGROUND, strict=True))  # type: ignore[return-value]


def reduce(img: Image.Image) -> Image.Image:
    """Scale a picture drawn at :data:`SCALE` down to its size (a box filter: smooth edges)."""
    return img.reduce(SCALE) if SCALE > 1 else img


def encode(img: Image.Image) -> bytes:
    """PNG bytes with at most 256 colours (a third of the size, and quicker to write): the same
    pixels always give the same bytes (no time, no metadata)."""
    small = img.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    small.save(buf, "PNG", compress_level=1)
    return buf.getvalue()
