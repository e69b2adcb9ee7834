"""A quiz session: its questions for a guild and viewer, and the rules it is played by.

The questions are what :func:`lore.questions.draw_from` gives over the visible world
(:mod:`lore.quizworld`) under the viewer's policy, so a quiz at episode 3 is the quiz a world
holding only the first three episodes would give. A session takes one answer per member per
question and keeps the running tally.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from lore.questions import Question, Spec, draw_from, specs
from lore.quizworld import quiz_policy, world_for
from lore.spoilers import Policy

if TYPE_CHECKING:
    from lore.service import LoreService

#: The most questions one session asks.
QUESTIONS_MAX = 20

#: (service, guild, episode) -> (the index the specs were built from, the specs): a guild's lore
#: changes only with a write, and every write gives the guild a new index.
_SPECS: dict[tuple[int, int | None, int], tuple[object, list[Spec]]] = {}
_SPECS_MAX = 512


def specs_for(service: LoreService, policy: Policy, guild_id: int | None) -> list[Spec]:
    p = quiz_policy(policy, service.franchise.last)
    index = service.index_for(guild_id)
    key = (id(service), guild_id, p.episode)
    hit = _SPECS.get(key)
    if hit is not None and hit[0] is index:
        return hit[1]
    entries, episode = world_for(service, policy, guild_id)
    built = specs(entries, episode)
    if len(_SPECS) >= _SPECS_MAX:
        _SPECS.clear()
    _SPECS[key] = (index, built)
    return built


def questions_for(
    service: LoreService, policy: Policy, guild_id: int | None, count: int, rng: random.Random
) -> list[Question]:
    """A session's questions: what :func:`lore.questions.draw_from` gives over the visible world under ``policy``."""
    return draw_from(specs_for(service, policy, guild_id), max(1, min(count, QUESTIONS_MAX)), rng)


# -- a session's rules ---------------------------------------------------------------------------
class Outcome(StrEnum):
    ACCEPTED = "accepted"
    ALREADY = "already answered"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Reveal:
    """A closed question: who answered, who was right (in the order they answered)."""

    number: int  # 1-based
    question: Question
    right: list[int]
    answered: list[int]
    newcomers: set[int]  # members whose first answer of the session this was

    def answers(self) -> list[tuple[int, bool, bool]]:
        """(user, right?, first answer of the session?) for every member who answered."""
        right = set(self.right)
        return [(u, u in right, u in self.newcomers) for u in self.answered]


class Session:
    """One quiz: its questions in order, one answer per member per question, the running tally."""

    def __init__(self, questions: Sequence[Question]):
        if not questions:
            raise ValueError("a session needs at least one question")
        self.questions = list(questions)
        self.index = 0
        self.is_open = False
        self._answers: dict[int, int] = {}
        self.players: set[int] = set()
        self.tally: dict[int, int] = {}
        self._order: dict[int, int] = {}  # user -> when they reached their tally (ties: first there first)
        self._clock = 0

    @property
    def current(self) -> Question:
        return self.questions[self.index]

    @property
    def number(self) -> int:
        return self.index + 1

    def open(self) -> Question:
        self._answers = {}
        self.is_open = True
        return self.current

    def answer(self, user_id: int, option: int) -> Outcome:
        if not self.is_open or not 0 <= option < len(self.current.options):
            return Outcome.CLOSED
        if user_id in self._answers:
            return Outcome.ALREADY
        self._answers[user_id] = option
        return Outcome.ACCEPTED

    def close(self) -> Reveal:
        self.is_open = False
        answered = list(self._answers)
        right = [u for u, opt in self._answers.items() if opt == self.current.answer]
        newcomers = {u for u in answered if u not in self.players}
        self.players.update(answered)
        for u in right:
            self._clock += 1
            self.tally[u] = self.tally.get(u, 0) + 1
            self._order[u] = self._clock
        for u in answered:
            self.tally.setdefault(u, 0)
            self._order.setdefault(u, 10**9 + u % 10**9)
        return Reveal(self.number, self.current, right, answered, newcomers)

    def advance(self) -> bool:
        """Move to the next question; False when there is none."""
        if self.index + 1 >= len(self.questions):
            return False
        self.index += 1
        return True

    def standings(self) -> list[tuple[int, int]]:
        """(user, right answers) for every player, best first; ties by who got there first."""
        return sorted(self.tally.items(), key=lambda kv: (-kv[1], self._order.get(kv[0], 0), kv[0]))
