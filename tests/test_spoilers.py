"""Spoiler rules: policy resolution and the one renderer, including property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lore.markup import escape
from lore.model import EPISODE_CEILING, Alias, Attribute, Entry, Fact, Kind, Relation, RelationType, Status
from lore.render import render_entry
from lore.spoilers import Mode, Policy, PolicySource, Setting, resolve_policy, spoiler
from tests.counterfactual.markup import outside, spans


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


def test_hide_leaves_out_without_a_count():
    view = render_entry(ENTRY, Policy(5, Mode.HIDE), targets=_targets)
    assert [f.text for f in view.facts] == ["Early fact."]
    assert view.aliases == [] and view.attributes == [] and view.relations == [] and view.status is None
    assert view.later is None and not hasattr(view, "hidden")


def test_tag_is_hide_plus_one_later_block():
    hidden = render_entry(ENTRY, Policy(5, Mode.HIDE), targets=_targets)
    view = render_entry(ENTRY, Policy(5, Mode.TAG), targets=_targets)
    assert view.title == "Xavier"
    # nothing inline: no span next to the item it would change
    assert (view.facts, view.aliases, view.attributes, view.relations, view.status) == (
        hidden.facts,
        hidden.aliases,
        hidden.attributes,
        hidden.relations,
        hidden.status,
    )
    assert view.later.startswith("||") and view.later.endswith("||") and view.later.count("||") == 2
    for later in ("The Twist", "Late fact.", "Power: Late power.", "member of Group", "Deceased"):
        assert later in view.later
    # with nothing later, the block is still there and says so
    assert render_entry(ENTRY, Policy(13, Mode.TAG), targets=_targets).later == "||Nothing more in later episodes.||"


def test_show_is_plain():
    view = render_entry(ENTRY, Policy(0, Mode.SHOW), targets=_targets)
    assert view.later is None and "||" not in str(view.to_json())
    assert view.status.text == "Deceased (episode 12)"


def test_entry_introduced_later_does_not_exist_under_hide_or_tag():
    # under tag too: a masked card would tell that the name exists
    assert render_entry(ENTRY, Policy(1, Mode.HIDE)) is None
    assert render_entry(ENTRY, Policy(1, Mode.TAG), targets=_targets) is None


def test_relation_to_an_entry_introduced_later_is_gated_by_that_entry():
    entry = ENTRY.model_copy(update={"relations": [Relation(type=RelationType.OPPOSES, target="g", episode=2)]})
    view = render_entry(entry, Policy(3, Mode.HIDE), targets=lambda s: ("Late Group", 7))
    assert view.relations == []
    tagged = render_entry(entry, Policy(3, Mode.TAG), targets=lambda s: ("Late Group", 7))
    assert tagged.relations == [] and "opposes Late Group" in tagged.later


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
    if mode is not Mode.SHOW and entry.introduced > episode:
        assert view is None
        return
    assert view is not None
    if mode is Mode.SHOW:
        assert view.later is None
        assert [f.text for f in view.facts] == [escape(f.text) for f in entry.facts]
        return
    shown = {f.text for f in view.facts}
    assert all(escape(f.text) in shown for f in entry.facts if f.episode <= episode)
    assert len(view.facts) == len(entry.facts) - len(later)
    hidden = render_entry(entry, Policy(episode, Mode.HIDE))
    assert view.to_json() | {"later": None, "policy": None} == hidden.to_json() | {"later": None, "policy": None}
    if mode is Mode.TAG:
        assert len(spans(view.later)) == 1 and outside(view.later) == ""
    for attr in view.attributes:
        assert attr.episode <= episode  # what becomes a field name is only ever a label that may be seen


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


@pytest.mark.parametrize("bad", [-1, EPISODE_CEILING + 1])
def test_policy_rejects_out_of_range(bad):
    with pytest.raises(ValueError):
        Policy(bad, Mode.TAG)


def test_policy_holds_back_until_the_franchises_last_episode():
    assert Policy(12, Mode.TAG).holds_back(13) and not Policy(13, Mode.TAG).holds_back(13)
    assert Policy(13, Mode.HIDE).holds_back(24) and not Policy(0, Mode.SHOW).holds_back(24)
    assert Policy(3, Mode.SHOW).reach(24) == 24 and Policy(3, Mode.TAG).reach(24) == 3
