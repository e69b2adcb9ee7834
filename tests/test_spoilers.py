"""Spoiler rules: policy resolution and the one renderer, including property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lore.model import Alias, Attribute, Entry, Fact, Kind, Relation, RelationType, Status
from lore.render import render_entry
from lore.spoilers import Mode, Policy, PolicySource, Setting, resolve_policy, spoiler


def test_resolution_order_user_then_channel_then_server_then_default():
    server = Setting(5, Mode.HIDE)
    channel = Setting(8, None)
    assert resolve_policy() == Policy(0, Mode.TAG, PolicySource.DEFAULT)
    assert resolve_policy(server=server) == Policy(5, Mode.HIDE, PolicySource.SERVER)
    # a channel override that sets only the episode keeps the server's mode
    assert resolve_policy(server=server, channel=channel) == Policy(8, Mode.HIDE, PolicySource.CHANNEL)
    # progress counts only for private replies
    assert resolve_policy(server=server, channel=channel, user_progress=2).episode == 8
    private = resolve_policy(server=server, channel=channel, user_progress=2, private=True)
    assert private == Policy(2, Mode.HIDE, PolicySource.USER)
    # a private reply with no progress falls back to the channel's policy
    assert resolve_policy(server=server, channel=channel, private=True).episode == 8


def test_private_progress_is_never_shown_plainly_past():
    # the channel shows everything; a viewer who asks privately, at episode 2, gets tags instead
    show = Setting(13, Mode.SHOW)
    assert resolve_policy(server=show, user_progress=2, private=True) == Policy(2, Mode.TAG, PolicySource.USER)
    assert resolve_policy(server=show, user_progress=2) == Policy(13, Mode.SHOW, PolicySource.SERVER)


def test_footer_names_the_policy():
    assert Policy(5, Mode.TAG).footer() == "Spoilers: up to episode 5 · tag"


def test_spoiler_escapes_pipes():
    assert spoiler("a||b|c") == "||a\\|\\|b\\|c||"


ENTRY = Entry(
    slug="x",
    kind=Kind.CHARACTER,
    name="Xavier",
    introduced=2,
    summary="Someone.",
    aliases=[Alias(name="The Twist", episode=9)],
    facts=[Fact(text="Early fact.", episode=2, source="s"), Fact(text="Late fact.", episode=9, source="s")],
    attributes=[Attribute(label="Power", value="Late power.", episode=10, source="s")],
    relations=[Relation(type=RelationType.MEMBER_OF, target="g", episode=11)],
    status=Status(state="deceased", episode=12),
)


def _targets(slug):
    return ("Group", 0) if slug == "g" else None


def test_hide_leaves_out_and_counts():
    view = render_entry(ENTRY, Policy(5, Mode.HIDE), targets=_targets)
    assert [f.text for f in view.facts] == ["Early fact."]
    assert view.aliases == [] and view.attributes == [] and view.relations == [] and view.status is None
    assert view.hidden == 5


def test_tag_wraps_later_items_and_keeps_titles_clean():
    view = render_entry(ENTRY, Policy(5, Mode.TAG), targets=_targets)
    assert view.title == "Xavier"
    assert [f.text for f in view.facts] == ["Early fact.", "||Late fact.||"]
    assert view.aliases[0].text == "||The Twist||"
    # a tagged attribute keeps its label inside the tags: a "Power" field would say there is one
    assert view.attributes[0].label is None and view.attributes[0].text == "||Power: Late power.||"
    assert view.relations[0].text == "||member of Group||" and view.relations[0].target is None
    assert view.status.text.startswith("||Deceased")
    assert view.hidden == 0


def test_show_is_plain():
    view = render_entry(ENTRY, Policy(0, Mode.SHOW), targets=_targets)
    assert not any(i.spoiler for i in view.facts + view.aliases + view.relations)
    assert view.status.text == "Deceased (episode 12)"


def test_entry_introduced_later_does_not_exist_under_hide_and_is_masked_under_tag():
    assert render_entry(ENTRY, Policy(1, Mode.HIDE)) is None
    masked = render_entry(ENTRY, Policy(1, Mode.TAG), targets=_targets)
    assert masked.masked and masked.title == "Spoiler: episode 2" and masked.slug is None
    assert "Xavier" not in masked.title
    assert masked.summary == "||Someone.||"


def test_relation_to_an_entry_introduced_later_is_gated_by_that_entry():
    entry = ENTRY.model_copy(update={"relations": [Relation(type=RelationType.OPPOSES, target="g", episode=2)]})
    view = render_entry(entry, Policy(3, Mode.HIDE), targets=lambda s: ("Late Group", 7))
    assert view.relations == [] and view.hidden >= 1


texts = st.text(min_size=1, max_size=40).map(str.strip).filter(bool)


@st.composite
def entries(draw):
    introduced = draw(st.integers(0, 13))
    ep = st.integers(introduced, 13)
    return Entry(
        slug="e",
        kind=Kind.CHARACTER,
        name=draw(texts),
        introduced=introduced,
        aliases=[Alias(name=n, episode=e) for n, e in draw(st.lists(st.tuples(texts, ep), max_size=3))],
        facts=[Fact(text=t, episode=e, source="s") for t, e in draw(st.lists(st.tuples(texts, ep), max_size=5))],
        attributes=[
            Attribute(label=label, value=value, episode=e, source="s")
            for label, value, e in draw(st.lists(st.tuples(texts, texts, ep), max_size=3))
        ],
        status=draw(st.none() | st.builds(Status, state=st.sampled_from(["alive", "deceased"]), episode=ep)),
    )


@given(entries(), st.integers(0, 13), st.sampled_from(list(Mode)))
def test_renderer_properties(entry, episode, mode):
    policy = Policy(episode, mode)
    view = render_entry(entry, policy)
    later = [f for f in entry.facts if f.episode > episode]
    if mode is Mode.HIDE:
        if entry.introduced > episode:
            assert view is None
            return
        shown = {f.text for f in view.facts}
        assert all(f.text in shown for f in entry.facts if f.episode <= episode)
        assert len(view.facts) == len(entry.facts) - len(later)
        assert view.hidden >= len(later)
        assert not any(i.spoiler for i in view.facts + view.aliases)
    elif mode is Mode.TAG:
        assert view is not None
        assert len(view.facts) == len(entry.facts)
        for item in view.facts + view.attributes:
            if item.episode > episode or view.masked:
                assert item.spoiler and item.text.startswith("||") and item.text.endswith("||")
        for attr, item in zip(entry.attributes, view.attributes, strict=True):
            # what becomes a field name is only ever a label that may be seen
            assert (item.label is None) is (item.spoiler or view.masked)
            assert item.label in (None, attr.label)
        if view.masked:
            assert entry.name not in view.title or entry.name in "Spoiler: episode 13"
    else:
        assert view is not None and not view.masked and view.hidden == 0
        assert [f.text for f in view.facts] == [f.text for f in entry.facts]


@given(st.text(max_size=60))
def test_spoiler_span_cannot_be_closed_early(text):
    wrapped = spoiler(text)
    inner = wrapped[2:-2]
    # every | inside is escaped, so Discord sees exactly one span
    i = 0
    while i < len(inner):
        if inner[i] == "\\":
            i += 2
            continue
        assert inner[i] != "|"
        i += 1


@pytest.mark.parametrize("bad", [-1, 14])
def test_policy_rejects_out_of_range(bad):
    with pytest.raises(ValueError):
        Policy(bad, Mode.TAG)
