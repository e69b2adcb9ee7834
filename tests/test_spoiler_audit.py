"""Spoiler audit of the canon pack: at every episode in hide mode, nothing from later leaks.

For each episode E, everything a viewer can see is collected — every visible entry's card (the
rendered view and its embeds), every autocomplete list for short prefixes, every answer and
suggestion for every name and alias in the pack, the Immortal Nine roster, every episode card and
full-text search hits — and checked against the twist phrases of ``tests/data/twists.yaml`` and
against the entries introduced after E.
"""

from __future__ import annotations

import asyncio
import json
import string
from pathlib import Path

import pytest
import yaml

from bot.embeds import entry_pages, roster_pages, search_pages
from lore.packs import CANON_PACK_PATH
from lore.service import LoreService
from lore.spoilers import Mode, Policy

TWISTS = Path(__file__).parent / "data" / "twists.yaml"
pytestmark = pytest.mark.skipif(not CANON_PACK_PATH.exists(), reason="canon pack not present")


@pytest.fixture(scope="module")
def canon(tmp_path_factory):
    loop = asyncio.new_event_loop()
    svc = loop.run_until_complete(LoreService.open(tmp_path_factory.mktemp("audit") / "db.sqlite3"))
    yield svc, loop
    loop.run_until_complete(svc.close())
    loop.close()


def visible_text(svc: LoreService, loop, episode: int) -> tuple[str, set[str]]:
    """All text a viewer at ``episode`` (hide) can see, and the slugs they can reach."""
    policy = Policy(episode, Mode.HIDE)
    chunks: list[str] = []
    reached: set[str] = set()
    entries = svc.entries()
    queries = {n for e in entries for n, _ in e.all_names()} | {e.slug for e in entries}
    for q in sorted(queries):
        answer = svc.ask(q, policy)
        shown = answer.to_json()
        del shown["query"]  # the viewer's own words are echoed back, not revealed
        chunks.append(json.dumps(shown, ensure_ascii=False))
        if answer.view is not None:
            reached.add(answer.view.slug)
            chunks.extend(json.dumps(p.to_dict(), ensure_ascii=False) for p in entry_pages(answer.view, svc.franchise))
        reached.update(c.slug for c in answer.result.candidates)
    prefixes = [""] + list(string.ascii_lowercase) + [a + b for a in "aejnprsgcdfhlmov" for b in "aeiou"]
    for prefix in prefixes:
        for cand in svc.complete(prefix, policy):
            chunks.append(cand.label)
            reached.add(cand.slug)
    roster = svc.roster("immortal-nine", policy)
    if roster is not None:
        chunks.extend(json.dumps(p.to_dict(), ensure_ascii=False) for p in roster_pages(roster, svc.franchise))
        reached.update(line.slug for line in roster.members)
    for number in range(1, 14):
        view = svc.episode(number, policy)
        if view is not None:
            chunks.extend(json.dumps(p.to_dict(), ensure_ascii=False) for p in entry_pages(view, svc.franchise))
    for word in ("roy", "puppetmaster", "nean", "code", "silvia", "noir", "eden", "jill", "naomi", "first"):
        results = loop.run_until_complete(svc.search_text(word, policy))
        chunks.extend(f"{h.name} {h.snippet}" for h in results.hits)
        reached.update(h.slug for h in results.hits)
    return "\n".join(chunks).casefold(), reached


@pytest.mark.parametrize("episode", range(14))
def test_nothing_from_a_later_episode_is_visible(canon, episode):
    svc, loop = canon
    text, reached = visible_text(svc, loop, episode)
    later = {e.slug for e in svc.entries() if e.introduced > episode}
    assert not (reached & later), f"entries from later episodes reachable at {episode}: {reached & later}"
    twists = yaml.safe_load(TWISTS.read_text(encoding="utf-8")) if TWISTS.exists() else []
    leaks = [t for t in twists if t["episode"] > episode and t["phrase"].casefold() in text]
    assert not leaks, f"twists visible at episode {episode}: {leaks}"


def test_twist_list_is_meaningful(canon):
    """Each twist phrase is visible at its own episode (so the audit above tests something)."""
    svc, loop = canon
    if not TWISTS.exists():
        pytest.skip("no twist list")
    twists = yaml.safe_load(TWISTS.read_text(encoding="utf-8"))
    assert len(twists) >= 10
    final, _ = visible_text(svc, loop, 13)
    missing = [t for t in twists if t["phrase"].casefold() not in final]
    assert not missing, f"twist phrases that never appear: {missing}"


#: Queries that pair two sides of a twist, with the episode that reveals the link.
LINKING_QUERIES = [
    ("dumas jaron", 4),
    ("afdal verde", 4),
    ("naomi ochrona agent", 6),
    ("jill silvia", 7),
    ("aes aerkos", 7),
    ("eden noir", 8),
    ("naomi first nean", 9),
    ("puppetmaster roy", 12),
    ("gene dad", 12),
]


@pytest.mark.parametrize(("query", "reveal"), LINKING_QUERIES)
@pytest.mark.parametrize("mode", [Mode.HIDE, Mode.TAG])
def test_search_is_no_oracle_for_a_later_link(canon, query, reveal, mode):
    """Before the reveal, searching for both sides of a twist answers exactly as nonsense does
    (no hits, and no count of held-back hits that would say the link exists); after it, it finds it."""
    svc, loop = canon

    def rendered(q: str, episode: int) -> list[dict]:
        policy = Policy(episode, mode)
        pages = [
            p.to_dict()
            for p in search_pages(loop.run_until_complete(svc.search_text(q, policy)), policy, svc.franchise)
        ]
        for p in pages:
            p.pop("title")  # echoes the viewer's own words
        return pages

    for episode in range(reveal):
        shown = rendered(query, episode)
        hits = loop.run_until_complete(svc.search_text(query, Policy(episode, mode))).hits
        if not hits:
            assert shown == rendered("qqq zzz", episode), (query, episode)
    final = loop.run_until_complete(svc.search_text(query, Policy(reveal, Mode.HIDE)))
    assert final.hits, f"{query!r} finds nothing even at episode {reveal}: the test would prove nothing"
