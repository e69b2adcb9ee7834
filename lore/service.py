"""The lore service: the one object adapters (the Discord bot, the CLI) talk to.

It owns the store, keeps every scope's documents and name indexes in memory (so lookups and
autocomplete never touch the disk), resolves spoiler policies from cached settings, and performs
writes as single transactions, refreshing the affected index afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import itertools
import json
import logging
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from lore import feed, snapshot
from lore.editing import ENTRY_EXISTS, slugify
from lore.errors import CanonPackError, EntryExists, PackError, StaleEntry
from lore.errors import LoreError as LoreError
from lore.franchise import EpisodeError, Franchise, episode_numbers
from lore.gcpause import paused_gc
from lore.markup import echo, escape, spoiler_block
from lore.model import EPISODE_CEILING, MAX_SLUG, Alias, Entry, EpisodeList, Fact, Kind, Pack, PackMeta
from lore.nameindex import Candidate, EntryRef, NameIndex
from lore.packs import CANON_PACK_PATH, ImportReport, dump_pack, parse_text, read_pack_bytes, validate
from lore.patches import apply_patch, diff, effective, is_patch, read_patch
from lore.quotas import Quotas
from lore.render import LATER_LIMIT, Appearance, EntryView, render_entry, status_text
from lore.resolve import LayeredIndex, LookupResult
from lore.spoilers import Mode, Policy, Setting, resolve_policy
from lore.storage import open_store
from lore.store import CANON, FOLLOW_CANON, Change, RevisionInfo, Store, StoredEntry, Tx, entry_keys, guild_scope
from lore.visible import visible_entry

log = logging.getLogger(__name__)

CANON_AUTHOR = "canon pack"


#: Bounds of what the write methods accept (the Discord commands declare the same; a payload that
#: gets past Discord's own checks gets the same sentence as any other bad input).
MAX_FACT_TEXT = 1000
MAX_ALIAS = 100
MAX_REVISION = 1_000_000

_UNCHECKED = object()


@lru_cache(maxsize=8192)
def _parse(doc: str | bytes) -> Entry:
    return Entry.model_validate_json(doc)


@dataclass(slots=True)
class Answer:
    """A lookup and its rendering under one policy: the same view a Discord reply gives."""

    query: str
    policy: Policy
    result: LookupResult
    view: EntryView | None
    #: Under ``tag``, when there is no card: one spoiler span saying what, if anything, the query
    #: names in later episodes (always there, so that its presence tells nothing).
    note: str | None = None
    #: The franchise's last episode (whether the policy holds anything back).
    last_episode: int = EPISODE_CEILING

    @property
    def found(self) -> bool:
        return self.view is not None

    @property
    def exact(self) -> bool:
        """Whether the match is what the query names in full (a slug, a name or an alias), not a guess."""
        return self.view is not None and self.result.match is not None and self.result.match.score >= 100.0

    @property
    def later(self) -> str | None:
        """The reply's spoiler block under ``tag`` (the card's, else the note), else None."""
        return self.view.later if self.view is not None else self.note

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "match": self.view.to_json() if self.view else None,
            "candidates": [c.to_json() for c in self.result.candidates],
            "ambiguous": self.result.ambiguous,
            "hidden": self.policy.holds_back(self.last_episode),
            "later": self.later,
        }


class History(NamedTuple):
    """An entry's revisions as a guild sees them: its own (``scope`` is the guild's), else the canon's."""

    scope: str
    revisions: list[RevisionInfo]

    @property
    def own(self) -> bool:
        """Whether these are the guild's own revisions (something to revert), not the canon's."""
        return self.scope != CANON


@dataclass(frozen=True, slots=True)
class RosterLine:
    slug: str
    name: str  # plain text
    status: str | None  # final Markdown; only a status the viewer may see


@dataclass(slots=True)
class Roster:
    group: EntryView
    members: list[RosterLine]
    #: Under ``tag``: one spoiler span with later members and fates (always there), else None.
    later: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    slug: str
    name: str  # plain text
    kind: Kind
    snippet: str  # final Markdown: escaped, the matched words in bold
    episode: int


@dataclass(slots=True)
class SearchResults:
    """Full-text hits the viewer may see. Deliberately no count of what was left out: it would
    depend on the viewer's own words, and so tell whether later lore mentions them."""

    query: str
    hits: list[SearchHit] = field(default_factory=list)


#: Every loaded scope gets a new number: a cache keyed by a scope's generation never serves stale lore.
_GENERATIONS = itertools.count(1)


class _Scope:
    """One scope's documents and its name index.

    Documents are kept as UTF-8 bytes (what SQLite stores): half the memory of ``str`` for text
    with kana, and what ``Entry.model_validate_json`` reads directly. A large scope given a
    ``saved_at`` path reuses the index snapshot there when its rows are the ones it was built from.
    """

    def __init__(self, rows: Iterable[StoredEntry], saved_at: Path | None = None, canon: _Scope | None = None):
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

    def _patched(self, rows: list[StoredEntry], canon: _Scope) -> list[StoredEntry]:
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
#: import's index takes a tenth of a second or two: the event loop keeps serving meanwhile).
THREAD_ROWS = 1000


_KIND_OF = {k.value: k for k in Kind}


def _marked(snippet: str) -> str:
    """A full-text snippet as Markdown: its text escaped, the matched words (between \\x02 and
    \\x03) in bold."""
    return escape(snippet).replace("\x02", "**").replace("\x03", "**")


#: Which part of an entry a full-text hit matched, best first.
_PART_RANK = {"name": 0, "title": 1, "summary": 2, "attribute": 3, "fact": 4}


def _ep(episode: int) -> str:
    return f" (ep {episode})" if episode else ""


class LoreService:
    def __init__(self, store: Store, quotas: Quotas | None = None):
        self.store = store
        self.quotas = quotas if quotas is not None else Quotas()  # the store counts them in each write
        self._scopes: dict[str, _Scope] = {}
        self._layered: dict[int | None, LayeredIndex] = {}
        self._episodes: dict[int | None, tuple[LayeredIndex, dict[int, str]]] = {}
        self._casts: dict[int | None, tuple[dict[int, str], dict[str, list[Appearance]]]] = {}
        self._shadow_cache: dict[int | None, tuple[tuple[int, int], dict[str, int]]] = {}
        self._guild_settings: dict[int, Setting] = {}
        self._channel_settings: dict[int, tuple[int, Setting]] = {}
        self._progress: dict[int, int] = {}
        self.canon_meta: PackMeta = PackMeta(name="canon")
        self.franchise: Franchise = Franchise.of(self.canon_meta)
        self._watcher: asyncio.Task[None] | None = None
        changes = store.feed
        changes.subscribe(feed.ENTRY, self._on_entries)
        changes.subscribe(feed.SERVER_SETTING, self._on_server_settings)
        changes.subscribe(feed.CHANNEL_SETTING, self._on_channel_settings)
        changes.subscribe(feed.PROGRESS, self._on_progress)
        changes.subscribe(feed.META, self._on_meta)
        changes.on_reset(self._load_state)

    @property
    def quotas(self) -> Quotas:
        """The per-server quotas every write of a server's entries is checked against."""
        return self.store.quotas or Quotas.off()

    @quotas.setter
    def quotas(self, quotas: Quotas) -> None:
        self.store.quotas = quotas

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    async def open(
        cls, path: str | Path, *, canon_pack: Path | None = CANON_PACK_PATH, quotas: Quotas | None = None
    ) -> LoreService:
        """Open (creating and migrating as needed) the database at ``path``; fill or upgrade the
        canon from ``canon_pack`` when it is newer than the one stored. ``quotas`` bound what a
        server's own lore may hold (the defaults unless given; ``Quotas.off()`` for none).

        ``path`` is an SQLite path or a ``postgresql://`` URL (see :mod:`lore.storage`). Raises
        :class:`~lore.faults.LoreFault` (one sentence) for a database that cannot be used,
        a new database without its canon pack, or a damaged canon pack.
        """
        store = await open_store(path)
        svc = cls(store, quotas)
        try:
            await svc._load()
            if canon_pack is not None:
                await svc.apply_canon_pack(canon_pack)
        except BaseException:
            await store.close()
            raise
        return svc

    async def close(self) -> None:
        await self.stop_watching()
        await self.store.close()

    async def __aenter__(self) -> LoreService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- coherence with other processes ------------------------------------------------------
    def start_watching(self, interval: float = 0.2) -> None:
        """Apply other processes' writes in the background (every ``interval`` seconds)."""
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self.store.feed.run(interval), name="lorebot-change-feed")

    async def stop_watching(self) -> None:
        task, self._watcher = self._watcher, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def refresh(self, max_age: float = feed.POLL_SECONDS) -> None:
        """Apply writes other processes committed, unless the feed was read in the last
        ``max_age`` seconds: call before serving anything that depends on stored state."""
        await self.store.feed.poll(max_age)

    async def _load(self) -> None:
        head = await self.store.feed.head()  # read first: whatever commits meanwhile is applied again
        await self._load_state()
        await self.store.feed.start_at(head)

    async def _load_state(self) -> None:
        # Building the indexes allocates millions of small objects, none of them garbage: the
        # cyclic collector would rescan the growing heap over and over (2 s of 5 at 100,000 entries).
        with paused_gc():
            rows = await self.store.load_all_scopes(raw_docs=True)
            canon = _Scope(rows.pop(CANON, ()), saved_at=self._snapshot_path())
            self._scopes = {CANON: canon}
            while rows:  # each scope's rows are dropped as soon as its index is built
                scope = next(iter(rows))
                self._scopes[scope] = _Scope(rows.pop(scope), canon=canon)
            del rows
        self._layered.clear()
        await self._load_canon_meta()
        g, c, p = await self.store.load_settings()
        self._guild_settings, self._channel_settings, self._progress = g, c, p

    async def _load_canon_meta(self) -> None:
        meta = await self.store.get_meta("canon_meta")
        if meta:
            self.canon_meta = PackMeta.model_validate_json(meta)
        self.franchise = Franchise.of(self.canon_meta, self._stored_canon())

    def _stored_canon(self) -> Pack | None:
        """The canon as a pack, for a database whose stored metadata predates episode lists
        (read only then: the franchise's episodes are the highest the canon names)."""
        if self.canon_meta.episodes is not None or CANON not in self._scopes:
            return None
        docs = self._scopes[CANON].docs.values()
        return Pack(entries=[_parse(doc) for doc in docs if doc is not None])

    async def _on_entries(self, rows: list[feed.ChangeRow]) -> None:
        scopes = dict.fromkeys(row.scope for row in rows)
        for scope in sorted(scopes, key=lambda sc: sc != CANON):  # the canon first: servers' patches apply to it
            await self._reload(scope)

    async def _on_server_settings(self, rows: list[feed.ChangeRow]) -> None:
        ids = {int(row.key) for row in rows}
        fresh = await self.store.guild_settings(ids)
        for gid in ids:
            if gid in fresh:
                self._guild_settings[gid] = fresh[gid]
            else:
                self._guild_settings.pop(gid, None)

    async def _on_channel_settings(self, rows: list[feed.ChangeRow]) -> None:
        ids = {int(row.key) for row in rows}
        fresh = await self.store.channel_settings(ids)
        for cid in ids:
            if cid in fresh:
                self._channel_settings[cid] = fresh[cid]
            else:
                self._channel_settings.pop(cid, None)

    async def _on_progress(self, rows: list[feed.ChangeRow]) -> None:
        ids = {int(row.key) for row in rows}
        fresh = await self.store.progress_of(ids)
        for uid in ids:
            if uid in fresh:
                self._progress[uid] = fresh[uid]
            else:
                self._progress.pop(uid, None)

    async def _on_meta(self, rows: list[feed.ChangeRow]) -> None:
        if any(row.key == "canon_meta" for row in rows):
            await self._load_canon_meta()

    def _snapshot_path(self) -> Path | None:
        """Where the canon's index snapshot lives: next to the database file (none in memory, and
        none for PostgreSQL, which has no file of its own here)."""
        if self.store.backend != "sqlite" or self.store.path == ":memory:" or self.store.path.startswith("file:"):
            return None
        return Path(f"{self.store.path}-canon-index")

    async def apply_canon_pack(self, path: Path, *, force: bool = False) -> ImportReport | None:
        """Apply the canon pack at ``path`` if it is newer than the stored canon (or ``force``).

        Guild scopes are never touched: their overrides keep shadowing the canon entries they copy.
        A missing pack is a fault only while the database holds no canon; a damaged one always is.
        """
        path = Path(path)
        try:
            raw = read_pack_bytes(path)
        except FileNotFoundError:
            if await self.store.get_meta("canon_version") is None:
                raise CanonPackError(
                    f"the canon pack {path} is missing and the database holds no canon yet, so there "
                    "would be no lore to serve; reinstall lorebot (or restore the file) and start again"
                ) from None
            log.warning("canon pack %s not found; the canon stays as stored", path)
            return None
        except OSError as e:
            raise CanonPackError(f"the canon pack {path} cannot be read: {e.strerror or e}") from None
        except PackError as e:
            raise CanonPackError(f"the canon pack {path} cannot be used: {_first_errors(e)}") from None
        digest = hashlib.sha256(raw).hexdigest()
        if not force and await self.store.get_meta("canon_sha256") == digest:
            return None
        try:
            pack = validate(parse_text(raw, name=path.name))
        except PackError as e:
            raise CanonPackError(f"the canon pack {path} is damaged: {_first_errors(e)}") from None
        changes = _prepare(pack, "canon pack")  # before taking the writer (another process may wait on it)
        async with self.store.write() as tx:
            if not force:  # looked at again inside the write: another process may have applied it
                if await self.store.get_meta("canon_sha256", tx) == digest:
                    return None
                stored = await self.store.get_meta("canon_version", tx)
                if stored is not None and int(stored) >= pack.pack.version:
                    await self.store.put_meta(tx, "canon_sha256", digest)
                    return None
            report = await self._import_in(tx, CANON, changes, author=CANON_AUTHOR, replace=True)
            await self.store.put_meta(tx, "canon_version", str(pack.pack.version))
            await self.store.put_meta(tx, "canon_sha256", digest)
            await self.store.put_meta(tx, "canon_meta", _franchise_meta(pack).model_dump_json())
        log.info("canon pack %s v%d applied: %s", pack.pack.name, pack.pack.version, report.summary())
        return report

    @property
    def canon_version(self) -> int:
        return self.canon_meta.version

    # -- views -------------------------------------------------------------------------------
    def _scope(self, scope: str) -> _Scope:
        sc = self._scopes.get(scope)
        if sc is None:
            sc = self._scopes[scope] = _Scope(())
        return sc

    def index_for(self, guild_id: int | None) -> LayeredIndex:
        ix = self._layered.get(guild_id)
        if ix is None:
            canon = self._scopes[CANON]
            if guild_id is None or guild_scope(guild_id) not in self._scopes:
                ix = LayeredIndex([(canon.index, frozenset())])
            else:
                g = self._scopes[guild_scope(guild_id)]
                ix = LayeredIndex([(g.index, frozenset()), (canon.index, frozenset(g.docs))])
            self._layered[guild_id] = ix
        return ix

    def entry_count(self, policy: Policy, guild_id: int | None = None) -> int:
        """How many entries a viewer under ``policy`` may see (later ones are not counted)."""
        return self.index_for(guild_id).count(policy)

    def get(self, slug: str, guild_id: int | None = None) -> Entry | None:
        """The entry a guild sees under ``slug`` (its override, else the canon), regardless of policy."""
        if guild_id is not None:
            g = self._scopes.get(guild_scope(guild_id))
            if g is not None and slug in g.docs:
                doc = g.docs[slug]
                return _parse(doc) if doc is not None else None
        doc = self._scopes[CANON].docs.get(slug)
        return _parse(doc) if doc else None

    def entries(self, guild_id: int | None = None) -> list[Entry]:
        ix = self.index_for(guild_id)
        out = []
        for index, exclude in ix.layers:
            for slug in index.slugs:
                if slug not in exclude:
                    entry = self.get(slug, guild_id)
                    if entry is not None:
                        out.append(entry)
        return out

    def scope_version(self, guild_id: int | None = None) -> tuple[int, int]:
        """Changes whenever the lore a guild sees changes (its own scope's or the canon's)."""
        own = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        return (self._scopes[CANON].generation, own.generation if own is not None else 0)

    def relation_sources(self, slug: str, guild_id: int | None = None) -> list[str]:
        """Slugs of the entries a guild sees that have a relation to ``slug`` (any episode: the
        caller renders each one to learn which of those relations a viewer may see)."""
        own = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        out = list(own.relation_sources().get(slug, ())) if own is not None else []
        shadowed = own.docs if own is not None else {}
        out.extend(s for s in self._scopes[CANON].relation_sources().get(slug, ()) if s not in shadowed)
        return sorted(set(out))

    def render(self, entry: Entry, policy: Policy, guild_id: int | None = None) -> EntryView | None:
        ix = self.index_for(guild_id)
        shadowed = self._shadowed(guild_id)
        # the canon's references (relations, cast lines) to a slug that a guild's own entry took
        # while the canon's entry was beyond the channel stay as hidden as that canon entry: a
        # world without it has no such reference (the guild's own references are its own)
        canon_refs = entry.slug not in shadowed and entry.slug in self._scopes[CANON].docs

        def targets(slug: str) -> tuple[str, int] | None:
            rec = ix.find(slug)
            if rec is None:
                return None
            if canon_refs and slug in shadowed:
                return rec.name, max(rec.introduced, shadowed[slug])
            return rec.name, rec.introduced

        appearances: Sequence[Appearance] = ()
        if entry.kind is Kind.CHARACTER:
            appearances = self._appearances(guild_id).get(entry.slug, ())
            if entry.slug in shadowed:  # listed by the canon's episodes, for the canon's entry
                gate = shadowed[entry.slug]
                appearances = [dataclasses.replace(a, episode=max(a.episode, gate)) for a in appearances]
        view = render_entry(entry, policy, targets=targets, appearances=appearances)
        if view is not None:
            pairs = ((item.label, item.target) for item in view.relations)
            view.colour = self.franchise.colour_for(view.slug, view.kind, pairs)
        return view

    def _shadowed(self, guild_id: int | None) -> dict[str, int]:
        """Slug -> the canon entry's introduction, for the guild's own entries that have a canon
        entry's slug (cached with the guild's scope)."""
        g = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        if g is None:
            return {}
        key = (g.generation, self._scopes[CANON].generation)
        cached = self._shadow_cache.get(guild_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        canon = self._scopes[CANON].docs
        out: dict[str, int] = {}
        for slug, doc in g.docs.items():
            if doc is not None and slug not in g.patches and canon.get(slug):
                out[slug] = _parse(canon[slug]).introduced
        self._shadow_cache[guild_id] = (key, out)
        return out

    def ask(
        self,
        query: str,
        policy: Policy,
        guild_id: int | None = None,
        kinds: Iterable[Kind] | None = None,
        within: Collection[str] | None = None,
    ) -> Answer:
        """Look ``query`` up among the entries of ``kinds`` (and with a slug in ``within``) the
        viewer may see, and render the match."""
        ix = self.index_for(guild_id)
        result = ix.lookup(query, policy, kinds, within)
        view = None
        if result.match is not None:
            entry = self.get(result.match.slug, guild_id)
            if entry is not None:
                view = self.render(entry, policy, guild_id)
        note = self.later_note(query, policy, guild_id, kinds) if view is None else None
        return Answer(query, policy, result, view, note, self.franchise.last)

    def later_note(
        self, query: str, policy: Policy, guild_id: int | None = None, kinds: Iterable[Kind] | None = None
    ) -> str | None:
        """Under ``tag``: the spoiler block of a reply without a card, saying what ``query`` names
        in later episodes, or that it names nothing there (None under other modes)."""
        if policy.mode is not Mode.TAG:
            return None
        lines = [
            f"• “{escape(c.matched)}” is a name revealed in episode {c.episode}: {escape(c.name)}."
            for c in self.index_for(guild_id).later_names(query, policy, kinds)
        ]
        return spoiler_block(lines, LATER_LIMIT)

    def complete(
        self,
        text: str,
        policy: Policy,
        guild_id: int | None = None,
        kinds: Iterable[Kind] | None = None,
        limit: int = 25,
        within: Collection[str] | None = None,
    ) -> list[Candidate]:
        """Autocomplete among the visible entries of ``kinds`` (and with a slug in ``within``)."""
        return self.index_for(guild_id).complete(text, policy, kinds, limit, within)

    def episode(self, number: int, policy: Policy, guild_id: int | None = None) -> EntryView | None:
        slug = self._episode_slugs(guild_id).get(number)
        entry = self.get(slug, guild_id) if slug else None
        return self.render(entry, policy, guild_id) if entry is not None else None

    def _appearances(self, guild_id: int | None) -> dict[str, list[Appearance]]:
        """Character slug -> the episodes whose cast (as the guild sees them) lists it."""
        numbers = self._episode_slugs(guild_id)
        cached = self._casts.get(guild_id)
        if cached is not None and cached[0] is numbers:
            return cached[1]
        out: dict[str, list[Appearance]] = {}
        for number, slug in sorted(numbers.items()):
            entry = self.get(slug, guild_id)
            if entry is None or entry.episode is None:
                continue
            for member in entry.episode.cast:
                out.setdefault(member.character, []).append(Appearance(number, member.first, member.episode))
        self._casts[guild_id] = (numbers, out)
        return out

    def _episode_slugs(self, guild_id: int | None) -> dict[int, str]:
        """Episode number -> slug of the entry a guild sees for it (cached with the guild's index)."""
        ix = self.index_for(guild_id)
        cached = self._episodes.get(guild_id)
        if cached is not None and cached[0] is ix:
            return cached[1]
        numbers: dict[int, str] = {}
        for index, exclude in reversed(ix.layers):  # canon first, so a guild's own entry wins
            for e, slug in enumerate(index.slugs):
                if slug in exclude or index.kind(e) is not Kind.EPISODE:
                    continue
                entry = self.get(slug, guild_id)
                if entry is not None and entry.episode is not None:
                    numbers[entry.episode.number] = slug
        self._episodes[guild_id] = (ix, numbers)
        return numbers

    def _memberships(self, group_slug: str, guild_id: int | None) -> dict[str, int]:
        """Slug -> episode known, of the entries a guild sees as members of ``group_slug`` (any
        episode; the entry itself may be gone)."""
        own = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        layers: list[tuple[_Scope, frozenset[str]]] = [(own, frozenset())] if own is not None else []
        layers.append((self._scopes[CANON], frozenset(own.docs) if own is not None else frozenset()))
        members: dict[str, int] = {}
        for scope, exclude in layers:
            for slug, ep in scope.member_of.get(group_slug, ()):
                if slug not in exclude:
                    members.setdefault(slug, ep)
        return members

    def roster_members(self, group_slug: str, policy: Policy, guild_id: int | None = None) -> frozenset[str] | None:
        """Slugs of the members :meth:`roster` lists (None when it has no roster), read off the
        index: nothing is rendered, so an autocomplete or a member lookup can filter by it."""
        ix = self.index_for(guild_id)
        group = ix.find(group_slug)
        if group is None or not policy.reveals(group.introduced):
            return None
        return frozenset(
            slug
            for slug, ep in self._memberships(group_slug, guild_id).items()
            if (rec := ix.find(slug)) is not None and policy.reveals(max(ep, rec.introduced))
        )

    def roster(self, group_slug: str, policy: Policy, guild_id: int | None = None) -> Roster | None:
        """The members of a group (e.g. the Immortal Nine), each with their status, gated."""
        group = self.get(group_slug, guild_id)
        if group is None:
            return None
        group_view = self.render(group, policy, guild_id)
        if group_view is None:
            return None
        lines: list[RosterLine] = []
        later: list[tuple[int, str]] = []  # (episode, escaped line) for the spoiler block
        for slug, ep in self._memberships(group_slug, guild_id).items():
            entry = self.get(slug, guild_id)
            if entry is None:
                continue
            gate = max(ep, entry.introduced)
            if not policy.reveals(gate):
                later.append((gate, f"• {escape(entry.name)} is a member{_ep(gate)}"))
                continue
            view = self.render(entry, policy, guild_id)
            if view is None:  # pragma: no cover - the gate above covers the entry's introduction
                continue
            if entry.status is not None and view.status is None:
                st = entry.status
                text = escape(status_text(st.state, st.note, st.episode))
                later.append((st.episode, f"• {escape(entry.name)}: {text}{_ep(st.episode)}"))
            lines.append(RosterLine(slug, view.title, view.status.text if view.status else None))
        lines.sort(key=lambda ln: ln.name.casefold())
        block = None
        if policy.mode is Mode.TAG:
            later.sort(key=lambda x: x[0])
            block = spoiler_block([text for _, text in later], LATER_LIMIT)
        return Roster(group_view, lines, block)

    async def search_text(
        self, text: str, policy: Policy, guild_id: int | None = None, limit: int = 50
    ) -> SearchResults:
        """Full-text search over names, summaries, facts and attributes the viewer may see."""
        words = re.findall(r"\w+", text)
        out = SearchResults(query=text)
        if not words:
            return out
        scopes = [CANON] + ([guild_scope(guild_id)] if guild_id is not None else [])
        ix = self.index_for(guild_id)
        g = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        bound = policy.reach(self.franchise.last)
        best: dict[str, tuple[int, int, Any, EntryRef]] = {}  # slug -> (part rank, row order, hit, entry)
        for order, hit in enumerate(await self.store.search_text(words, scopes, 2000, bound=bound)):
            if hit.scope == CANON and g is not None and hit.slug in g.docs:
                continue  # shadowed by this guild's override or removal
            rec = ix.find(hit.slug)
            if rec is None or rec.introduced > bound:
                continue
            key = (_PART_RANK.get(hit.part, len(_PART_RANK)), order, hit, rec)
            if hit.slug not in best or key[:2] < best[hit.slug][:2]:
                best[hit.slug] = key  # one hit per entry: its best passage
        # Ranked by what matched (a name before a fact) and then by name: an order computed from
        # the visible rows alone, so it cannot tell anything about the rows left out.
        ranked = sorted(best.values(), key=lambda k: (k[0], k[3].name.casefold(), k[3].slug))
        for _, _, hit, (slug, name, kind, _) in ranked[:limit]:
            snippet = _marked(hit.snippet)
            if hit.part == "name":  # the field already shows the name: show what the entry is
                entry = self.get(slug, guild_id)
                summary = entry.summary_at(bound) if entry is not None else ""
                snippet = escape(summary) if summary else snippet
            out.hits.append(SearchHit(slug, name, kind, snippet, hit.episode))
        return out

    # -- policy ------------------------------------------------------------------------------
    def policy(
        self,
        guild_id: int | None,
        channel_id: int | None = None,
        user_id: int | None = None,
        private: bool = False,
        parent_id: int | None = None,
    ) -> Policy:
        """The policy for a reply in ``channel_id``; a thread or forum post (``parent_id`` given)
        without an override of its own follows its parent channel's."""
        server = self._guild_settings.get(guild_id) if guild_id is not None else None
        channel = None
        for cid in (channel_id, parent_id):
            ch = self._channel_settings.get(cid) if cid is not None else None
            if ch is not None:
                channel = ch[1]
                break
        progress = self._progress.get(user_id) if user_id is not None else None
        return resolve_policy(server=server, channel=channel, user_progress=progress, private=private)

    def server_setting(self, guild_id: int) -> Setting:
        return self._guild_settings.get(guild_id, Setting())

    def channel_overrides(self, guild_id: int) -> dict[int, Setting]:
        return {cid: s for cid, (gid, s) in self._channel_settings.items() if gid == guild_id}

    async def set_policy(
        self,
        guild_id: int,
        *,
        channel_id: int | None = None,
        episode: int | None = None,
        mode: Mode | None = None,
    ) -> Setting:
        """Set the server's (or one channel's) episode and/or mode, keeping the other part (as
        stored when the write runs: another process's change to it is kept)."""
        if episode is not None:
            self._check_episode(episode)
        async with self.store.write() as tx:
            if channel_id is None:
                old = (await self.store.guild_settings([guild_id], tx)).get(guild_id, Setting())
                new = Setting(episode if episode is not None else old.episode, mode or old.mode)
                await self.store.put_guild_setting(tx, guild_id, new)
            else:
                found = (await self.store.channel_settings([channel_id], tx)).get(channel_id)
                old = found[1] if found is not None else Setting()
                new = Setting(episode if episode is not None else old.episode, mode or old.mode)
                await self.store.put_channel_setting(tx, guild_id, channel_id, new)
        return new

    async def reset_channel(self, guild_id: int, channel_id: int) -> bool:
        async with self.store.write() as tx:
            existed = bool(await self.store.channel_settings([channel_id], tx))
            if existed:
                await self.store.put_channel_setting(tx, guild_id, channel_id, None)
        return existed

    def progress(self, user_id: int) -> int | None:
        return self._progress.get(user_id)

    async def set_progress(self, user_id: int, episode: int | None) -> None:
        if episode is not None:
            self._check_episode(episode)
        async with self.store.write() as tx:
            await self.store.put_progress(tx, user_id, episode)

    # -- writes ------------------------------------------------------------------------------
    @staticmethod
    def scope_of(guild_id: int | None) -> str:
        return CANON if guild_id is None else guild_scope(guild_id)

    def _known_slugs(self, guild_id: int | None, policy: Policy | None = None) -> set[str]:
        """Slugs of the entries a guild sees (with ``policy``: only those introduced within it)."""
        ix = self.index_for(guild_id)
        slugs = {s for index, exclude in ix.layers for s in index.slugs if s not in exclude}
        if policy is None:
            return slugs
        return {s for s in slugs if (rec := ix.find(s)) is not None and policy.reveals(rec[3])}

    def _patchable(self, policy: Policy | None) -> set[str]:
        """Canon entries a server's pack may patch: those the channel sees (all without ``policy``)."""
        canon = self._scopes[CANON].index
        return {s for s in canon.slugs if policy is None or policy.reveals(canon.record(canon.by_slug[s])[3])}

    async def _reload(self, scope: str) -> None:
        rows = await self.store.load_scope(scope, raw_docs=True)
        saved_at = self._snapshot_path() if scope == CANON else None
        canon = None if scope == CANON else self._scopes[CANON]
        if len(rows) >= THREAD_ROWS:  # a large scope is built aside: the loop keeps serving meanwhile
            with paused_gc():
                built = await asyncio.to_thread(_Scope, rows, saved_at, canon)
        else:
            built = _Scope(rows, saved_at=saved_at, canon=canon)
        self._scopes[scope] = built
        if scope == CANON:
            self._layered.clear()
        else:
            self._layered.pop(int(scope.split(":", 1)[1]), None)

    async def _stored(self, tx: Tx, guild_id: int | None, slug: str) -> tuple[Entry | None, Entry | None]:
        """(the entry a guild sees under ``slug`` as stored now, the canon entry a write of it by
        the guild patches), read inside the write. The second is None when the guild's write is a
        whole document: an entry of its own, or one after the guild removed the canon's."""
        exists, doc = await self.store.read_entry(tx, self.scope_of(guild_id), slug)
        if exists and not is_patch(doc):
            return (_parse(doc) if doc is not None else None), None
        if guild_id is None:
            return None, None
        _, canon_doc = await self.store.read_entry(tx, CANON, slug)
        canon = _parse(canon_doc) if canon_doc is not None else None
        return (effective(canon_doc, doc) if exists else canon), canon

    async def _current(self, tx: Tx, guild_id: int | None, slug: str) -> Entry | None:
        """The entry a guild sees under ``slug`` as stored now (read inside the write)."""
        return (await self._stored(tx, guild_id, slug))[0]

    @staticmethod
    def _change(slug: str, entry: Entry | None, base: Entry | None, action: str) -> Change:
        """The write of ``entry``: a patch over the canon entry ``base``, else the whole document."""
        if entry is None or base is None:
            return Change(slug, entry, action)
        return Change(slug, entry, action, patch=diff(base, entry))

    async def _import_in(
        self, tx: Tx, scope: str, pack: Pack | list[Change], author: str, replace: bool = False, size: int = 0
    ) -> ImportReport:
        """Write a pack's entries (or their prepared changes) into ``scope`` within ``tx``,
        compared with the rows stored now."""
        action = "import" if scope != CANON else "canon pack"
        prepared = _prepare(pack, action) if isinstance(pack, Pack) else pack
        current = await self.store.read_docs(tx, scope)
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        removed: list[str] = []
        changes: list[Change] = []
        for change in prepared:
            slug = change.slug
            if change.patch is not None:  # patched as the canon stands inside this write
                _, canon_doc = await self.store.read_entry(tx, CANON, slug)
                entry = effective(canon_doc, change.doc)
                if entry is None:
                    raise PackError([f"patches: {slug!r} no longer fits the canon entry it edits"])
                if entry != change.entry:
                    change = Change(slug, entry, change.action, patch=change.patch)
            doc = current.get(slug)
            if doc is not None and change.entry is not None and _same_doc(doc, change):
                unchanged.append(slug)
                continue
            if change.entry is None:  # a removal: whatever lies beneath (e.g. the canon's) is hidden
                if slug in current and doc is None:
                    unchanged.append(slug)
                else:
                    removed.append(slug)
                    changes.append(change)
                continue
            (updated if slug in current else created).append(slug)
            changes.append(change)
        purge: list[str] = []
        if replace:
            keep = {c.slug for c in prepared}
            purge = [slug for slug in current if slug not in keep]
        if changes or purge:
            await self.store.put_entries(tx, scope, changes, author, purge, import_bytes=size)
        return ImportReport(created, updated, unchanged, removed)

    async def _import(
        self, scope: str, pack: Pack | list[Change], author: str, replace: bool = False, size: int = 0
    ) -> ImportReport:
        async with self.store.write() as tx:
            return await self._import_in(tx, scope, pack, author, replace, size)

    async def import_pack(
        self,
        data: str | bytes,
        *,
        guild_id: int | None,
        author: str,
        filename: str = "pack.yaml",
        policy: Policy | None = None,
    ) -> ImportReport:
        """Validate and import a pack into a guild's scope (or the canon): all or nothing.

        A guild's pack holds whole entries (written as they are) and patches of canon entries (see
        :mod:`lore.patches`), as its export gives them. With ``policy`` (a channel's), relations and
        patches may point only at entries that channel sees: anything else is "no entry", whether
        or not later lore has it.

        Parsing, validation and the rows to write are made before the write (in a worker thread,
        so the event loop keeps serving); the write itself is one transaction of a few statements.
        The garbage collector waits until the import has landed: its full collections over the
        pack's objects would stop every thread, the writer's included, for a few tenths of a second
        each (other servers' commands would wait on them).
        """
        known = self._known_slugs(guild_id, policy) if guild_id is not None else set()
        patchable = self._patchable(policy) if guild_id is not None else set()
        scope = self.scope_of(guild_id)
        action = "import" if guild_id is not None else "canon pack"
        size = len(data.encode() if isinstance(data, str) else data)  # the daily import volume quota
        canon = self._scopes[CANON].docs.copy()
        last = self.franchise.last  # an import adds lore; only the canon pack changes the episode list
        with paused_gc():
            changes = await asyncio.to_thread(_parse_and_prepare, data, filename, known, action, patchable, canon, last)
            return await self._import(scope, changes, author, size=size)

    def export(self, guild_id: int | None, fmt: str = "yaml") -> str:
        """A scope's lore as a pack: for a guild, exactly what it wrote (its own entries whole,
        its edits of canon entries as patches, the entries it removed), which its import takes back."""
        scope = self._scope(self.scope_of(guild_id))
        entries = [_parse(doc) for slug, doc in scope.docs.items() if doc is not None and slug not in scope.patches]
        entries.sort(key=lambda e: (e.kind.value, e.slug))
        patches = [read_patch(scope.patches[slug]) for slug in sorted(scope.patches)]
        removed = sorted(slug for slug, doc in scope.docs.items() if doc is None)
        if guild_id is None:
            meta = self.canon_meta
        else:
            meta = PackMeta(name=f"guild-{guild_id}", title=f"Server lore of guild {guild_id}")
        return dump_pack(Pack(pack=meta, entries=entries, patches=patches, removed=removed), fmt)

    def scope_counts(self) -> dict[str, int]:
        """Entries held by each scope (``canon``, ``guild:<id>``), for the operator's metrics."""
        return {name: sum(1 for d in sc.docs.values() if d is not None) for name, sc in self._scopes.items()}

    def own_entry_count(self, guild_id: int | None) -> int:
        """How many entries the scope itself holds (a guild's own entries and its edits of canon ones)."""
        scope = self._scope(self.scope_of(guild_id))
        return sum(1 for doc in scope.docs.values() if doc is not None) + sum(
            1 for slug in scope.patches if slug not in scope.docs
        )

    def _check_episode(self, episode: int) -> None:
        try:
            self.franchise.check_episode(episode)
        except EpisodeError as e:
            raise LoreError(f"{str(e).removesuffix('.')}; nothing was changed.") from None

    def _build(self, data: dict[str, Any], guild_id: int | None) -> Entry:
        try:
            entry = Entry.model_validate(data)
        except ValidationError as e:
            msgs = []
            for err in e.errors()[:5]:
                where = ".".join(str(p) for p in err["loc"])
                msgs.append(f"{where}: {err['msg']}" if where else err["msg"])
            raise LoreError("That entry is not valid: " + "; ".join(msgs)) from None
        if max(episode_numbers(entry)) > self.franchise.last:
            raise LoreError(f"That entry is not valid: its episodes must be between 0 and {self.franchise.last}")
        if len(entry.slug) > MAX_SLUG and self.get(entry.slug, guild_id) is None:
            raise LoreError(f"That entry is not valid: slug: must be at most {MAX_SLUG} characters")
        known = self._known_slugs(guild_id) | {entry.slug}
        for rel in entry.relations:
            if rel.target not in known:
                raise LoreError(f"The relation target {rel.target!r} does not exist.")
        return entry

    async def save_entry(
        self,
        guild_id: int | None,
        data: dict[str, Any],
        author: str,
        action: str,
        *,
        expect: Entry | object | None = _UNCHECKED,
        policy: Policy | None = None,
    ) -> int:
        """Create or replace an entry in a guild's scope (a patch over the canon entry it edits,
        else a whole document); returns the new revision number. With ``expect``, the entry as
        stored when the write runs must be that one (None: must not exist yet), else
        :class:`StaleEntry` and nothing is saved. With ``expect=None`` and a ``policy``, a canon
        entry beyond the policy counts as not existing: the new entry is the server's own, whole,
        exactly as where that later entry does not exist."""
        async with self.store.write() as tx:
            entry = self._build(data, guild_id)
            current, base = await self._stored(tx, guild_id, entry.slug)
            later = policy is not None and current is not None and not policy.reveals(current.introduced)
            if expect is None and later and current == base:
                current, base = None, None  # a later canon entry: not there for this channel
            if expect is not _UNCHECKED and current != expect:
                raise StaleEntry("That entry changed meanwhile; nothing was saved.")
            if expect is None:
                base = None  # a new entry is the server's own
            revs = await self.store.put_entries(
                tx, self.scope_of(guild_id), [self._change(entry.slug, entry, base, action)], author
            )
        return revs[entry.slug]

    async def edit_entry(
        self,
        guild_id: int,
        slug: str,
        policy: Policy,
        *,
        summary: str,
        aliases: list[tuple[str, int]],
        introduced: int,
        author: str,
        expect: Entry,
    ) -> int | None:
        """The edit form's save: the summary, the introduction and the aliases the channel sees
        (those revealed within ``policy``) become the form's; aliases beyond the policy stay as
        they are, untouched. The entry as stored must still be ``expect`` (else
        :class:`StaleEntry`). Returns the new revision, or None when nothing changed."""
        self._check_episode(introduced)
        async with self.store.write() as tx:
            current, base = await self._stored(tx, guild_id, slug)
            if current is None or current != expect:
                raise StaleEntry("That entry changed meanwhile; nothing was saved.")
            new = self._build(_edited(current, policy, summary, aliases, introduced, whole=base is None), guild_id)
            if new == current:
                return None
            revs = await self.store.put_entries(
                tx, guild_scope(guild_id), [self._change(slug, new, base, "edit")], author
            )
        return revs[slug]

    async def _amend(
        self, guild_id: int, slug: str, author: str, action: str, amend: Callable[[Entry], dict[str, Any]]
    ) -> int:
        """Read the entry as stored, apply ``amend`` to it and save it: one write, so two amends
        of one entry at the same moment both land."""
        scope = self.scope_of(guild_id)
        async with self.store.write() as tx:
            entry, base = await self._stored(tx, guild_id, slug)
            if entry is None:
                raise LoreError("That entry no longer exists in this server's lore; nothing was changed.")
            new = self._build(amend(entry), guild_id)
            revs = await self.store.put_entries(tx, scope, [self._change(slug, new, base, action)], author)
        return revs[slug]

    async def add_fact(
        self, guild_id: int, slug: str, text: str, episode: int, author: str, source: str | None = None
    ) -> int:
        text = text.strip()
        if not 1 <= len(text) <= MAX_FACT_TEXT:
            raise LoreError(f"A fact must be 1 to {MAX_FACT_TEXT} characters long; nothing was changed.")
        self._check_episode(episode)

        def amend(entry: Entry) -> dict[str, Any]:
            fact = Fact(text=text, episode=max(episode, entry.introduced), source=source or f"server {guild_id}")
            data = entry.model_dump()
            data["facts"] = [*data["facts"], fact.model_dump()]
            return data

        return await self._amend(guild_id, slug, author, "add fact", amend)

    async def add_alias(
        self, guild_id: int, slug: str, alias: str, author: str, episode: int = 0, policy: Policy | None = None
    ) -> int:
        """Add a name to an entry. It must be new among the names the channel sees (``policy``):
        a name the entry has only in later episodes is added all the same, as it would be where
        that later name does not exist."""
        alias = alias.strip()
        if not 1 <= len(alias) <= MAX_ALIAS:
            raise LoreError(f"A name must be 1 to {MAX_ALIAS} characters long; nothing was changed.")
        self._check_episode(episode)

        def amend(entry: Entry) -> dict[str, Any]:
            new = Alias(name=alias, episode=max(episode, entry.introduced))
            seen = [a for a in entry.aliases if policy is None or policy.reveals(max(a.episode, entry.introduced))]
            if any(a.name.casefold() == new.name.casefold() for a in seen) or (
                entry.name.casefold() == new.name.casefold()
            ):
                raise LoreError("That entry already has this name.")
            data = entry.model_dump()
            data["aliases"] = [*data["aliases"], new.model_dump()]
            return data

        return await self._amend(guild_id, slug, author, "add alias", amend)

    async def remove_entry(self, guild_id: int, slug: str, author: str) -> int:
        async with self.store.write() as tx:
            if await self._current(tx, guild_id, slug) is None:
                raise LoreError("That entry no longer exists in this server's lore; nothing was changed.")
            revs = await self.store.put_entries(tx, guild_scope(guild_id), [Change(slug, None, "remove")], author)
        return revs[slug]

    async def history(self, guild_id: int | None, slug: str, policy: Policy | None = None) -> History:
        """(scope, revisions) of an entry: the guild's own history, else the canon's.

        With ``policy``, the canon's history is the one a canon without the lore beyond it would
        have: a revision that changed only later lore is not listed (the canon's revisions are
        numbered as listed: a server cannot revert them, and a gap would tell)."""
        scope = self.scope_of(guild_id)
        revs = await self.store.history(scope, slug)
        if not revs and guild_id is not None:
            revs = await self.store.history(CANON, slug)
            if policy is not None and policy.holds_back(self.franchise.last):
                revs = await self._seen_revisions(slug, revs, policy.episode)
            return History(CANON, revs)
        return History(scope, revs)

    # -- what an admin command acts on -------------------------------------------------------
    def new_slug(self, name: str, policy: Policy, guild_id: int) -> str:
        """The slug a new entry called ``name`` gets; ``EntryExists`` when it is :meth:`taken`."""
        slug = slugify(name)
        if self.taken(slug, policy, guild_id):
            raise EntryExists(ENTRY_EXISTS)
        return slug

    def edit_target(self, name: str, policy: Policy, guild_id: int, *, exact: bool = True) -> Entry:
        """The entry an admin command acts on, found as the channel would find it: a picked
        suggestion (its slug) or, with ``exact``, a name or alias typed in full; a guess is only
        offered back (``LoreError`` otherwise, nothing changed).

        Lore beyond the channel's spoiler setting is out of reach here: under ``hide`` it does not
        exist, and under ``tag`` the reply says only that it lies beyond (naming it, or putting it
        in a form or a button, would be the reveal)."""
        answer = self.ask(name, policy, guild_id)
        view = answer.view
        if view is None or answer.result.match is None:
            if answer.result.ambiguous:
                raise LoreError("That name matches several entries: pick one from the suggestions.")
            raise LoreError(f"No entry called “{echo(name)}” in this server's lore.")
        if exact and not answer.exact:
            raise LoreError(
                f"No entry is called exactly “{echo(name)}”. Did you mean **{escape(view.name)}**? "
                "Pick it from the suggestions or type its full name; nothing was changed."
            )
        entry = self.get(view.slug, guild_id)
        if entry is None:  # pragma: no cover - the index and documents change together
            raise LoreError("That entry is no longer available.")
        return entry

    async def history_target(self, name: str, policy: Policy, guild_id: int, *, exact: bool) -> tuple[str, str]:
        """(slug, name to show) for history and revert, which also reach an entry this guild
        removed: by the canon's name for it (when the channel may see that), or by its slug."""
        try:
            entry = self.edit_target(name, policy, guild_id, exact=exact)
            return entry.slug, entry.name
        except LoreError:
            canon = self.ask(name, policy, None)
            candidates = []
            # only for an entry this guild removed: a live version of its own (ambiguous, inexact
            # or beyond the channel) was judged above, and must not be reached around
            if canon.view is not None and (canon.exact or not exact) and self.get(canon.view.slug, guild_id) is None:
                candidates.append((canon.view.slug, canon.view.name))
            if self.get(name, guild_id) is None and not self.canon_visible(name, policy):
                candidates.append((name, name))  # a guild's own entry that it removed, by slug
            for slug, shown in candidates:
                if (await self.history(guild_id, slug)).own:
                    return slug, shown
            raise

    def restores(self, slug: str, removal: int, policy: Policy) -> int:
        """The revision that brings back ``slug`` after the guild's removal at revision ``removal``:
        0 (the canon's version) for a canon entry the channel sees, else the one before."""
        return 0 if self.canon_visible(slug, policy) else removal - 1

    async def _seen_revisions(self, slug: str, revs: list[RevisionInfo], episode: int) -> list[RevisionInfo]:
        """The canon revisions of ``slug`` that change what a viewer at ``episode`` sees."""
        introduced = {e.slug: e.introduced for e in self.entries(None)}
        out: list[RevisionInfo] = []
        last: object = _UNCHECKED
        for rev in revs:
            _exists, doc = await self.store.revision_doc(CANON, slug, rev.number)
            seen = visible_entry(_parse(doc), episode, introduced) if doc is not None else None
            if out and seen == last:
                continue
            last = seen
            out.append(dataclasses.replace(rev, number=len(out) + 1))
        return out

    def taken(self, slug: str, policy: Policy, guild_id: int) -> bool:
        """Whether a new entry of the guild may not have ``slug``: the guild's own lore has it, or
        a canon entry the channel (``policy``) sees. A later canon entry does not count: the new
        entry is the guild's own, as it would be where that later entry does not exist."""
        g = self._scopes.get(guild_scope(guild_id))
        if g is not None and (slug in g.docs or slug in g.patches):
            return g.docs.get(slug) is not None
        entry = self.get(slug)
        return entry is not None and policy.reveals(entry.introduced)

    def canon_visible(self, slug: str, policy: Policy | None = None) -> bool:
        """Whether the canon has ``slug`` for a channel under ``policy`` (a later canon entry is,
        for that channel, as if the canon did not have it)."""
        entry = self.get(slug)
        return entry is not None and (policy is None or policy.reveals(entry.introduced))

    def follows_canon(self, guild_id: int, slug: str) -> bool:
        """Whether the guild sees the canon's own version of ``slug`` (it has not edited or removed it)."""
        g = self._scopes.get(guild_scope(guild_id))
        return slug in self._scopes[CANON].docs and (g is None or slug not in g.docs)

    async def follow_canon(self, guild_id: int, slug: str, author: str, policy: Policy | None = None) -> int:
        """Drop the guild's edit or removal of a canon entry: the guild sees the canon's version
        again, and later canon upgrades reach it. The guild keeps its history of the entry. A canon
        entry beyond ``policy`` counts as none (the reply is the one without it)."""
        async with self.store.write() as tx:
            return await self._follow_canon_in(tx, guild_id, slug, author, policy)

    async def _follow_canon_in(
        self, tx: Tx, guild_id: int, slug: str, author: str, policy: Policy | None = None
    ) -> int:
        scope = guild_scope(guild_id)
        exists, canon_doc = await self.store.read_entry(tx, CANON, slug)
        if exists and canon_doc is not None and policy is not None:
            exists = policy.reveals(_parse(canon_doc).introduced)
        if not exists:
            raise LoreError("That entry is this server's own: there is no canon version to go back to.")
        if not (await self.store.read_entry(tx, scope, slug))[0]:
            raise LoreError("This server already follows the canon for that entry; nothing changed.")
        return await self.store.drop_entry(tx, scope, slug, author, FOLLOW_CANON)

    async def revert(
        self, guild_id: int | None, slug: str, number: int, author: str, policy: Policy | None = None
    ) -> int:
        """Restore revision ``number`` of the guild's entry; 0 (or a revision that went back to the
        canon) makes the guild follow the canon again (a canon entry beyond ``policy`` counts as
        none). A revision that edited a canon entry is applied to the canon as it is now."""
        if not 0 <= number <= MAX_REVISION:
            raise LoreError(f"A revision number is between 0 and {MAX_REVISION:,}; nothing changed.")
        scope = self.scope_of(guild_id)
        async with self.store.write() as tx:
            if guild_id is not None and number == 0:
                return await self._follow_canon_in(tx, guild_id, slug, author, policy)
            exists, doc = await self.store.revision_doc(scope, slug, number, tx)
            if not exists:
                canon = self.canon_visible(slug, policy)
                hint = " (revision 0 is the canon's version)" if canon else ""
                raise LoreError(f"This server has no revision {number} of that entry{hint}; nothing changed.")
            if doc is None and guild_id is not None:
                history = await self.store.history(scope, slug, tx)
                action = next((r.action for r in history if r.number == number), "")
                if action == FOLLOW_CANON:
                    return await self._follow_canon_in(tx, guild_id, slug, author, policy)
            action = f"revert to {number}"
            if is_patch(doc):  # an edit of the canon entry: applied to the canon as it is now
                _, canon_doc = await self.store.read_entry(tx, CANON, slug)
                entry = effective(canon_doc, doc)
                if entry is None:
                    raise LoreError(
                        f"Revision {number} edited the canon's version of this entry, which no longer fits "
                        "the canon; nothing changed."
                    )
                change = Change(slug, entry, action, patch=read_patch(doc))
            else:
                change = Change(slug, _parse(doc) if doc is not None else None, action)
            revs = await self.store.put_entries(tx, scope, [change], author)
        return revs[slug]


def _franchise_meta(pack: Pack) -> PackMeta:
    """The canon pack's metadata as stored: with its episode list, counted from the pack when it
    declares none (so every process, and a database opened without the pack, agrees on it)."""
    if pack.pack.episodes is not None:
        return pack.pack
    return pack.pack.model_copy(update={"episodes": EpisodeList(count=Franchise.of(pack.pack, pack).last)})


def _prepare(pack: Pack, action: str, canon: dict[str, bytes | None] | None = None) -> list[Change]:
    """The writes of a pack: its entries whole, its patches over the ``canon`` documents, its removals."""
    if action == "canon pack" and (pack.patches or pack.removed):
        raise PackError(["(pack): 'patches' and 'removed' belong to a server's lore, not to the canon"])
    changes = [Change(entry.slug, entry, action) for entry in pack.entries]
    changes.extend(Change(slug, None, action) for slug in pack.removed)
    errors = []
    for i, patch in enumerate(pack.patches):
        try:
            entry = apply_patch(_parse((canon or {})[patch.slug]), patch)
        except (KeyError, TypeError):
            errors.append(f"patches[{i}].slug: no canon entry {patch.slug!r} to patch")
            continue
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            errors.append(f"patches[{i}]: the patched entry is not valid: {where + ': ' if where else ''}{err['msg']}")
            continue
        changes.append(Change(patch.slug, entry, action, patch=patch))
    if errors:
        raise PackError(errors)
    return changes


def _parse_and_prepare(
    data: str | bytes,
    filename: str,
    known: set[str],
    action: str,
    patchable: set[str] | None = None,
    canon: dict[str, bytes | None] | None = None,
    last_episode: int | None = None,
) -> list[Change]:
    text = parse_text(data, name=filename)
    pack = validate(text, known_slugs=known, patchable=patchable or (), last_episode=last_episode)
    return _prepare(pack, action, canon)


def _same_doc(doc: str, change: Change) -> bool:
    """Whether a stored document already is what ``change`` writes."""
    if doc == change.doc:
        return True
    if is_patch(doc) or change.patch is not None:
        return is_patch(doc) and change.patch is not None and read_patch(doc) == change.patch
    return _parse(doc) == change.entry


def _edited(
    entry: Entry, policy: Policy, summary: str, aliases: list[tuple[str, int]], introduced: int, *, whole: bool
) -> dict[str, Any]:
    """``entry`` as the edit form saves it (see :meth:`LoreService.edit_entry`). A whole document's
    items are raised to its introduction (its pack must validate); a patched canon entry's items are
    not touched (the canon's stay the canon's)."""
    shown = {(a.name, a.episode): a for a in entry.aliases if policy.reveals(a.episode)}
    out: list[dict[str, Any]] = []
    for name, episode in aliases:
        episode = max(episode, introduced) if whole else episode
        known = shown.get((name, episode))
        out.append(known.model_dump() if known is not None else {"name": name, "episode": episode})
    for hidden in entry.aliases:
        if not policy.reveals(hidden.episode):
            out.append({**hidden.model_dump(), "episode": max(hidden.episode, introduced) if whole else hidden.episode})
    data = entry.model_dump()
    if whole:
        for group in ("facts", "attributes", "relations"):
            for item in data[group]:
                item["episode"] = max(item["episode"], introduced)
    data.update(summary=summary.strip(), aliases=out, introduced=introduced)
    return data


def _first_errors(error: PackError, n: int = 3) -> str:
    head = "; ".join(error.errors[:n])
    more = len(error.errors) - n
    return head + (f" (and {more} more)" if more > 0 else "")


__all__ = [
    "Answer",
    "CanonPackError",
    "LoreError",
    "LoreService",
    "PackError",
    "Roster",
    "RosterLine",
    "SearchHit",
    "SearchResults",
    "StaleEntry",
]
