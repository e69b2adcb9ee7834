"""The harness's errors: what a test sees when the bot, or the test itself, gets something wrong."""

from __future__ import annotations

from .result import Violation


class FakeDiscordError(Exception):
    """Base class for errors raised by the harness."""


class NoResponse(FakeDiscordError):
    """The bot did not answer an interaction in time."""


class ViolationsError(FakeDiscordError, AssertionError):
    """The bot sent payloads that break Discord's (or the project's) rules."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = list(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(f"{len(self.violations)} Discord payload violation(s):\n{lines}")
