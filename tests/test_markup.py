"""Escaped text reads back as itself in Discord: every backslash escape() adds is one Discord
consumes, and what it escapes can no longer open a list, heading, quote or span."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lore.markup import escape

#: Discord's markdown (simple-markdown's escape rule): a backslash before any character that is
#: neither a letter, a digit nor white space is consumed and the character shown as it is.
_CONSUMED = re.compile(r"\\([^0-9A-Za-z\s])")


def shown(markdown: str) -> str:
    return _CONSUMED.sub(r"\1", markdown)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("1. The first", "1\\. The first"),
        ("12) Twelfth", "12\\) Twelfth"),
        ("  3. indented", "  3\\. indented"),
        ("- a point", "\\- a point"),
        ("# A heading", "\\# A heading"),
        ("-# subtext", "\\-# subtext"),
        ("> quoted", "\\> quoted"),
        ("Decoy||", "Decoy\\|\\|"),
        ("Unit 1. is not a list", "Unit 1. is not a list"),
    ],
)
def test_line_markup_is_escaped_where_discord_consumes_the_backslash(text, escaped):
    assert escape(text) == escaped
    assert shown(escaped) == text


@given(st.text(alphabet=st.sampled_from("ab1 2.)#-+>|*_~`[]<@\\\n\té"), max_size=40) | st.text(max_size=40))
def test_escaped_text_is_shown_as_it_was_written(text):
    assert shown(escape(text)) == text
