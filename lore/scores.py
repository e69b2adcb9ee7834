"""Quiz scores per server and member: one point per right answer, kept in the lore database.

The leaderboard orders by points, then by who reached their score first, then by user id, so ties
always come out in the same order (and share a rank).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from lore.store import Store, guild_scope


@dataclass(frozen=True, slots=True)
class Score:
    user_id: int
    points: int
    correct: int
    answered: int
    sessions: int
    rank: int  # 1-based; members with equal points share a rank

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True, slots=True)
class Answered:
    """One member's answer to one question."""

    user_id: int
    correct: bool
    first_of_session: bool = False


_ORDER = "points DESC, reached_at ASC, user_id ASC"


class QuizScores:
    def __init__(self, store: Store):
        self.store = store

    async def record(self, guild_id: int, answers: Iterable[Answered]) -> None:
        """Add one question's answers to the server's scores, in one transaction."""
        now = time.time()
        rows = [
            (guild_id, a.user_id, int(a.correct), int(a.correct), int(a.first_of_session), now, now) for a in answers
        ]
        if not rows:
            return
        async with self.store.write() as tx:
            await tx.executemany(
                "INSERT INTO quiz_scores (guild_id, user_id, points, correct, answered, sessions, reached_at, "
                "updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET "
                "points = points + excluded.points, correct = correct + excluded.correct, "
                "answered = answered + 1, sessions = sessions + excluded.sessions, "
                "reached_at = CASE WHEN excluded.points > 0 THEN excluded.reached_at ELSE reached_at END, "
                "updated_at = excluded.updated_at",
                rows,
            )
            tx.changed(guild_scope(guild_id), "quiz_scores", guild_id)

    async def count(self, guild_id: int) -> int:
        rows = await self.store.fetchall("SELECT COUNT(*) FROM quiz_scores WHERE guild_id = ?", (guild_id,))
        return int(rows[0][0]) if rows else 0

    async def leaderboard(self, guild_id: int, *, offset: int = 0, limit: int = 10) -> list[Score]:
        sql = (
            "SELECT user_id, points, correct, answered, sessions, "
            "(SELECT COUNT(*) FROM quiz_scores AS o WHERE o.guild_id = s.guild_id AND o.points > s.points) + 1 "
            f"FROM quiz_scores AS s WHERE guild_id = ? ORDER BY {_ORDER} LIMIT ? OFFSET ?"
        )
        return [Score(*row) for row in await self.store.fetchall(sql, (guild_id, limit, offset))]

    async def of(self, guild_id: int, user_id: int) -> Score | None:
        sql = (
            "SELECT user_id, points, correct, answered, sessions, "
            "(SELECT COUNT(*) FROM quiz_scores AS o WHERE o.guild_id = s.guild_id AND o.points > s.points) + 1 "
            "FROM quiz_scores AS s WHERE guild_id = ? AND user_id = ?"
        )
        rows = await self.store.fetchall(sql, (guild_id, user_id))
        return Score(*rows[0]) if rows else None
