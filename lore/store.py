"""The store interface: what the service and the rest of ``lore`` may ask of the lore database.

:class:`Store` is the whole of it, typed; nothing outside the implementations reaches past it. Two
implementations share it, both written on :class:`lore.sqlstore.SqlStore` (the portable SQL):
:class:`lore.sqlitestore.SqliteStore`, the embedded default, and :class:`lore.pgstore.PgStore`
for processes on more than one host (:func:`lore.storage.open_store` picks one). Every write goes
through :meth:`Store.write`, the single write path of the process::

    async with store.write() as tx:
        row = await tx.fetchone("SELECT ... WHERE ...", (...,))   # the current row, read inside
        await tx.execute("UPDATE ...", (...,))                    # the change, applied to it
        tx.changed(scope, "what", key)                            # a row of the change feed

One writer at a time across every process sharing the database, one transaction each; the
change-feed rows commit with the data, then the process applies the feed (so its memory follows
the database, its own writes included). Faults become :class:`lore.errors.StoreError` sentences
(:class:`lore.errors.WriteFault` for a write); nothing is half written. SQL is portable: ``?``
placeholders, and only what both backends mean alike.

The typed records here are what goes in (:class:`Change`) and what comes out (:class:`StoredEntry`,
:class:`RevisionInfo`, :class:`TextHit`, :class:`CheckReport`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from lore.model import Entry, EntryPatch
from lore.patches import patch_doc
from lore.schema import SCHEMA_VERSION
from lore.visible import title_episode

if TYPE_CHECKING:
    from lore.feed import ChangeFeed
    from lore.quotas import Quotas
    from lore.spoilers import Setting

#: The scope of the canon's entries; a server's own are in :func:`guild_scope`.
CANON = "canon"

#: The action of the revision that drops a server's override (the server follows the canon again).
FOLLOW_CANON = "back to the canon"


def guild_scope(guild_id: int) -> str:
    return f"guild:{int(guild_id)}"


class Tx(ABC):
    """One write transaction (see :meth:`Store.write`): reads see the transaction's own writes."""

    __slots__ = ("changes",)

    def __init__(self) -> None:
        #: The feed rows (scope, what, key) recorded by :meth:`changed`, committed with the data.
        self.changes: list[tuple[str, str, str]] = []

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    @abstractmethod
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any | None: ...

    def changed(self, scope: str, what: str, key: object = "") -> None:
        """Record a row of the change feed, committed with this transaction."""
        self.changes.append((scope, what, str(key)))


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    number: int
    action: str
    author: str
    created_at: float
    removed: bool

    @property
    def is_removal(self) -> bool:
        """Whether this revision removed the entry (going back to the canon is not a removal)."""
        return self.removed and self.action != FOLLOW_CANON


@dataclass(frozen=True, slots=True)
class TextHit:
    scope: str
    slug: str
    episode: int
    part: str
    snippet: str  # the matched words between \x02 and \x03
    rank: float


class StoredEntry(NamedTuple):  # a tuple: 100,000 of them are made at each start-up
    slug: str
    kind: str
    name: str
    introduced: int
    keys: str  # JSON: {"names": [[text, episode], ...], "member_of": [[slug, episode], ...]}
    doc: str | bytes | None  # the entry as JSON (UTF-8 bytes from ``load_scope(raw_docs=True)``)


def entry_keys(entry: Entry) -> str:
    return json.dumps(
        {
            "names": entry.all_names(),
            "member_of": [[r.target, r.episode] for r in entry.relations if r.type.value == "member_of"],
        },
        ensure_ascii=False,
    )


@dataclass(frozen=True, slots=True)
class Change:
    """One entry write: a new document, or ``None`` to remove the entry from the scope.

    With ``patch``, a server's edit of a canon entry: the patch is what is stored (see
    :mod:`lore.patches`), ``entry`` the patched entry its index keys and text are made from.

    Its rows (the JSON document, the index keys, the searchable text) are computed when the change
    is made, so that a large import computes them before it takes the writer, not while holding it.
    """

    slug: str
    entry: Entry | None
    action: str
    patch: EntryPatch | None = None
    doc: str | None = field(init=False, default=None)
    keys: str = field(init=False, default="{}")
    text: list[tuple[str, int, str, str]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.entry is not None:
            doc = patch_doc(self.patch) if self.patch is not None else self.entry.model_dump_json(exclude_defaults=True)
            object.__setattr__(self, "doc", doc)
            object.__setattr__(self, "keys", entry_keys(self.entry))
            object.__setattr__(self, "text", list(searchable_text(self.entry)))


def searchable_text(entry: Entry) -> Iterable[tuple[str, int, str, str]]:
    """The entry's searchable text: rows of (slug, the episode revealing it, part, text)."""
    yield entry.slug, entry.introduced, "name", entry.name
    if entry.summary:
        yield entry.slug, entry.introduced, "summary", entry.summary
    for later in entry.later_summaries:
        yield entry.slug, max(later.episode, entry.introduced), "summary", later.text
    for fact in entry.facts:
        yield entry.slug, fact.episode, "fact", fact.text
    for attr in entry.attributes:
        yield entry.slug, attr.episode, "attribute", f"{attr.label}: {attr.value}"
    if entry.episode is not None:
        titles = " / ".join([entry.episode.title, *(entry.episode.alt_titles)])
        yield entry.slug, title_episode(entry) or entry.introduced, "title", titles


@dataclass(frozen=True, slots=True)
class CheckReport:
    path: str
    schema: int
    problems: list[str]
    entries: int
    changes: int

    @property
    def ok(self) -> bool:
        return not self.problems and self.schema == SCHEMA_VERSION


class Store(Protocol):
    """The lore database, whichever backend holds it (see the module docstring)."""

    #: Which backend this is (see :mod:`lore.storage`): ``"sqlite"`` or ``"postgresql"``.
    backend: str
    #: Where the database is, as messages show it (a PostgreSQL URL without its password).
    path: str
    #: This process, as written in the feed's ``origin`` column.
    origin: str
    feed: ChangeFeed
    #: Per-server quotas, checked inside every write of a server's entries (None: no quotas).
    quotas: Quotas | None
    #: Called with the seconds each committed write transaction took (the bot's metrics).
    on_write: Callable[[float], None] | None

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    # -- the write path, and reads of the last committed state ------------------------------
    def write(self) -> AbstractAsyncContextManager[Tx]:
        """The one way to write: one transaction, serialised with every other writer; reads of
        ``tx`` see the current rows. Faults raise :class:`lore.errors.WriteFault`."""
        ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    # -- meta, slots and leases ----------------------------------------------------------------
    async def get_meta(self, key: str, tx: Tx | None = None) -> str | None: ...

    async def put_meta(self, tx: Tx, key: str, value: str, *, record: bool = True) -> None: ...

    async def set_meta(self, key: str, value: str) -> None: ...

    async def claim_slot(self, key: str, interval: float) -> float: ...

    async def try_lease(self, key: str, owner: str, ttl: float) -> bool: ...

    async def release_lease(self, key: str, owner: str) -> None: ...

    # -- entries, revisions, searchable text -----------------------------------------------------
    async def load_scope(self, scope: str, *, raw_docs: bool = False) -> list[StoredEntry]: ...

    async def load_all_scopes(self, *, raw_docs: bool = False) -> dict[str, list[StoredEntry]]: ...

    async def read_entry(self, tx: Tx | None, scope: str, slug: str) -> tuple[bool, str | None]: ...

    async def read_docs(self, tx: Tx | None, scope: str) -> dict[str, str | None]: ...

    async def put_entries(
        self,
        tx: Tx,
        scope: str,
        changes: list[Change],
        author: str,
        purge: Iterable[str] = (),
        *,
        import_bytes: int = 0,
    ) -> dict[str, int]: ...

    async def drop_entry(self, tx: Tx, scope: str, slug: str, author: str, action: str = FOLLOW_CANON) -> int: ...

    async def drop(self, scope: str, slug: str, author: str, action: str = FOLLOW_CANON) -> int: ...

    async def history(self, scope: str, slug: str, tx: Tx | None = None) -> list[RevisionInfo]: ...

    async def revision_doc(
        self, scope: str, slug: str, number: int, tx: Tx | None = None
    ) -> tuple[bool, str | None]: ...

    async def search_text(
        self, words: Sequence[str], scopes: list[str], limit: int = 500, *, bound: int | None = None
    ) -> list[TextHit]: ...

    # -- spoiler settings and progress -----------------------------------------------------------
    async def load_settings(self) -> tuple[dict[int, Setting], dict[int, tuple[int, Setting]], dict[int, int]]: ...

    async def guild_settings(self, guild_ids: Iterable[int], tx: Tx | None = None) -> dict[int, Setting]: ...

    async def channel_settings(
        self, channel_ids: Iterable[int], tx: Tx | None = None
    ) -> dict[int, tuple[int, Setting]]: ...

    async def progress_of(self, user_ids: Iterable[int], tx: Tx | None = None) -> dict[int, int]: ...

    async def put_guild_setting(self, tx: Tx, guild_id: int, setting: Setting) -> None: ...

    async def put_channel_setting(self, tx: Tx, guild_id: int, channel_id: int, setting: Setting | None) -> None: ...

    async def put_progress(self, tx: Tx, user_id: int, episode: int | None) -> None: ...
