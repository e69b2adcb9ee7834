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


class StaleEntry(LoreError):
    """An entry changed between reading it (e.g. opening a form) and saving: nothing was saved."""


class EntryExists(LoreError):
    """A new entry's slug is taken by an entry the channel sees: nothing was saved."""


class LoreFault(RuntimeError):
    """A fault of the environment the operator must fix (the database, its disk, the canon pack);
    ``str()`` is one complete sentence. The CLI prints it with a non-zero exit status."""


class StoreError(LoreFault):
    """The database cannot be opened or used (missing, damaged, newer than this version, ...)."""


class WriteFault(StoreError):
    """A write that failed for a reason of the database or its disk (busy, full, read-only,
    damaged); nothing was written. Its sentence names no path, so a Discord user may see it."""


class CanonPackError(LoreFault):
    """The canon pack cannot be used (missing while the database holds no canon, or damaged)."""
