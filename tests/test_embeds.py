"""Embed layout: every Discord limit respected, long lore split (never mid-word or mid-spoiler)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import limits
from bot.embeds import entry_pages
from bot.replies import batch_embeds
from lore.franchise import Franchise
from lore.model import Attribute, Entry, EpisodeList, Fact, Kind, PackMeta
from lore.render import render_entry
from lore.spoilers import Mode, Policy

THIRTEEN = Franchise.of(PackMeta(episodes=EpisodeList(count=13)))


def assert_embed_ok(embed):
    d = embed.to_dict()
    assert len(d.get("title", "")) <= limits.EMBED_TITLE
    assert len(d.get("description", "")) <= limits.EMBED_DESCRIPTION
    assert len(d.get("fields", [])) <= limits.EMBED_FIELDS
    for f in d.get("fields", []):
        assert 0 < len(f["name"]) <= limits.FIELD_NAME
        assert 0 < len(f["value"]) <= limits.FIELD_VALUE
    assert len(d.get("footer", {}).get("text", "")) <= limits.FOOTER
    assert len(embed) <= limits.EMBED_TOTAL


def balanced_spoilers(text: str) -> bool:
    stripped = re.sub(r"\\.", "", text)
    return stripped.count("||") % 2 == 0


def huge_entry(n_facts: int = 60, fact_len: int = 1900) -> Entry:
    word = "lorem ipsum dolor sit amet "
    return Entry(
        slug="huge",
        kind=Kind.CHARACTER,
        name="H" * 200,
        summary=(word * 80)[:2000],
        facts=[
            Fact(text=(f"Fact {i} " + word * 100)[:fact_len].strip(), episode=i % 14, source="t")
            for i in range(n_facts)
        ],
        attributes=[Attribute(label=f"Label {i}", value=(word * 40)[:900], episode=0, source="t") for i in range(30)],
    )


def test_oversized_entry_is_paged_within_every_limit():
    for mode in Mode:
        view = render_entry(huge_entry(), Policy(5, mode))
        pages = entry_pages(view, THIRTEEN)
        assert len(pages) > 1
        for page in pages:
            assert_embed_ok(page)
            for f in page.to_dict().get("fields", []):
                assert balanced_spoilers(f["value"]), f["value"][:80]
        # nothing lost: every visible fact's first words appear somewhere
        text = " ".join(str(p.to_dict()) for p in pages)
        for fact in view.facts:
            assert fact.text.strip("|")[:20] in text


def test_batches_respect_the_message_total():
    view = render_entry(huge_entry(), Policy(13, Mode.SHOW))
    pages = entry_pages(view, THIRTEEN)
    for batch in batch_embeds(pages):
        assert sum(len(e) for e in batch) <= limits.EMBED_TOTAL
        assert len(batch) <= limits.EMBEDS_PER_MESSAGE


def test_shorten_never_cuts_mid_word():
    text = "alpha beta gamma delta epsilon"
    out = limits.shorten(text, 18)
    assert len(out) <= 18 and out.endswith("…")
    assert out[:-1].strip() in {"alpha beta", "alpha beta gamma"}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(alphabet="abc |\\\n.", min_size=1, max_size=300), st.booleans()), min_size=1, max_size=12
    ),
    st.integers(min_value=20, max_value=1024),
)
def test_split_text_respects_limit_and_spoiler_spans(parts, limit):
    from lore.spoilers import spoiler

    text = " ".join(spoiler(t) if s else t.replace("|", "") for t, s in parts)
    chunks = limits.split_text(text, limit)
    for chunk in chunks:
        assert len(chunk) <= limit
        assert balanced_spoilers(chunk), chunk
