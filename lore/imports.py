"""Packs in and out: the canon pack applied when it is newer than the stored canon, a server's
pack imported all or nothing, a scope's lore exported as the pack its import takes back."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from lore.errors import CanonPackError, PackError
from lore.franchise import Franchise
from lore.gcpause import paused_gc
from lore.model import EpisodeList, Pack, PackMeta
from lore.packs import ImportReport, dump_pack, pack_digest, parse_text, read_pack_bytes, validate
from lore.patches import apply_patch, effective, is_patch, read_patch
from lore.scope import parse_entry
from lore.spoilers import Policy
from lore.state import LoreState
from lore.store import CANON, Change, Tx

log = logging.getLogger(__name__)

CANON_AUTHOR = "canon pack"
T = TypeVar("T")


class Imports(LoreState):
    """The canon pack, and packs imported into and exported from a scope."""

    async def apply_canon_pack(
        self, path: Path, *, force: bool = False, digest: Awaitable[str] | None = None
    ) -> ImportReport | None:
        """Apply the canon pack at ``path`` if it is newer than the stored canon (or ``force``).

        Guild scopes are never touched: their overrides keep shadowing the canon entries they copy.
        A missing pack is a fault only while the database holds no canon; a damaged one always is.
        ``digest`` is the file's :func:`~lore.packs.pack_digest` already on its way (start-up reads
        it beside the load); the file is read whole only when it is not the canon stored.
        """
        path = Path(path)
        if digest is None:
            digest = asyncio.to_thread(pack_digest, path, canon=True)
        found = await self._read_canon(path, digest)
        if found is None or (not force and await self.store.get_meta("canon_sha256") == found):
            return None
        raw = await self._read_canon(path, asyncio.to_thread(read_pack_bytes, path, canon=True))  # the host's own file
        if raw is None:
            return None
        sha256 = hashlib.sha256(raw).hexdigest()  # of the bytes applied (the file may have changed since)
        try:
            pack = validate(parse_text(raw, name=path.name, canon=True))
        except PackError as e:
            raise CanonPackError(f"the canon pack {path} is damaged: {_first_errors(e)}") from None
        changes = _prepare(pack, "canon pack")  # before taking the writer (another process may wait on it)
        async with self.store.write() as tx:
            if not force:  # looked at again inside the write: another process may have applied it
                if await self.store.get_meta("canon_sha256", tx) == sha256:
                    return None
                stored = await self.store.get_meta("canon_version", tx)
                if stored is not None and int(stored) >= pack.pack.version:
                    await self.store.put_meta(tx, "canon_sha256", sha256)
                    return None
            report = await self._import_in(tx, CANON, changes, author=CANON_AUTHOR, replace=True)
            await self.store.put_meta(tx, "canon_version", str(pack.pack.version))
            await self.store.put_meta(tx, "canon_sha256", sha256)
            await self.store.put_meta(tx, "canon_meta", _franchise_meta(pack).model_dump_json())
        log.info("canon pack %s v%d applied: %s", pack.pack.name, pack.pack.version, report.summary())
        return report

    async def _read_canon(self, path: Path, reading: Awaitable[T]) -> T | None:
        """What ``reading`` gives of the canon pack at ``path``; None when the file is gone while
        the database holds a canon (which then stays as stored). Its faults are sentences."""
        try:
            return await reading
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
        entries = [
            parse_entry(doc) for slug, doc in scope.docs.items() if doc is not None and slug not in scope.patches
        ]
        entries.sort(key=lambda e: (e.kind.value, e.slug))
        patches = [read_patch(scope.patches[slug]) for slug in sorted(scope.patches)]
        removed = sorted(slug for slug, doc in scope.docs.items() if doc is None)
        if guild_id is None:
            meta = self.canon_meta
        else:
            meta = PackMeta(name=f"guild-{guild_id}", title=f"Server lore of guild {guild_id}")
        return dump_pack(Pack(pack=meta, entries=entries, patches=patches, removed=removed), fmt)


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
            entry = apply_patch(parse_entry((canon or {})[patch.slug]), patch)
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
    return parse_entry(doc) == change.entry


def _first_errors(error: PackError, n: int = 3) -> str:
    head = "; ".join(error.errors[:n])
    more = len(error.errors) - n
    return head + (f" (and {more} more)" if more > 0 else "")
