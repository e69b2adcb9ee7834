"""One scope's documents and name index, as the lore service holds it in memory."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from lore import snapshot
from lore.model import Entry, Kind
from lore.nameindex import NameIndex
from lore.patches import effective, is_patch
from lore.store import StoredEntry, entry_keys


@lru_cache(maxsize=8192)
def parse_entry(doc: str | bytes) -> Entry:
    """A stored document as an entry (cached: the same few documents are read over and over)."""
    return Entry.model_validate_json(doc)


#: Every loaded scope gets a new number: a cache keyed by a scope's generation never serves stale lore.
_GENERATIONS = itertools.count(1)


class Scope:
    """One scope's documents and its name index.

    Documents are kept as UTF-8 bytes (what SQLite stores): half the memory of ``str`` for text
    with kana, and what ``Entry.model_validate_json`` reads directly. A large scope given a
    ``saved_at`` path reuses the index snapshot there when its rows are the ones it was built from.
    """

    def __init__(self, rows: Iterable[StoredEntry], saved_at: Path | None = None, canon: Scope | None = None):
        rows = list(rows)
        self.generation = next(_GENERATIONS)
        self._relation_sources: dict[str, list[str]] | None = None
        #: A server's patches of canon entries, as stored (its ``docs`` hold the patched entries).
        self.patches: dict[str, bytes] = {}
        if canon is not None:
            rows = self._patched(rows, canon)
        self.docs: dict[str, bytes | None] = {
            row.slug: (row.doc.encode() if isinstance(row.doc, str) else row.doc) for row in rows
        }
        self.member_of: dict[str, list[tuple[str, int]]] = {}
        live = [row for row in rows if row.doc is not None]
        del rows
        fingerprint = None
        if saved_at is not None and len(live) >= snapshot.MIN_ENTRIES:
            fingerprint = snapshot.fingerprint(live)
            saved = snapshot.read(saved_at, fingerprint) if fingerprint else None
            if saved is not None:
                self.index, self.member_of = saved
                return
        # One parse for every row's keys (names/aliases, memberships) instead of one per row.
        keys = json.loads("[" + ",".join(row.keys or "{}" for row in live) + "]")
        name_lists = [k.get("names", [[row.name, row.introduced]]) for k, row in zip(keys, live, strict=True)]
        for k, row in zip(keys, live, strict=True):
            for target, ep in k.get("member_of", ()):
                self.member_of.setdefault(target, []).append((row.slug, int(ep)))
        del keys
        self.index = NameIndex.from_columns(
            [row.slug for row in live],
            [row.name for row in live],
            [_KIND_OF[row.kind] for row in live],
            [row.introduced for row in live],
            name_lists,
        )
        if saved_at is not None and fingerprint:
            snapshot.write(saved_at, fingerprint, self.index, self.member_of)

    def _patched(self, rows: list[StoredEntry], canon: Scope) -> list[StoredEntry]:
        """The rows with each patch applied to the canon entry it edits (a patch of an entry the
        canon no longer has gives nothing: the slug is not shadowed)."""
        out = []
        for row in rows:
            if not is_patch(row.doc):
                out.append(row)
                continue
            raw = row.doc.encode() if isinstance(row.doc, str) else row.doc
            assert raw is not None  # a patch is a document
            self.patches[row.slug] = raw
            entry = effective(canon.docs.get(row.slug), raw)
            if entry is not None:
                doc = entry.model_dump_json(exclude_defaults=True).encode()
                out.append(
                    StoredEntry(row.slug, entry.kind.value, entry.name, entry.introduced, entry_keys(entry), doc)
                )
        return out

    def relation_sources(self) -> dict[str, list[str]]:
        """Target slug -> slugs of this scope's entries with a relation to it (built on first use)."""
        index = self._relation_sources
        if index is None:
            index = {}
            for slug, doc in self.docs.items():
                if doc is None:
                    continue
                # plain JSON, not the model: four times quicker, and only the targets are needed
                relations = json.loads(doc).get("relations") or ()
                for target in sorted({rel["target"] for rel in relations}):
                    index.setdefault(target, []).append(slug)
            self._relation_sources = index
        return index


#: Scopes with at least this many rows are rebuilt after a write in a worker thread (a 5,000-entry


_KIND_OF = {k.value: k for k in Kind}
