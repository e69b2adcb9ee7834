"""Coverage and consistency checks for the canon lore pack (lore/packs/canon.yaml)."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import Path

import yaml

from lore.model import RELATION_LABELS, Entry, Kind, Pack, RelationType
from lore.visible import title_episode

ROOT = Path(__file__).resolve().parents[1]
PACK_PATH = ROOT / "lore" / "packs" / "canon.yaml"
TWISTS_PATH = Path(__file__).resolve().parent / "data" / "twists.yaml"

FACTIONS = [
    "humans",
    "neans",
    "aletheia",
    "ochrona",
    "wellstown-police",
    "alter",
    "proto-neans",
    "immortal-nine",
    "sons-of-ares",
    "council-of-free-neans",
    "visitors",
    "usurpers",
    "panacea-corporation",
    "carnival",
]
#: The series' episode count, as the pack declares it.
LAST_EPISODE = 13
IMMORTAL_NINE = {
    "nius",
    "achillus",
    "purgatory-viola",
    "phantom-verde",
    "hell-giallon",
    "flash-silvia",
    "double-headed-aerkos",
    "grauphon",
    "jet-black-noir",
}
MAIN_CHARACTERS = [
    "rouge-redstar",
    "naomi-orthmann",
    "gene-junghardt",
    "roy-junghardt",
    "puppetmaster",
    "opera",
    "cyan",
    "eva-cristella",
    "ash-stahl",
    "noid-262",
    "chief-chau",
    "juval",
    "levi",
    "dumas",
    "rion",
    "herman-heyward",
    "jill",
    "khan",
]


@cache
def load_pack() -> Pack:
    with PACK_PATH.open(encoding="utf-8") as fh:
        return Pack.model_validate(yaml.safe_load(fh))


def _cast(e: Entry) -> list:
    return list(e.episode.cast) if e.episode is not None else []


def entries_by_slug() -> dict[str, Entry]:
    return {e.slug: e for e in load_pack().entries}


def load_twists() -> list[dict]:
    with TWISTS_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def visible_text(pack: Pack, episode: int) -> str:
    """Everything a viewer at ``episode`` could be shown, lower-cased: a conservative superset of
    what the renderer displays (names, summaries, aliases, facts, attributes, relations, statuses)."""
    by_slug = {e.slug: e for e in pack.entries}
    chunks: list[str] = []
    for e in pack.entries:
        if e.introduced > episode:
            continue
        chunks += [e.name, e.summary_at(episode)]
        chunks += [name for name, ep in e.all_names() if ep <= episode]
        chunks += [f.text for f in e.facts if f.episode <= episode]
        chunks += [f"{a.label}: {a.value}" for a in e.attributes if a.episode <= episode]
        for r in e.relations:
            if r.episode <= episode:
                target = by_slug.get(r.target)
                chunks.append(f"{RELATION_LABELS[r.type]} {target.name if target else r.target} {r.note or ''}")
        for st in e.statuses():
            if st.episode <= episode:
                chunks.append(f"{st.state.value} {st.note or ''}")
        if e.episode is not None:
            if title_episode(e) <= episode:  # an episode's titles are known from the preview before it
                chunks += [e.episode.title, e.episode.title_ja or "", *e.episode.alt_titles]
            for c in e.episode.cast:
                who = by_slug.get(c.character)
                if who is not None and max(e.episode.number, who.introduced, c.episode) <= episode:
                    chunks.append(f"{who.name} {c.note or ''}")
    return "\n".join(chunks).lower()


def test_pack_validates() -> None:
    pack = load_pack()
    assert pack.pack.name == "metallic-rouge-canon"
    assert len(pack.entries) >= 80


def test_pack_defines_the_franchise() -> None:
    """The canon's metadata is the franchise: 13 episodes, its series card, the bot's name, the
    /immortal-nine roster command, and a colour for every faction of the pack."""
    meta = load_pack().pack
    assert meta.episodes is not None and meta.episodes.count == LAST_EPISODE and not meta.episodes.seasons
    assert meta.series == "metallic-rouge"
    assert meta.bot.name == "Metallic Rouge lore bot" and "subtitles" in meta.bot.about
    [roster] = meta.rosters
    assert (roster.command, roster.group, roster.title) == ("immortal-nine", "immortal-nine", "The Immortal Nine")
    slugs = {e.slug: e for e in load_pack().entries}
    assert all(slugs[slug].kind is Kind.FACTION for slug in meta.colours.entries)
    assert set(meta.colours.kinds) == set(Kind)


def test_slugs_unique() -> None:
    slugs = [e.slug for e in load_pack().entries]
    assert len(slugs) == len(set(slugs))


def test_series_entry() -> None:
    series = [e for e in load_pack().entries if e.kind is Kind.SERIES]
    assert [e.slug for e in series] == ["metallic-rouge"]
    labels = {a.label for a in series[0].attributes}
    for label in ("Studio", "Director", "Premiere", "Episodes", "Setting", "Opening theme", "Ending theme"):
        assert label in labels


def test_factions_exist() -> None:
    entries = entries_by_slug()
    for slug in FACTIONS:
        assert slug in entries, slug
        assert entries[slug].kind is Kind.FACTION, slug


def test_exactly_the_immortal_nine_are_members() -> None:
    members = {
        e.slug
        for e in load_pack().entries
        if any(r.type is RelationType.MEMBER_OF and r.target == "immortal-nine" for r in e.relations)
    }
    assert members == IMMORTAL_NINE
    entries = entries_by_slug()
    for slug in IMMORTAL_NINE:
        assert entries[slug].kind is Kind.CHARACTER


def test_main_characters_exist() -> None:
    entries = entries_by_slug()
    for slug in MAIN_CHARACTERS:
        assert slug in entries, slug
        assert entries[slug].kind is Kind.CHARACTER, slug


def test_all_thirteen_episodes() -> None:
    entries = entries_by_slug()
    numbers = []
    for n in range(1, LAST_EPISODE + 1):
        e = entries[f"episode-{n}"]
        assert e.kind is Kind.EPISODE
        assert e.episode is not None
        assert e.episode.number == n
        assert e.episode.title
        assert e.episode.title_ja
        assert e.episode.air_date is not None
        numbers.append(e.episode.number)
        assert all(f.episode in (0, n) for f in e.facts), f"episode-{n}: synopsis facts belong to episode {n}"
        assert any(f.episode == n for f in e.facts), f"episode-{n} has no synopsis"
    episode_numbers = sorted(e.episode.number for e in load_pack().entries if e.episode is not None)
    assert episode_numbers == list(range(1, LAST_EPISODE + 1))


def test_every_fact_and_attribute_is_sourced() -> None:
    pack = load_pack()
    ids = {s.id for s in pack.pack.sources}
    assert len(ids) == len(pack.pack.sources), "duplicate source ids"
    for s in pack.pack.sources:
        assert s.url or s.id == "inferred", s.id
    for e in pack.entries:
        for item in [*e.facts, *e.attributes]:
            assert item.source and item.source in ids, (e.slug, item)
        for item in [*e.aliases, *e.relations, *e.statuses(), *e.later_summaries, *_cast(e)]:
            assert item.source is None or item.source in ids, (e.slug, item)


def test_every_cited_source_is_listed_and_used() -> None:
    pack = load_pack()
    cited = set()
    for e in pack.entries:
        for item in [*e.facts, *e.attributes, *e.aliases, *e.relations, *e.statuses(), *e.later_summaries, *_cast(e)]:
            if item.source:
                cited.add(item.source)
    assert {s.id for s in pack.pack.sources} == cited


def test_relation_targets_exist_and_are_known_in_time() -> None:
    entries = entries_by_slug()
    for e in entries.values():
        for r in e.relations:
            assert r.target in entries, (e.slug, r.target)
            assert r.target != e.slug, e.slug
            # A relation shown before its target is introduced would leak the target's name.
            assert r.episode >= entries[r.target].introduced, (e.slug, r)


def test_nothing_revealed_before_its_entry() -> None:
    for e in load_pack().entries:
        items = [*e.facts, *e.attributes, *e.aliases, *e.relations, *e.statuses(), *e.later_summaries]
        for item in items:
            assert item.episode >= e.introduced, (e.slug, item)


def test_main_characters_and_the_nine_have_a_status() -> None:
    entries = entries_by_slug()
    for slug in [*MAIN_CHARACTERS, *IMMORTAL_NINE]:
        if slug not in ("chief-chau", "levi", "khan"):  # their fates are never shown: no status at all
            assert entries[slug].status is not None, slug


def test_no_remarks_about_our_sources_in_what_viewers_read() -> None:
    """Uncertainty is lore ("sources disagree on whether he survives"); remarks about the pack's own
    research ("not recorded in the sources used here") are not."""
    meta = (
        "sources used here",
        "the sources give",
        "not recorded",
        "not pinned down",
        "no source states",
        "speaker label",
        "the subtitles",
        "computed from the weekly slot",
    )
    for e in load_pack().entries:
        texts = [e.summary, *(s.text for s in e.later_summaries), *(f.text for f in e.facts)]
        texts += [f"{a.label}: {a.value}" for a in e.attributes]
        texts += [st.note or "" for st in e.statuses()]
        for text in texts:
            assert not any(m in text.lower() for m in meta), (e.slug, text)


def test_summaries_non_empty() -> None:
    for e in load_pack().entries:
        assert e.summary.strip(), e.slug


def test_no_alias_claimed_twice_unless_shared() -> None:
    claims: dict[str, list[tuple[str, bool, bool]]] = defaultdict(list)  # name -> (slug, is_name, shared)
    for e in load_pack().entries:
        claims[e.name.casefold()].append((e.slug, True, False))
        seen = {e.name.casefold()}
        for a in e.aliases:
            key = a.name.casefold()
            assert key not in seen, f"{e.slug} lists {a.name!r} twice"
            seen.add(key)
            claims[key].append((e.slug, False, a.shared))
    for name, owners in claims.items():
        if len({slug for slug, _, _ in owners}) < 2:
            continue
        assert sum(is_name for _, is_name, _ in owners) <= 1, f"two entries are named {name!r}"
        for slug, is_name, shared in owners:
            assert is_name or shared, f"alias {name!r} on {slug} collides with another entry but is not shared"


def test_shared_aliases_really_are_shared() -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for e in load_pack().entries:
        owners[e.name.casefold()].add(e.slug)
        for a in e.aliases:
            owners[a.name.casefold()].add(e.slug)
    for e in load_pack().entries:
        if e.kind is Kind.EPISODE:
            continue  # an episode's titles are aliases the reveal rule marks shared (a title may name a concept)
        for a in e.aliases:
            if a.shared:
                assert len(owners[a.name.casefold()]) > 1, f"{a.name!r} on {e.slug} is marked shared needlessly"


def test_identity_relations_are_mutual() -> None:
    entries = entries_by_slug()
    for e in entries.values():
        for r in e.relations:
            if r.type is RelationType.IDENTITY_OF:
                back = [
                    b for b in entries[r.target].relations if b.type is RelationType.IDENTITY_OF and b.target == e.slug
                ]
                assert back and back[0].episode == r.episode, (e.slug, r.target)


def test_twist_phrases_appear_at_their_reveal() -> None:
    pack = load_pack()
    twists = load_twists()
    assert twists
    for t in twists:
        phrase, episode = t["phrase"].lower(), t["episode"]
        assert 1 <= episode <= LAST_EPISODE, t
        assert phrase in visible_text(pack, episode), f"{t['phrase']!r} is not in the pack at episode {episode}"


def test_twist_phrases_are_not_names() -> None:
    """The spoiler audit types every name, alias and slug as a query and answers echo their query,
    so a twist phrase inside a name would always look visible: phrases must come from prose."""
    queries = {e.slug.casefold() for e in load_pack().entries}
    queries |= {n.casefold() for e in load_pack().entries for n, _ in e.all_names()}
    for t in load_twists():
        phrase = t["phrase"].casefold()
        assert not any(phrase in q for q in queries), f"{t['phrase']!r} is (part of) a name or alias"


def test_twist_phrases_hidden_before_their_reveal() -> None:
    pack = load_pack()
    for t in load_twists():
        phrase, episode = t["phrase"].lower(), t["episode"]
        assert phrase not in visible_text(pack, episode - 1), f"{t['phrase']!r} leaks before episode {episode}"


def test_cover_identities_are_not_given_away_early() -> None:
    """Searching a cover name before its reveal must only ever find the cover entry."""
    reveals = {
        "jill": ("flash-silvia", 7),
        "dr-afdal": ("phantom-verde", 4),
        "dumas": ("hell-giallon", 4),
        "aes-and-alice": ("double-headed-aerkos", 7),
        "eden-varok": ("jet-black-noir", 8),
        "roy-junghardt": ("puppetmaster", 12),
    }
    entries = entries_by_slug()
    for cover, (secret, episode) in reveals.items():
        # Names each entry carries before the reveal must not turn up on the other entry before it.
        for a, b in ((cover, secret), (secret, cover)):
            early = {n.casefold() for n, ep in entries[a].all_names() if ep < episode}
            for name, ep in entries[b].all_names():
                if name.casefold() in early:
                    assert ep >= episode, (b, name, ep)
            # Nor may an entry carry the other entry's own name before the reveal.
            for name, ep in entries[b].all_names():
                if name.casefold() == entries[a].name.casefold():
                    assert ep >= episode, (b, name, ep)
        for r in entries[cover].relations:
            if r.target == secret:
                assert r.episode >= episode, (cover, r)


def test_immortal_nine_fates_match_the_fact_sheet() -> None:
    """Each member's status and the episode that reveals it (Giallon's fate is disputed)."""
    expected = {
        "nius": ("deceased", 1),
        "achillus": ("deceased", 1),
        "purgatory-viola": ("deceased", 1),
        "phantom-verde": ("deceased", 4),
        "hell-giallon": ("unknown", 12),
        "flash-silvia": ("deceased", 13),
        "double-headed-aerkos": ("alive", 13),
        "grauphon": ("deceased", 12),
        "jet-black-noir": ("alive", 13),
    }
    entries = entries_by_slug()
    for slug, (state, episode) in expected.items():
        status = entries[slug].final_status()
        assert status is not None, slug
        assert (status.state.value, status.episode) == (state, episode), slug


def test_inferred_colours_are_marked_as_inferred() -> None:
    """Viola's, Verde's and Giallon's colours come only from their names: never state them as fact."""
    entries = entries_by_slug()
    for slug in ("purgatory-viola", "phantom-verde", "hell-giallon"):
        for a in entries[slug].attributes:
            if "colour" in a.label.lower():
                assert "inferred" in a.label.lower() and a.source == "inferred", (slug, a)
                assert "never states it" in a.value, (slug, a)


def test_disputed_claims_are_hedged() -> None:
    """Claims the fact sheet marks [?] appear only with a hedge."""
    hedges = ("unconfirmed", "not establish", "never establish", "uncertain", "disagree", "not stated", "not certain")
    disputed = ("leader of ochrona", "lovers", "masked graveyard")
    for e in load_pack().entries:
        texts = [e.summary, *(s.text for s in e.later_summaries), *(f.text for f in e.facts)]
        texts += [st.note for st in e.statuses() if st.note]
        for text in texts:
            low = text.lower()
            if any(d in low for d in disputed):
                assert any(h in low for h in hedges), (e.slug, text)
    herman = entries_by_slug()["herman-heyward"].final_status()
    assert herman is not None and herman.state.value == "unknown"


#: Names that may be read before their entry or alias is revealed, and why.
EARLY_NAMES_ALLOWED = {
    ("carnival", "Carnival"),  # the title of episode 5 (episode titles are public from episode 0)
    ("code-eve", "Code Eve"),  # the title of episode 13
    ("code-eve", "コード・イヴ"),  # the Japanese title of episode 13
    ("nectar", "Nectar"),  # the premise: Neans live on Nectar
    ("earth", "Earth"),  # Rouge and Naomi's home planet, named in the premise
    ("robot-bird", "Robot-bird drone"),  # Naomi's pre-release description
    ("robot-bird", "Bird drone"),
    ("naomi-orthmann", "The First"),  # an everyday phrase ("the first episode")
}


def test_no_name_is_mentioned_before_the_episode_that_reveals_it() -> None:
    """A later entry's name, or a name revealed later, must not turn up in earlier prose. A name
    several entries share counts from the first episode any of them carries it ("Dumas" is a name
    from episode 3, "Flash Silvia" only from episode 7)."""
    import re

    pack = load_pack()
    texts = [visible_text(pack, episode) for episode in range(LAST_EPISODE + 1)]
    first: dict[str, int] = {}
    for e in pack.entries:
        for name, revealed in e.all_names():
            first[name.lower()] = min(revealed, first.get(name.lower(), LAST_EPISODE))
    found = []
    for e in pack.entries:
        for name, _ in e.all_names():
            revealed = first[name.lower()]
            if revealed == 0 or len(name) < 4 or (e.slug, name) in EARLY_NAMES_ALLOWED:
                continue
            pattern = re.compile(r"(?<!\w)" + re.escape(name.lower()) + r"(?!\w)")
            early = [episode for episode in range(revealed) if pattern.search(texts[episode])]
            if early:
                found.append((e.slug, name, revealed, early[0]))
    assert not found, found
