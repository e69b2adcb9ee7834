"""Spoiler spans as Discord's markdown parser finds them, for the counterfactual comparison.

Discord reads inline markup left to right; at each position the first rule that matches wins:
a backslash before an ASCII punctuation character is that character, literally; a run of
backticks opens a code span closed by the same run (nothing inside is markup); ``||`` opens a
spoiler span closed by the *next* ``||`` (lazily, whatever escapes lie between: an escaped pipe
only protects a span because it breaks a pair of pipes apart). Text with an unclosed ``||`` or
backtick run is literal there.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

PUNCT = set(string.punctuation)
SPAN = "‹span›"
_CODE = re.compile(r"(`+)([\s\S]*?[^`])\1(?!`)")


@dataclass(frozen=True)
class Segment:
    text: str  # the source text of the segment (a span's without its pipes)
    spoiler: bool


def segments(text: str) -> list[Segment]:
    out: list[Segment] = []
    plain: list[str] = []
    i, n = 0, len(text)

    def flush() -> None:
        if plain:
            out.append(Segment("".join(plain), False))
            plain.clear()

    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in PUNCT:
            plain.append(text[i : i + 2])
            i += 2
            continue
        if ch == "`":
            m = _CODE.match(text, i)
            if m:
                plain.append(m.group(0))
                i = m.end()
                continue
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            plain.append(text[i : i + run])
            i += run
            continue
        if text.startswith("||", i):
            close = text.find("||", i + 3)  # the content is at least one character
            if close != -1:
                flush()
                out.append(Segment(text[i + 2 : close], True))
                i = close + 2
                continue
        plain.append(ch)
        i += 1
    flush()
    return out


def blank(text: str) -> str:
    """``text`` with the content of every spoiler span replaced by one marker."""
    return "".join(SPAN if s.spoiler else s.text for s in segments(text))


def outside(text: str) -> str:
    """What a reader sees of ``text`` without revealing any span."""
    return "".join(s.text for s in segments(text) if not s.spoiler)


def spans(text: str) -> list[str]:
    return [s.text for s in segments(text) if s.spoiler]
