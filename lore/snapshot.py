"""The snapshot of a large scope's built name index, kept next to the database.

Building the canon's index takes about 2 s at 100,000 entries, loading its snapshot under half a
second. A snapshot is reused only while its fingerprint (a digest of the rows the index is built
from and of the code that builds it) is the scope's; anything unreadable is ignored and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from lore.nameindex import NameIndex
from lore.store import StoredEntry

log = logging.getLogger(__name__)

#: Scopes with at least this many entries keep a snapshot of their built index next to the database.
MIN_ENTRIES = 20_000
_MAGIC = b"lorebot-index-snapshot 1 "
#: The modules whose code decides what an index holds (a snapshot made by other code is not reused).
_BUILDERS = ("lore.normalize", "lore.fuzzy", "lore.nameindex", "lore.snapshot", "lore.scope")

#: Target slug -> (member slug, episode known) of a scope's memberships, saved with its index.
Memberships = dict[str, list[tuple[str, int]]]


@lru_cache(maxsize=1)
def _code_digest() -> bytes | None:
    """What the index is built by (None: unknown)."""
    h = hashlib.sha256()
    try:
        for name in _BUILDERS:
            module = sys.modules.get(name)
            if module is None:
                return None
            h.update(Path(module.__file__ or "").read_bytes())
    except OSError:
        return None
    return h.digest()


def fingerprint(live: Sequence[StoredEntry]) -> str | None:
    """A digest of everything a scope's index is built from (rows' slugs, names, kinds, episodes,
    names/aliases and memberships, and the code that builds it); None when that is unknown."""
    code = _code_digest()
    if code is None:
        return None
    h = hashlib.sha256(code)
    for column in (
        [row.slug for row in live],
        [row.kind for row in live],
        [row.name for row in live],
        [str(row.introduced) for row in live],
        [row.keys or "" for row in live],
    ):
        h.update("\x1f".join(column).encode("utf-8", "surrogatepass"))
        h.update(b"\x1e")
    return h.hexdigest()


def read(path: Path, fingerprint: str) -> tuple[NameIndex, Memberships] | None:
    """The index and memberships saved at ``path`` under ``fingerprint``, else None."""
    try:
        with open(path, "rb") as f:
            if f.readline() != _MAGIC + fingerprint.encode() + b"\n":
                return None
            state = marshal.loads(f.read())
        return NameIndex.from_state(state["index"]), state["member_of"]
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, TypeError, KeyError) as e:
        log.warning("ignoring the index snapshot %s: %s", path, e)
        return None


def write(path: Path, fingerprint: str, index: NameIndex, member_of: Memberships) -> None:
    """Save ``index`` and ``member_of`` at ``path`` (atomically; a failure is logged, not raised)."""
    state: dict[str, Any] = {"index": index.state(), "member_of": member_of}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(_MAGIC + fingerprint.encode() + b"\n")
            f.write(marshal.dumps(state))
        os.replace(tmp, path)
    except (OSError, ValueError) as e:
        log.warning("could not save the index snapshot %s: %s", path, e)
        with contextlib.suppress(OSError):
            tmp.unlink()
