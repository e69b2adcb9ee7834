"""Spoiler-aware name search, held entirely in memory: the names callers have always imported
from here. The parts live by concept in :mod:`lore.normalize` (matching keys),
:mod:`lore.nameindex` (one scope's index and its snapshot format), :mod:`lore.fuzzy` (scoring and
the word vocabulary) and :mod:`lore.resolve` (what a lookup or an autocomplete answers)."""

from __future__ import annotations

from lore.nameindex import SHOW_ALL, Candidate, EntryRef, IndexRecord, NameIndex, browse_key
from lore.resolve import LayeredIndex, LookupResult

__all__ = [
    "SHOW_ALL",
    "Candidate",
    "EntryRef",
    "IndexRecord",
    "LayeredIndex",
    "LookupResult",
    "NameIndex",
    "browse_key",
]
