"""``lorebot ask``'s answer as plain text for a person at a terminal.

The answer's texts are Discord markdown. A terminal renders no spoiler tags, so under ``tag`` a
``||…||`` span would print later lore in plain sight: each span is replaced by :data:`HIDDEN`,
which says how to read it. Spans are found as Discord finds them (an escaped character is
literal, a code span holds no markup, ``||`` pairs with the next ``||``); the rest of the text
is printed as it is. ``--json`` prints the answer unchanged, spans included, for programs.
"""

from __future__ import annotations

import re
import string
from typing import Any

#: What a terminal shows in place of a spoiler span.
HIDDEN = "[spoiler hidden: later lore; --mode show prints it]"

_PUNCT = frozenset(string.punctuation)
_CODE = re.compile(r"(`+)([\s\S]*?[^`])\1(?!`)")


def hide_spoilers(text: str) -> str:
    """``text`` with every spoiler span Discord would draw replaced by :data:`HIDDEN`."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in _PUNCT:
            out.append(text[i : i + 2])
            i += 2
        elif ch == "`":
            m = _CODE.match(text, i)
            end = m.end() if m else i + len(text[i:]) - len(text[i:].lstrip("`"))
            out.append(text[i:end])
            i = end
        elif text.startswith("||", i) and (close := text.find("||", i + 3)) != -1:
            out.append(HIDDEN)
            i = close + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def format_view_text(answer_json: dict[str, Any]) -> str:
    """Plain-text rendering of ``ask``'s answer, for people at a terminal (spoiler spans hidden)."""
    shown = hide_spoilers
    lines: list[str] = []
    match = answer_json["match"]
    if match is None:
        if answer_json["ambiguous"]:
            lines.append(f"{answer_json['query']!r} matches several entries; which one?")
        else:
            lines.append(f"No match for {answer_json['query']!r}.")
        if answer_json["candidates"]:
            lines.append("Did you mean: " + ", ".join(c["name"] for c in answer_json["candidates"]))
        if answer_json.get("later"):
            lines.append(f"Later episodes: {shown(answer_json['later'])}")
        return "\n".join(lines)
    lines.append(f"{match['title']}  [{match['kind']}]")
    if match["summary"]:
        lines.append(shown(match["summary"]))
    if match["aliases"]:
        lines.append("Also known as: " + ", ".join(shown(a) for a in match["aliases"]))
    if match["status"]:
        lines.append(f"Status: {shown(match['status'])}")
    if match["episode"] and match["episode"].get("title"):
        ep = match["episode"]
        date = ep.get("air_date") or "unknown"
        lines.append(f"Aired: {date}{' (computed)' if ep.get('air_date_computed') else ''}")
    for attr in match["attributes"]:
        lines.append(f"{attr['label']}: {shown(attr['text'])}" if attr.get("label") else shown(attr["text"]))
    for rel in match["relations"]:
        lines.append(f"- {shown(rel['text'])}")
    if match.get("appearances"):
        lines.append("Appears in episodes: " + ", ".join(shown(a["text"]) for a in match["appearances"]))
    for member in match.get("cast", []):
        lines.append(f"- cast: {shown(member['text'])}")
    for fact in match["facts"]:
        lines.append(f"* {shown(fact['text'])}  (ep {fact['episode']})")
    if match["later"]:
        lines.append(f"Later episodes: {shown(match['later'])}")
    if answer_json["candidates"]:
        lines.append("See also: " + ", ".join(c["name"] for c in answer_json["candidates"]))
    return "\n".join(lines)
