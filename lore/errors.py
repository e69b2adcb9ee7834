"""Every error the lore engine raises on purpose: each carries a sentence safe to show a user.

Adapters catch these (and only these) to answer with the message; anything else is a bug."""

from __future__ import annotations


class LoreError(ValueError):
    """A request the service refuses; the message is safe to show to the user."""


class PackError(ValueError):
    """A pack that cannot be loaded. ``errors`` lists every problem as ``path: reason``."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in lore pack:\n" + "\n".join(errors))


class StoreError(RuntimeError):
    """The database cannot be opened or used (missing, damaged, newer than this version, ...)."""
