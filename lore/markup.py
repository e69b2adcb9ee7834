"""Discord markup for text that comes from a pack or an admin: escaped once, wrapped in spans.

Every piece of pack or user text that reaches a rendered reply goes through :func:`escape`, so it
can neither open nor close a spoiler span, a code span, a quote, a link or a mention: a name
``Decoy||`` or a fact ending in ``||`` would otherwise pair with the next spoiler opener and
pull later lore out of its tags. :func:`spoiler` wraps already-escaped text in tags, and
:func:`spoiler_block` builds the one block of later lore a reply carries under ``tag``.
"""

from __future__ import annotations

import re

#: Characters Discord's markdown gives a meaning anywhere in a line. A backslash before any ASCII
#: punctuation is consumed by Discord's parser, so escaping one that means nothing costs nothing.
_INLINE = re.compile(r"([\\|*_~`>\[\]<@])")
#: Markup that only means something at the start of a line: headings, "-#" subtext, lists. A
#: numbered list is escaped at its dot (``1\.``): a backslash before a digit is not consumed, and
#: Discord would show it.
_LINE_START = re.compile(r"^(\s*)(?:([#\-+])|(\d+)([.)]))", re.MULTILINE)

#: What the later-lore block says when there is nothing more to come.
NOTHING_LATER = "Nothing more in later episodes."


def escape(text: str) -> str:
    """``text`` shown literally by Discord: no span, code, quote, heading, list, link or mention."""
    if _INLINE.search(text):  # most texts hold none: looking is cheaper than substituting
        text = _INLINE.sub(r"\\\1", text)
    first = text.lstrip()[:1]
    if "\n" not in text and first not in ("#", "-", "+") and not first.isdecimal():
        return text  # one line that begins no markup: nothing more to escape
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(m: re.Match[str]) -> str:
    indent, marker, number, dot = m.groups()
    return indent + ("\\" + marker if marker else number + "\\" + dot)


def shorten(text: str, limit: int, placeholder: str = "…") -> str:
    """Cut ``text`` to ``limit`` characters at a word boundary (never mid-word), adding ``placeholder``."""
    if len(text) <= limit:
        return text
    room = limit - len(placeholder)
    cut = text[:room]
    space = cut.rfind(" ")
    if space > room // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + placeholder


def echo(text: str) -> str:
    """A user's own words quoted back as Markdown that cannot open or close anything."""
    return escape(shorten(text.strip(), 80))


def code(text: str) -> str:
    """``text`` as an inline code span (Discord does not read escapes there, so backticks go)."""
    return "`" + (text.replace("`", "ˋ") or " ") + "`"


def spoiler(escaped: str) -> str:
    """Wrap already-escaped text in spoiler tags (empty text becomes one space)."""
    return "||" + (escaped or " ") + "||"


def _cut(escaped: str, room: int) -> str:
    """Cut escaped text to ``room`` characters without leaving a dangling backslash."""
    if len(escaped) <= room:
        return escaped
    cut = escaped[: max(room - 1, 0)]
    # an odd run of trailing backslashes would escape what follows: drop one
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + "…"


def spoiler_block(lines: list[str], limit: int) -> str:
    """One spoiler span holding ``lines`` (already escaped), at most ``limit`` characters in all.

    With no lines it says that nothing more is to come: the block is there either way, so its
    presence tells nothing; only the size Discord draws for it does.
    """
    body = "\n".join(lines) if lines else NOTHING_LATER
    return spoiler(_cut(body, limit - 4))
