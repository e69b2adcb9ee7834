"""/quiz end to end: a session with three members, double answers, reveals, scores and the leaderboard."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.views import Timing
from lore.packs import CANON_PACK_PATH
from lore.scores import Answered, QuizScores
from tests.e2e.conftest import World, open_world

SUCCESS = 3


@pytest.fixture
def quick_quiz(monkeypatch):
    monkeypatch.setattr(Timing, "QUESTION_SECONDS", 2.5)  # room for a loaded machine
    monkeypatch.setattr(Timing, "PAUSE_SECONDS", 0.05)


@pytest.fixture
async def canon_world(tmp_path, quick_quiz):
    async with open_world(tmp_path, channels=("general", "quiz", "slow"), pack=CANON_PACK_PATH) as w:
        _FAKES.append(w.fake)
        yield w


_FAKES: list = []


def _debug() -> str:
    fake = _FAKES[-1] if _FAKES else None
    return "" if fake is None else f"violations={fake.violations} errors={fake.bot_errors[-3:]}"


async def wait_for(cond, what: str, timeout: float = 8.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = cond()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {_debug()}")
        await asyncio.sleep(0.02)


def running(w: World, channel, user_id: int = 0):
    return w.bot.get_cog("quiz").running.get((channel.id, user_id))


def open_question(w: World, channel, after: set[int]):
    """The newest message in ``channel`` with enabled answer buttons that is not in ``after``."""
    for m in reversed(w.fake.channel_messages(channel)):
        if m.id not in after and m.buttons and not any(b.get("disabled") for b in m.buttons):
            return m
    return None


def right_label(w: World, channel, user_id: int = 0) -> str:
    q = running(w, channel, user_id).session.current
    return f"{'ABCD'[q.answer]}. {q.right}"[:80]


def wrong_label(w: World, channel, user_id: int = 0) -> str:
    q = running(w, channel, user_id).session.current
    i = (q.answer + 1) % 4
    return f"{'ABCD'[i]}. {q.options[i]}"[:80]


async def test_full_session_three_members(canon_world):
    w = canon_world
    ch = w.ch("quiz")
    a, b, c = w.viewer, w.viewer2, w.fake.add_member(w.guild, "Third Viewer")
    await w.fake.slash("spoilers episode", {"number": 8}, user=w.admin, channel=ch)
    start = await w.fake.slash("quiz start", {"questions": 2}, user=a, channel=ch)
    assert not start.ephemeral and len(start.buttons) == 4
    assert "Question 1/2" in start.content and "up to episode 8" in start.content
    q1 = start.message

    again = await w.fake.slash("quiz start", user=b, channel=ch)
    assert again.ephemeral and "already running" in again.content

    r = await w.fake.click(q1, label=right_label(w, ch), user=a)
    assert r.ephemeral and "Your answer" in r.all_text
    r = await w.fake.click(q1, label=right_label(w, ch), user=b)
    assert r.ephemeral
    r = await w.fake.click(q1, label=wrong_label(w, ch), user=c)
    assert r.ephemeral
    twice = await w.fake.click(q1, label=wrong_label(w, ch), user=a)
    assert twice.ephemeral and "already answered" in twice.all_text

    revealed = await wait_for(lambda: "✅" in w.fake.messages[q1.id].content and w.fake.messages[q1.id], "reveal 1")
    assert f"Right (2 of 3): <@{a.id}> <@{b.id}>" in revealed.content
    assert all(btn.get("disabled") for btn in revealed.buttons)
    assert [btn["style"] for btn in revealed.buttons].count(SUCCESS) == 1

    q2 = await wait_for(lambda: open_question(w, ch, {q1.id}), "question 2")
    assert "Question 2/2" in q2.content
    await w.fake.click(q2, label=right_label(w, ch), user=a)
    await w.fake.click(q2, label=wrong_label(w, ch), user=b)
    await w.fake.click(q2, label=right_label(w, ch), user=c)
    summary = await wait_for(
        lambda: next((m for m in w.fake.channel_messages(ch) if "Quiz over" in m.content), None), "the summary"
    )
    lines = summary.content.splitlines()
    assert lines[1] == f"**1.** <@{a.id}> — 2 right"
    assert lines[2:4] == [f"**2.** <@{b.id}> — 1 right", f"**3.** <@{c.id}> — 1 right"]
    await wait_for(lambda: running(w, ch) is None, "the session to clear after its summary")

    board = await w.fake.slash("quiz leaderboard", user=c, channel=ch)
    desc = board.embeds[0]["description"].splitlines()
    assert desc == [
        f"**1.** <@{a.id}> — **2** points (2/2 right)",
        f"**2.** <@{b.id}> — **1** point (1/2 right)",  # reached 1 point before C did
        f"**2.** <@{c.id}> — **1** point (1/2 right)",
    ]
    stats = await w.fake.slash("quiz stats", user=c, channel=ch)
    assert stats.ephemeral and "**1** point, rank **2** of 3" in stats.content and "1 right of 2" in stats.content
    # scores are per server
    elsewhere = await w.fake.slash("quiz stats", user=w.other_admin, channel=w.ch(guild=w.other))
    assert "not answered" in elsewhere.content


async def test_timeout_reveal_lists_nobody_and_stop_rules(canon_world):
    w = canon_world
    ch = w.ch("quiz")
    await w.fake.slash("spoilers episode", {"number": 13}, user=w.admin, channel=ch)
    start = await w.fake.slash("quiz start", {"questions": 3}, user=w.viewer, channel=ch)
    revealed = await wait_for(lambda: "✅" in w.fake.messages[start.message.id].content, "reveal")
    assert revealed and "Nobody answered." in w.fake.messages[start.message.id].content
    refused = await w.fake.slash("quiz stop", user=w.viewer2, channel=ch)
    assert refused.ephemeral and "Manage Messages" in refused.content
    stopped = await w.fake.slash("quiz stop", user=w.viewer, channel=ch)
    assert stopped.ephemeral
    summary = await wait_for(
        lambda: next((m for m in w.fake.channel_messages(ch) if "Quiz stopped" in m.content), None), "stop"
    )
    assert "Nobody answered" in summary.content
    await wait_for(lambda: running(w, ch) is None, "the session to end")
    nothing = await w.fake.slash("quiz stop", user=w.viewer, channel=ch)
    assert "No quiz is running" in nothing.content


async def test_private_quiz_follows_progress_and_reveals_at_once(canon_world):
    w = canon_world
    ch = w.ch("quiz")
    await w.fake.slash("spoilers episode", {"number": 2}, user=w.admin, channel=ch)
    await w.fake.slash("progress set", {"episode": 5}, user=w.viewer, channel=ch)
    start = await w.fake.slash("quiz start", {"questions": 2, "private": True}, user=w.viewer, channel=ch)
    assert start.ephemeral and "up to episode 5" in start.content
    public = await w.fake.slash("quiz start", {"questions": 1}, user=w.viewer2, channel=ch)
    assert not public.ephemeral and "up to episode 2" in public.content, "a private quiz does not hold the channel"
    await w.fake.click(start, label=right_label(w, ch, w.viewer.id), user=w.viewer)
    content = await wait_for(lambda: w.fake.messages[start.message.id].content, "private reveal")
    assert "✅" in content and "You got it right." in content


async def test_leaderboard_pages_and_stable_ties(canon_world):
    w = canon_world
    scores = QuizScores(w.bot.lore.store)
    members = [w.fake.add_member(w.guild, f"Fan {i}") for i in range(23)]
    for i, m in enumerate(members):
        await scores.record(w.guild.id, [Answered(m.id, correct=i % 3 != 0, first_of_session=True)])
    first = await w.fake.slash("quiz leaderboard", user=w.viewer, channel=w.ch())
    assert first.buttons and "page 1/3" in first.embeds[0]["footer"]["text"]
    again = await w.fake.slash("quiz leaderboard", user=w.viewer, channel=w.ch())
    assert again.embeds[0]["description"] == first.embeds[0]["description"]
    ranks = [int(re.match(r"\*\*(\d+)\.\*\*", line).group(1)) for line in first.embeds[0]["description"].splitlines()]
    assert ranks == [1] * 10
    last = await w.fake.click(first, label="»")
    assert "page 3/3" in last.embeds[0]["footer"]["text"]
    assert "**16.**" in last.embeds[0]["description"]  # 15 members share the top score
