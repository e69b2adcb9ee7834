"""The lore service: the one object adapters (the Discord bot, the CLI) talk to.

It owns the store, keeps every scope's documents and name indexes in memory (so lookups and
autocomplete never touch the disk), resolves spoiler policies from cached settings, and performs
writes as single transactions, refreshing the affected index afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import json
import logging
import marshal
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lore.errors import LoreError as LoreError
from lore.errors import PackError
from lore.model import MAX_EPISODE, MAX_SLUG, Alias, Entry, Fact, Kind, Pack, PackMeta
from lore.packs import CANON_PACK_PATH, ImportReport, dump_pack, parse_text, validate
from lore.render import Appearance, EntryView, render_entry
from lore.search import Candidate, LayeredIndex, LookupResult, NameIndex
from lore.spoilers import Mode, Policy, Setting, resolve_policy
from lore.store import CANON, FOLLOW_CANON, Change, RevisionInfo, Store, StoredEntry, guild_scope

log = logging.getLogger(__name__)

CANON_AUTHOR = "canon pack"


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

    @property
    def found(self) -> bool:
        return self.view is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "match": self.view.to_json() if self.view else None,
            "candidates": [c.to_json() for c in self.result.candidates],
            "ambiguous": self.result.ambiguous,
            "hidden": self.view.hidden if self.view else 0,
        }


@dataclass(frozen=True, slots=True)
class RosterLine:
    slug: str
    name: str
    status: str | None  # final text (spoiler-tagged under tag)
    spoiler: bool


@dataclass(slots=True)
class Roster:
    group: EntryView
    members: list[RosterLine]
    hidden: int  # members or fates held back under the policy


@dataclass(frozen=True, slots=True)
class SearchHit:
    slug: str
    name: str
    kind: Kind
    snippet: str
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
    ``snapshot`` path reuses the index saved there when its rows are the ones it was built from.
    """

    def __init__(self, rows: Iterable[StoredEntry], snapshot: Path | None = None):
        rows = list(rows)
        self.generation = next(_GENERATIONS)
        self._relation_sources: dict[str, list[str]] | None = None
        self.docs: dict[str, bytes | None] = {
            row.slug: (row.doc.encode() if isinstance(row.doc, str) else row.doc) for row in rows
        }
        self.member_of: dict[str, list[tuple[str, int]]] = {}
        live = [row for row in rows if row.doc is not None]
        del rows
        fingerprint = None
        if snapshot is not None and len(live) >= SNAPSHOT_MIN_ENTRIES:
            fingerprint = _fingerprint(live)
            saved = _read_snapshot(snapshot, fingerprint) if fingerprint else None
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
        if snapshot is not None and fingerprint:
            _write_snapshot(snapshot, fingerprint, {"index": self.index.state(), "member_of": self.member_of})

    def relation_sources(self) -> dict[str, list[str]]:
        """Target slug -> slugs of this scope's entries with a relation to it (built on first use)."""
        index = self._relation_sources
        if index is None:
            index = {}
            for slug, doc in self.docs.items():
                if doc is None:
                    continue
                for target in sorted({rel.target for rel in _parse(doc).relations}):
                    index.setdefault(target, []).append(slug)
            self._relation_sources = index
        return index


#: Scopes with at least this many entries keep a snapshot of their built index next to the
#: database (building takes about 2 s at 100,000 entries, loading the snapshot under half a second).
SNAPSHOT_MIN_ENTRIES = 20_000
_SNAPSHOT_MAGIC = b"lorebot-index-snapshot 1 "


@lru_cache(maxsize=1)
def _code_digest() -> bytes | None:
    """What the index is built by: a snapshot made by other code is not reused (None: unknown)."""
    from lore import normalize, search

    h = hashlib.sha256()
    try:
        for module in (normalize, search, sys.modules[__name__]):
            h.update(Path(module.__file__ or "").read_bytes())
    except OSError:
        return None
    return h.digest()


def _fingerprint(live: list[StoredEntry]) -> str | None:
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


def _read_snapshot(path: Path, fingerprint: str) -> tuple[NameIndex, dict[str, list[tuple[str, int]]]] | None:
    try:
        with open(path, "rb") as f:
            if f.readline() != _SNAPSHOT_MAGIC + fingerprint.encode() + b"\n":
                return None
            state = marshal.loads(f.read())
        return NameIndex.from_state(state["index"]), state["member_of"]
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, TypeError, KeyError) as e:
        log.warning("ignoring the index snapshot %s: %s", path, e)
        return None


def _write_snapshot(path: Path, fingerprint: str, state: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(_SNAPSHOT_MAGIC + fingerprint.encode() + b"\n")
            f.write(marshal.dumps(state))
        os.replace(tmp, path)
    except (OSError, ValueError) as e:
        log.warning("could not save the index snapshot %s: %s", path, e)
        with contextlib.suppress(OSError):
            tmp.unlink()


_KIND_OF = {k.value: k for k in Kind}


class LoreService:
    def __init__(self, store: Store):
        self.store = store
        self._scopes: dict[str, _Scope] = {}
        self._layered: dict[int | None, LayeredIndex] = {}
        self._episodes: dict[int | None, tuple[LayeredIndex, dict[int, str]]] = {}
        self._casts: dict[int | None, tuple[dict[int, str], dict[str, list[Appearance]]]] = {}
        self._guild_settings: dict[int, Setting] = {}
        self._channel_settings: dict[int, tuple[int, Setting]] = {}
        self._progress: dict[int, int] = {}
        self.canon_meta: PackMeta = PackMeta(name="canon")

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    async def open(cls, path: str | Path, *, canon_pack: Path | None = CANON_PACK_PATH) -> LoreService:
        """Open (creating and migrating as needed) the database at ``path``; fill or upgrade the
        canon from ``canon_pack`` when it is newer than the one stored."""
        store = await Store.open(path)
        svc = cls(store)
        try:
            await svc._load()
            if canon_pack is not None:
                await svc.apply_canon_pack(canon_pack)
        except BaseException:
            await store.close()
            raise
        return svc

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> LoreService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _load(self) -> None:
        # Building the indexes allocates millions of small objects, none of them garbage: the
        # cyclic collector would rescan the growing heap over and over (2 s of 5 at 100,000 entries).
        collecting = gc.isenabled()
        gc.disable()
        try:
            rows = await self.store.load_all_scopes(raw_docs=True)
            self._scopes = {CANON: _Scope(rows.pop(CANON, ()), snapshot=self._snapshot_path())}
            while rows:  # each scope's rows are dropped as soon as its index is built
                scope = next(iter(rows))
                self._scopes[scope] = _Scope(rows.pop(scope))
            del rows
        finally:
            if collecting:
                gc.enable()
        self._layered.clear()
        meta = await self.store.get_meta("canon_meta")
        if meta:
            self.canon_meta = PackMeta.model_validate_json(meta)
        g, c, p = await self.store.load_settings()
        self._guild_settings, self._channel_settings, self._progress = g, c, p

    def _snapshot_path(self) -> Path | None:
        """Where the canon's index snapshot lives: next to the database file (none in memory)."""
        if self.store.path == ":memory:" or self.store.path.startswith("file:"):
            return None
        return Path(f"{self.store.path}-canon-index")

    async def apply_canon_pack(self, path: Path, *, force: bool = False) -> ImportReport | None:
        """Apply the canon pack at ``path`` if it is newer than the stored canon (or ``force``).

        Guild scopes are never touched: their overrides keep shadowing the canon entries they copy.
        """
        try:
            raw = Path(path).read_bytes()
        except FileNotFoundError:
            log.warning("canon pack %s not found; the canon stays as stored", path)
            return None
        digest = hashlib.sha256(raw).hexdigest()
        if not force and await self.store.get_meta("canon_sha256") == digest:
            return None
        pack = validate(parse_text(raw, name=Path(path).name))
        stored = await self.store.get_meta("canon_version")
        if not force and stored is not None and int(stored) >= pack.pack.version:
            await self.store.set_meta("canon_sha256", digest)
            return None
        report = await self._import(CANON, pack, author=CANON_AUTHOR, replace=True)
        await self.store.set_meta("canon_version", str(pack.pack.version))
        await self.store.set_meta("canon_sha256", digest)
        await self.store.set_meta("canon_meta", pack.pack.model_dump_json())
        self.canon_meta = pack.pack
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

    def render(
        self, entry: Entry, policy: Policy, guild_id: int | None = None, reached_at: int | None = None
    ) -> EntryView | None:
        ix = self.index_for(guild_id)

        def targets(slug: str) -> tuple[str, int] | None:
            rec = ix.find(slug)
            return (rec[1], rec[3]) if rec else None

        appearances = self._appearances(guild_id).get(entry.slug, ()) if entry.kind is Kind.CHARACTER else ()
        return render_entry(entry, policy, reached_at=reached_at, targets=targets, appearances=appearances)

    def ask(
        self, query: str, policy: Policy, guild_id: int | None = None, kinds: Iterable[Kind] | None = None
    ) -> Answer:
        result = self.index_for(guild_id).lookup(query, policy, kinds)
        view = None
        if result.match is not None:
            entry = self.get(result.match.slug, guild_id)
            if entry is not None:
                view = self.render(entry, policy, guild_id, reached_at=result.match.episode)
        return Answer(query, policy, result, view)

    def complete(
        self,
        text: str,
        policy: Policy,
        guild_id: int | None = None,
        kinds: Iterable[Kind] | None = None,
        limit: int = 25,
    ) -> list[Candidate]:
        return self.index_for(guild_id).complete(text, policy, kinds, limit)

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
                if slug in exclude or index.record(e)[2] is not Kind.EPISODE:
                    continue
                entry = self.get(slug, guild_id)
                if entry is not None and entry.episode is not None:
                    numbers[entry.episode.number] = slug
        self._episodes[guild_id] = (ix, numbers)
        return numbers

    def roster(self, group_slug: str, policy: Policy, guild_id: int | None = None) -> Roster | None:
        """The members of a group (e.g. the Immortal Nine), each with their status, gated."""
        group = self.get(group_slug, guild_id)
        if group is None:
            return None
        group_view = self.render(group, policy, guild_id)
        if group_view is None:
            return None
        own = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        layers: list[tuple[_Scope, frozenset[str]]] = [(own, frozenset())] if own is not None else []
        layers.append((self._scopes[CANON], frozenset(own.docs) if own is not None else frozenset()))
        members: dict[str, int] = {}
        for scope, exclude in layers:
            for slug, ep in scope.member_of.get(group_slug, ()):
                if slug not in exclude:
                    members.setdefault(slug, ep)
        lines: list[RosterLine] = []
        hidden = 0
        for slug, ep in members.items():
            entry = self.get(slug, guild_id)
            if entry is None:
                continue
            gate = max(ep, entry.introduced)
            if gate > policy.episode and policy.mode is not Mode.SHOW:
                hidden += 1
                continue
            view = self.render(entry, policy, guild_id)
            if view is None:
                hidden += 1
                continue
            status = view.status.text if view.status else None
            if policy.mode is Mode.HIDE and view.status is None and entry.status is not None:
                hidden += 1
            lines.append(RosterLine(slug, view.title, status, bool(view.status and view.status.spoiler)))
        lines.sort(key=lambda ln: ln.name.casefold())
        return Roster(group_view, lines, hidden)

    async def search_text(
        self, text: str, policy: Policy, guild_id: int | None = None, limit: int = 50
    ) -> SearchResults:
        """Full-text search over names, summaries, facts and attributes the viewer may see."""
        words = re.findall(r"\w+", text)
        out = SearchResults(query=text)
        if not words:
            return out
        match = " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + f'"{words[-1]}"*'
        scopes = [CANON] + ([guild_scope(guild_id)] if guild_id is not None else [])
        ix = self.index_for(guild_id)
        g = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        bound = 10**6 if policy.mode is Mode.SHOW else policy.episode
        seen: set[str] = set()
        for hit in await self.store.search_text(match, scopes):
            if hit.scope == CANON and g is not None and hit.slug in g.docs:
                continue  # shadowed by this guild's override or removal
            rec = ix.find(hit.slug)
            if rec is None:
                continue
            slug, name, kind, introduced = rec
            if introduced > bound or hit.episode > bound:
                continue
            if slug in seen:
                continue  # one hit per entry: its best-ranked passage
            seen.add(slug)
            if len(out.hits) < limit:
                snippet = hit.snippet
                if hit.part == "name":  # the field already shows the name: show what the entry is
                    entry = self.get(slug, guild_id)
                    summary = entry.summary_at(min(bound, MAX_EPISODE)) if entry is not None else ""
                    snippet = summary or snippet
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
        """Set the server's (or one channel's) episode and/or mode, keeping the other part."""
        if episode is not None and not 0 <= episode <= MAX_EPISODE:
            raise LoreError(f"The episode must be between 0 and {MAX_EPISODE}.")
        if channel_id is None:
            old = self._guild_settings.get(guild_id, Setting())
            new = Setting(episode if episode is not None else old.episode, mode or old.mode)
            await self.store.save_guild_setting(guild_id, new)
            self._guild_settings[guild_id] = new
        else:
            old = self._channel_settings.get(channel_id, (guild_id, Setting()))[1]
            new = Setting(episode if episode is not None else old.episode, mode or old.mode)
            await self.store.save_channel_setting(guild_id, channel_id, new)
            self._channel_settings[channel_id] = (guild_id, new)
        return new

    async def reset_channel(self, guild_id: int, channel_id: int) -> bool:
        existed = channel_id in self._channel_settings
        await self.store.save_channel_setting(guild_id, channel_id, None)
        self._channel_settings.pop(channel_id, None)
        return existed

    def progress(self, user_id: int) -> int | None:
        return self._progress.get(user_id)

    async def set_progress(self, user_id: int, episode: int | None) -> None:
        if episode is not None and not 0 <= episode <= MAX_EPISODE:
            raise LoreError(f"The episode must be between 0 and {MAX_EPISODE}.")
        await self.store.save_progress(user_id, episode)
        if episode is None:
            self._progress.pop(user_id, None)
        else:
            self._progress[user_id] = episode

    # -- writes ------------------------------------------------------------------------------
    @staticmethod
    def scope_of(guild_id: int | None) -> str:
        return CANON if guild_id is None else guild_scope(guild_id)

    def _known_slugs(self, guild_id: int | None) -> set[str]:
        ix = self.index_for(guild_id)
        return {s for index, exclude in ix.layers for s in index.slugs if s not in exclude}

    async def _commit(self, scope: str, changes: list[Change], author: str, purge: Iterable[str] = ()) -> None:
        purge = list(purge)
        await self.store.write(scope, changes, author, purge=purge)
        await self._reload(scope)

    async def _reload(self, scope: str) -> None:
        self._scopes[scope] = _Scope(await self.store.load_scope(scope, raw_docs=True))
        if scope == CANON:
            self._layered.clear()
        else:
            self._layered.pop(int(scope.split(":", 1)[1]), None)

    async def _import(self, scope: str, pack: Pack, author: str, replace: bool = False) -> ImportReport:
        current = self._scope(scope).docs
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        changes: list[Change] = []
        for entry in pack.entries:
            doc = current.get(entry.slug)
            if doc is not None and _parse(doc) == entry:
                unchanged.append(entry.slug)
                continue
            (updated if entry.slug in current else created).append(entry.slug)
            changes.append(Change(entry.slug, entry, "import" if scope != CANON else "canon pack"))
        purge: list[str] = []
        if replace:
            keep = {e.slug for e in pack.entries}
            purge = [slug for slug in current if slug not in keep]
        if changes or purge:
            await self._commit(scope, changes, author, purge)
        return ImportReport(created, updated, unchanged)

    async def import_pack(
        self, data: str | bytes, *, guild_id: int | None, author: str, filename: str = "pack.yaml"
    ) -> ImportReport:
        """Validate and import a pack into a guild's scope (or the canon): all or nothing."""
        known = self._known_slugs(guild_id) if guild_id is not None else set()
        pack = validate(parse_text(data, name=filename), known_slugs=known)
        return await self._import(self.scope_of(guild_id), pack, author)

    def export(self, guild_id: int | None, fmt: str = "yaml") -> str:
        scope = self._scope(self.scope_of(guild_id))
        entries = [_parse(doc) for doc in scope.docs.values() if doc is not None]
        entries.sort(key=lambda e: (e.kind.value, e.slug))
        if guild_id is None:
            meta = self.canon_meta
        else:
            meta = PackMeta(name=f"guild-{guild_id}", title=f"Server lore of guild {guild_id}")
        return dump_pack(Pack(pack=meta, entries=entries), fmt)

    def own_entry_count(self, guild_id: int | None) -> int:
        """How many entries the scope itself holds (a guild's own entries and overrides)."""
        return sum(1 for doc in self._scope(self.scope_of(guild_id)).docs.values() if doc is not None)

    def _build(self, data: dict[str, Any], guild_id: int | None) -> Entry:
        try:
            entry = Entry.model_validate(data)
        except ValidationError as e:
            msgs = []
            for err in e.errors()[:5]:
                where = ".".join(str(p) for p in err["loc"])
                msgs.append(f"{where}: {err['msg']}" if where else err["msg"])
            raise LoreError("That entry is not valid: " + "; ".join(msgs)) from None
        if len(entry.slug) > MAX_SLUG and self.get(entry.slug, guild_id) is None:
            raise LoreError(f"That entry is not valid: slug: must be at most {MAX_SLUG} characters")
        known = self._known_slugs(guild_id) | {entry.slug}
        for rel in entry.relations:
            if rel.target not in known:
                raise LoreError(f"The relation target {rel.target!r} does not exist.")
        return entry

    async def save_entry(self, guild_id: int | None, data: dict[str, Any], author: str, action: str) -> int:
        """Create or replace an entry in a guild's scope (copy-on-write over the canon)."""
        entry = self._build(data, guild_id)
        revs = await self._write_one(guild_id, Change(entry.slug, entry, action), author)
        return revs

    async def _write_one(self, guild_id: int | None, change: Change, author: str) -> int:
        scope = self.scope_of(guild_id)
        await self._commit(scope, [change], author)
        hist = await self.store.history(scope, change.slug)
        return hist[-1].number

    def _require(self, slug: str, guild_id: int | None) -> Entry:
        entry = self.get(slug, guild_id)
        if entry is None:
            raise LoreError("No such entry.")
        return entry

    async def add_fact(
        self, guild_id: int, slug: str, text: str, episode: int, author: str, source: str | None = None
    ) -> int:
        entry = self._require(slug, guild_id)
        fact = Fact(text=text, episode=max(episode, entry.introduced), source=source or f"server {guild_id}")
        data = entry.model_dump()
        data["facts"] = [*data["facts"], fact.model_dump()]
        return await self.save_entry(guild_id, data, author, "add fact")

    async def add_alias(self, guild_id: int, slug: str, alias: str, author: str, episode: int = 0) -> int:
        entry = self._require(slug, guild_id)
        new = Alias(name=alias, episode=max(episode, entry.introduced))
        if any(a.name.casefold() == new.name.casefold() for a in entry.aliases) or (
            entry.name.casefold() == new.name.casefold()
        ):
            raise LoreError("That entry already has this name.")
        data = entry.model_dump()
        data["aliases"] = [*data["aliases"], new.model_dump()]
        return await self.save_entry(guild_id, data, author, "add alias")

    async def remove_entry(self, guild_id: int, slug: str, author: str) -> int:
        self._require(slug, guild_id)
        return await self._write_one(guild_id, Change(slug, None, "remove"), author)

    async def history(self, guild_id: int | None, slug: str) -> tuple[str, list[RevisionInfo]]:
        """(scope, revisions) of an entry: the guild's own history, else the canon's."""
        scope = self.scope_of(guild_id)
        revs = await self.store.history(scope, slug)
        if not revs and guild_id is not None:
            return CANON, await self.store.history(CANON, slug)
        return scope, revs

    def follows_canon(self, guild_id: int, slug: str) -> bool:
        """Whether the guild sees the canon's own version of ``slug`` (it has not edited or removed it)."""
        g = self._scopes.get(guild_scope(guild_id))
        return slug in self._scopes[CANON].docs and (g is None or slug not in g.docs)

    async def follow_canon(self, guild_id: int, slug: str, author: str) -> int:
        """Drop the guild's edit or removal of a canon entry: the guild sees the canon's version
        again, and later canon upgrades reach it. The guild keeps its history of the entry."""
        if slug not in self._scopes[CANON].docs:
            raise LoreError("That entry is this server's own: there is no canon version to go back to.")
        if self.follows_canon(guild_id, slug):
            raise LoreError("This server already follows the canon for that entry; nothing changed.")
        scope = guild_scope(guild_id)
        number = await self.store.drop(scope, slug, author, FOLLOW_CANON)
        await self._reload(scope)
        return number

    async def revert(self, guild_id: int | None, slug: str, number: int, author: str) -> int:
        """Restore revision ``number`` of the guild's entry; 0 (or a revision that went back to the
        canon) makes the guild follow the canon again."""
        scope = self.scope_of(guild_id)
        if guild_id is not None and number == 0:
            return await self.follow_canon(guild_id, slug, author)
        exists, doc = await self.store.revision_doc(scope, slug, number)
        if not exists:
            hint = " (revision 0 is the canon's version)" if slug in self._scopes[CANON].docs else ""
            raise LoreError(f"This server has no revision {number} of that entry{hint}; nothing changed.")
        if doc is None and guild_id is not None:
            action = next((r.action for r in await self.store.history(scope, slug) if r.number == number), "")
            if action == FOLLOW_CANON:
                return await self.follow_canon(guild_id, slug, author)
        entry = _parse(doc) if doc is not None else None
        return await self._write_one(guild_id, Change(slug, entry, f"revert to {number}"), author)


__all__ = [
    "Answer",
    "LoreError",
    "LoreService",
    "PackError",
    "Roster",
    "RosterLine",
    "SearchHit",
    "SearchResults",
]
