"""Discord's message limits, and text splitting that never cuts a word or a spoiler span."""

from __future__ import annotations

import re

from lore import shorten as shorten  # re-exported: limits.shorten is what the adapter calls

CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000
EMBEDS_PER_MESSAGE = 10
CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
SELECT_OPTIONS = 25
OPTION_LABEL = 100
OPTION_DESCRIPTION = 100
BUTTON_LABEL = 80
MODAL_TITLE = 45
TEXT_INPUT_LABEL = 45
TEXT_INPUT = 4000  # a text input's value (max_length)

_SPOILER = re.compile(r"\|\|((?:\\.|[^|\\])*)\|\|", re.DOTALL)


def _split_plain(text: str, limit: int) -> list[str]:
    """Split plain text on paragraph, then line, then sentence, then word boundaries."""
    if len(text) <= limit:
        return [text]
    for sep in ("\n\n", "\n", ". ", " "):
        cut = text.rfind(sep, 0, limit - (len(sep) if sep != " " else 0) + 1)
        if cut > 0:
            head = text[: cut + (len(sep) if sep in (". ",) else 0)].rstrip()
            tail = text[cut + len(sep) :].lstrip()
            if head:
                return [head, *_split_plain(tail, limit)]
    # a single "word" longer than the limit (a URL, say): a hard cut is the only way
    return [text[:limit], *_split_plain(text[limit:], limit)]


def _dangling(text: str) -> bool:
    """Whether ``text`` ends with an odd run of backslashes (it would escape what follows)."""
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def _split_escaped(text: str, limit: int) -> list[str]:
    """Split a span's escaped content like plain text, never between a backslash and the character
    it escapes (a part ending in one backslash would escape the span's closing pipes)."""
    parts = _split_plain(text, limit)
    if not any(_dangling(p) for p in parts):
        return parts
    out: list[str] = []
    while len(text) > limit:
        cut = limit
        while cut > 1 and _dangling(text[:cut]):
            cut -= 1
        out.append(text[:cut])
        text = text[cut:]
    if text:
        out.append(text)
    return out


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters.

    Spoiler spans (``||...||``) are kept whole when they fit; a span longer than a chunk is split
    into several spans, each closed and re-opened, so no chunk leaves a spoiler open.
    """
    if len(text) <= limit:
        return [text]
    # Tokenise into spoiler spans and plain runs, splitting long pieces first.
    pieces: list[str] = []
    pos = 0
    for m in _SPOILER.finditer(text):
        if m.start() > pos:
            pieces.extend(_split_plain(text[pos : m.start()], limit))
        inner = m.group(1)
        if len(inner) + 4 <= limit:
            pieces.append(m.group(0))
        else:
            pieces.extend(f"||{part}||" for part in _split_escaped(inner, limit - 4))
        pos = m.end()
    if pos < len(text):
        pieces.extend(_split_plain(text[pos:], limit))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        joiner = "" if not current or current.endswith(("\n", " ")) or piece.startswith(("\n", " ")) else " "
        if len(current) + len(joiner) + len(piece) <= limit:
            current += joiner + piece
        else:
            if current.strip():
                chunks.append(current.strip())
            current = piece
    if current.strip():
        chunks.append(current.strip())
    return chunks


def pack_lines(lines: list[str], limit: int) -> list[str]:
    """Join lines into blocks of at most ``limit`` characters, splitting over-long lines safely."""
    blocks: list[str] = []
    current = ""
    for line in lines:
        for part in split_text(line, limit):
            if current and len(current) + 1 + len(part) > limit:
                blocks.append(current)
                current = ""
            current = f"{current}\n{part}" if current else part
    if current:
        blocks.append(current)
    return blocks
