"""Quiz questions: drawn only from the visible world, never ambiguous, uniformly shuffled."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from lore import questions, quiz, quizworld
from lore.model import Pack
from lore.packs import CANON_PACK_PATH
from lore.service import LoreService
from lore.spoilers import Mode, Policy
from lore.visible import write_visible_pack

TWISTS = Path(__file__).parent / "data" / "twists.yaml"
SEEDS = range(20)


def question_texts(q: questions.Question) -> list[str]:
    return [q.prompt, q.explanation, *q.options]


@pytest.fixture(scope="module")
def canon_pack() -> Pack:
    return Pack.model_validate(yaml.safe_load(CANON_PACK_PATH.read_text(encoding="utf-8")))


@pytest.fixture
async def canon(tmp_path):
    svc = await LoreService.open(tmp_path / "canon.sqlite3", canon_pack=CANON_PACK_PATH)
    yield svc
    await svc.close()


def later_names(pack: Pack, episode: int) -> set[str]:
    """Every name or alias first known after ``episode`` that is not also a name known by then
    (as written: names are proper nouns, "The First" is not "the first time")."""
    visible = {n.casefold() for e in pack.entries for n, ep in e.all_names() if ep <= episode}
    later = {n for e in pack.entries for n, ep in e.all_names() if ep > episode}
    return {n for n in later if n.casefold() not in visible}


@pytest.mark.parametrize("episode", [3, 7])
@pytest.mark.parametrize("mode", [Mode.HIDE, Mode.TAG])
async def test_questions_are_those_of_the_visible_world(canon, canon_pack, tmp_path, episode, mode):
    """A few hundred questions at an episode are exactly the questions a world holding only the
    lore up to that episode gives (same seed): no later fact, not even in a wrong option."""
    pruned_path = write_visible_pack(canon_pack, episode, tmp_path / "visible.json")
    visible = await LoreService.open(tmp_path / "visible.sqlite3", canon_pack=pruned_path)
    try:
        policy = Policy(episode, mode)
        asked = 0
        for seed in SEEDS:
            full = quiz.questions_for(canon, policy, None, 20, random.Random(seed))
            cut = quiz.questions_for(visible, Policy(episode, Mode.HIDE), None, 20, random.Random(seed))
            assert full == cut
            asked += len(full)
        assert asked >= 300
    finally:
        await visible.close()


async def test_no_question_at_episode_3_mentions_later_lore(canon, canon_pack):
    twists = yaml.safe_load(TWISTS.read_text(encoding="utf-8")) if TWISTS.exists() else []
    later = later_names(canon_pack, 3)
    assert {"Jet Black Noir", "Flash Silvia", "Cyan"} <= later
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in later if len(n) >= 3) + r")(?!\w)")
    count = 0
    for seed in range(40):
        for q in quiz.questions_for(canon, Policy(3, Mode.TAG), None, 20, random.Random(seed)):
            count += 1
            raw = " ".join(question_texts(q)).replace("\\", "")
            assert not pattern.search(raw), (pattern.search(raw), q)
            text = raw.casefold()
            assert not [t["phrase"] for t in twists if t["episode"] > 3 and t["phrase"].casefold() in text], q
            assert "||" not in text
    assert count >= 400


def _visible_relations(svc: LoreService, episode: int) -> set[tuple[str, str, str]]:
    entries, _ = quizworld.world_for(svc, Policy(episode, Mode.HIDE), None)
    names = {e.slug: e.name for e in entries}
    out = set()
    for e in entries:
        for r in e.view.relations:
            if r.target in names:
                out.add((e.name, r.label, names[r.target]))
    return out


async def test_a_wrong_option_is_never_also_right(canon):
    """Relation questions: no distractor stands in the asked relation to the subject (either way)."""
    for episode in (3, 8, 13):
        rels = _visible_relations(canon, episode)
        for seed in range(10):
            for q in quiz.questions_for(canon, Policy(episode, Mode.HIDE), None, 20, random.Random(seed)):
                assert len(set(q.options)) == 4, q
                if not q.key.startswith("rel:") or q.topic != "relation":
                    continue
                subject = q.prompt.split("**")[1].replace("\\", "")
                label = q.key.split(":")[2]
                inverse = quizworld._INVERSE.get(label)
                for i, option in enumerate(q.options):
                    if i == q.answer:
                        continue
                    assert (subject, label, option) not in rels, q
                    assert inverse is None or (option, inverse, subject) not in rels, q


def test_the_right_answer_is_uniformly_placed():
    """Chi-square over 4,000 shuffles: the right option lands in each place a quarter of the time."""
    spec = questions.Spec("k", "t", "prompt", "right", tuple(f"wrong {i}" for i in range(8)), "why")
    rng = random.Random(1234)
    n = 4000
    counts = Counter(questions.build_question(spec, rng).answer for _ in range(n))
    expected = n / 4
    chi2 = sum((counts[i] - expected) ** 2 / expected for i in range(4))
    assert chi2 < 16.27, counts  # p = 0.001 with 3 degrees of freedom


async def test_generated_sessions_place_answers_uniformly(canon):
    counts: Counter[int] = Counter()
    for seed in range(60):
        for q in quiz.questions_for(canon, Policy(13, Mode.SHOW), None, 20, random.Random(seed)):
            counts[q.answer] += 1
    n = sum(counts.values())
    chi2 = sum((counts[i] - n / 4) ** 2 / (n / 4) for i in range(4))
    assert n >= 1000 and chi2 < 16.27, counts


async def test_a_session_never_repeats_and_mixes_topics(canon):
    for seed in range(10):
        qs = quiz.questions_for(canon, Policy(13, Mode.SHOW), None, 20, random.Random(seed))
        assert len(qs) == 20
        assert len({q.key for q in qs}) == 20
        assert len({q.topic for q in qs}) >= 5
        for q in qs:
            assert all(0 < len(o) <= questions.MAX_OPTION for o in q.options)
            assert len(q.prompt) <= 1000 and len(q.explanation) <= 700


async def test_episode_0_and_tiny_worlds_give_no_broken_question(mini):
    assert quiz.questions_for(mini, Policy(0, Mode.TAG), None, 5, random.Random(1)) == []
    for q in quiz.questions_for(mini, Policy(13, Mode.SHOW), None, 20, random.Random(1)):
        assert len(set(q.options)) == 4


def test_session_rules():
    qs = [questions.Question(f"k{i}", "t", "p", ("a", "b", "c", "d"), i % 4, "e") for i in range(3)]
    s = quiz.Session(qs)
    assert s.answer(1, 0) is quiz.Outcome.CLOSED  # not open yet
    s.open()
    assert s.answer(1, 0) is quiz.Outcome.ACCEPTED
    assert s.answer(1, 1) is quiz.Outcome.ALREADY
    assert s.answer(2, 1) is quiz.Outcome.ACCEPTED
    assert s.answer(3, 7) is quiz.Outcome.CLOSED
    r = s.close()
    assert r.right == [1] and r.answered == [1, 2] and r.newcomers == {1, 2}
    assert s.answer(3, 0) is quiz.Outcome.CLOSED
    assert s.advance()
    s.open()
    s.answer(2, 1)
    s.answer(3, 1)
    r2 = s.close()
    assert r2.right == [2, 3] and r2.newcomers == {3}
    assert s.standings() == [(1, 1), (2, 1), (3, 1)]  # ties: who got there first
    assert s.advance() and not s.advance()
