"""A server's edit of a canon entry as a patch over it, not a copy of it.

A server that edits a canon entry stores an :class:`~lore.model.EntryPatch`: the fields it
replaced (``set``) and, for each list (aliases, facts, attributes, relations, later summaries,
statuses, reveal phrases), the canon items it removed or changed and the items it added. A canon item is named by
its *key*, a digest of the item (:func:`item_key`), so the server's data holds no canon text. What
the server sees is ``apply_patch(canon entry, patch)``, computed whenever the lore is loaded: a
newer canon pack reaches an edited entry (new canon items appear; an item the server changed or
removed stays so; an item the server changed that the canon no longer has stays as the server's).

Entries a server created itself (and whole entries it imported) stay whole documents.

In the database a patch is stored in the ``doc`` column as ``{"$patch": {...}}`` (:func:`patch_doc`),
in revisions the same way; the other columns of the row (name, kind, keys, search text) are the
patched entry's, refreshed whenever the canon changes (:meth:`lore.sqlstore.SqlStore.put_entries`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from lore.model import Entry, EntryPatch, ListPatch

if TYPE_CHECKING:
    from lore.store import Tx

log = logging.getLogger(__name__)

PATCH_PREFIX = '{"$patch":'
_PREFIX_BYTES = PATCH_PREFIX.encode()

#: The lists a patch changes item by item, and what makes two items "the same one changed" (an
#: alias with the same name, an attribute with the same label...): a removed canon item and an
#: added item with the same identity are a change in place.
_IDENTITY: dict[str, Callable[[Any], object]] = {
    "aliases": lambda a: a.name.casefold(),
    "facts": lambda f: f.text.casefold(),
    "attributes": lambda a: a.label.casefold(),
    "relations": lambda r: (r.type, r.target),
    "later_summaries": lambda s: s.episode,
    "statuses": lambda s: s.episode,
    "reveal_phrases": lambda p: p.text.casefold(),
}
LISTS = tuple(_IDENTITY)


def item_key(item: BaseModel) -> str:
    """A canon item as a patch names it: 12 hex digits of the digest of the item."""
    return hashlib.sha256(item.model_dump_json().encode()).hexdigest()[:12]


def is_patch(doc: str | bytes | None) -> bool:
    """Whether a stored document is a patch (else a whole entry, or None for a removal)."""
    if doc is None:
        return False
    return doc.startswith(_PREFIX_BYTES) if isinstance(doc, bytes) else doc.startswith(PATCH_PREFIX)


def patch_doc(patch: EntryPatch) -> str:
    """The stored form of a patch."""
    return PATCH_PREFIX + patch.model_dump_json(exclude_defaults=True) + "}"


@lru_cache(maxsize=4096)
def read_patch(doc: str | bytes) -> EntryPatch:
    return EntryPatch.model_validate(json.loads(doc)["$patch"])


def _items(entry: Entry, name: str) -> list[Any]:
    return entry.statuses() if name == "statuses" else list(getattr(entry, name))


def _apply_list(items: Sequence[Any], lp: ListPatch[Any]) -> list[Any]:
    remove = set(lp.remove)
    out: list[Any] = []
    used: set[str] = set()
    for item in items:
        key = item_key(item)
        if key in remove:
            continue
        if key in lp.change:
            used.add(key)
            out.append(lp.change[key])
        else:
            out.append(item)
    out.extend(v for k, v in lp.change.items() if k not in used)  # the canon item is gone: the server's stays
    out.extend(lp.add)
    if lp.order:
        rank = {k: i for i, k in enumerate(lp.order)}
        out.sort(key=lambda x: rank.get(item_key(x), len(rank)))
    return out


def apply_patch(base: Entry, patch: EntryPatch) -> Entry:
    """The entry a server sees: the canon entry ``base`` with the server's ``patch`` applied.
    Raises ``pydantic.ValidationError`` when the result is not a valid entry."""
    data = base.model_dump()
    data.update(patch.set)
    for name in LISTS:
        items = [x.model_dump() for x in _apply_list(_items(base, name), getattr(patch, name))]
        if name == "statuses":
            items.sort(key=lambda s: s["episode"])
            data["status"] = items[0] if items else None
            data["later_statuses"] = items[1:]
        else:
            if name == "later_summaries":
                items.sort(key=lambda s: s["episode"])
            data[name] = items
    data["slug"] = base.slug
    return Entry.model_validate(data)


def _diff_list(name: str, base: list[Any], target: list[Any], keep_order: bool) -> ListPatch[Any]:
    target_keys = [item_key(t) for t in target]
    wanted = set(target_keys)
    have = {item_key(b) for b in base}
    removed = [b for b in base if item_key(b) not in wanted]
    added = [t for t, k in zip(target, target_keys, strict=True) if k not in have]
    identity = _IDENTITY[name]
    change: dict[str, Any] = {}
    remove: list[str] = []
    pending = list(added)
    for b in removed:
        same = next((t for t in pending if identity(t) == identity(b)), None)
        if same is not None:
            pending.remove(same)
            change[item_key(b)] = same
        else:
            remove.append(item_key(b))
    lp: ListPatch[Any] = ListPatch(remove=remove, change=change, add=pending)
    if keep_order and [item_key(x) for x in _apply_list(base, lp)] != target_keys:
        lp = ListPatch(remove=remove, change=change, add=pending, order=target_keys)
    return lp


def diff(base: Entry, target: Entry, *, keep_order: bool = False) -> EntryPatch:
    """The patch that turns the canon entry ``base`` into ``target``: only what differs, canon items
    named by their keys. ``keep_order`` records the order of a list when the patch would change it
    (used for migrated overrides, whose order must be kept exactly); otherwise a changed item keeps
    its place and added items follow the canon's."""
    b, t = base.model_dump(mode="json"), target.model_dump(mode="json")
    fields = {f: t[f] for f in ("kind", "name", "introduced", "summary", "image", "episode") if t[f] != b[f]}
    lists = {name: _diff_list(name, _items(base, name), _items(target, name), keep_order) for name in LISTS}
    return EntryPatch(slug=base.slug, set=fields, **lists)


def effective(canon_doc: str | bytes | None, doc: str | bytes | None) -> Entry | None:
    """The entry a stored row gives: a whole document as it is, a patch applied to the canon's
    document (None when the canon no longer has the entry, or the patch no longer fits it)."""
    if doc is None:
        return None
    if not is_patch(doc):
        return Entry.model_validate_json(doc)
    if canon_doc is None:
        return None
    try:
        return apply_patch(Entry.model_validate_json(canon_doc), read_patch(doc))
    except ValueError as e:  # pydantic's ValidationError is a ValueError
        log.warning("a server's patch of %s no longer fits the canon entry: %s", json.loads(canon_doc)["slug"], e)
        return None


async def migrate_overrides(tx: Tx) -> None:
    """Schema 8: every server's full copy of a canon entry (and every revision of one) becomes the
    patch it amounts to against the current canon. A copy the patch would not give back exactly
    stays as it is: nothing is lost."""
    canon = {slug: doc for slug, doc in await tx.fetchall("SELECT slug, doc FROM entries WHERE scope = 'canon'")}
    canon_entries: dict[str, Entry] = {}

    def convert(slug: str, doc: str | None) -> str | None:
        if doc is None or is_patch(doc) or canon.get(slug) is None:
            return None
        try:
            if slug not in canon_entries:
                canon_entries[slug] = Entry.model_validate_json(canon[slug])
            base, whole = canon_entries[slug], Entry.model_validate_json(doc)
            patch = diff(base, whole, keep_order=True)
            if apply_patch(base, patch) != whole:
                return None
        except ValueError as e:
            log.warning("kept a server's copy of %s as it is: %s", slug, e)
            return None
        return patch_doc(patch)

    rows = await tx.fetchall("SELECT scope, slug, doc FROM entries WHERE scope != 'canon' AND doc IS NOT NULL")
    updates = [(new, scope, slug) for scope, slug, doc in rows if (new := convert(slug, doc)) is not None]
    await tx.executemany("UPDATE entries SET doc = ? WHERE scope = ? AND slug = ?", updates)
    rows = await tx.fetchall("SELECT id, slug, doc FROM revisions WHERE scope != 'canon' AND doc IS NOT NULL")
    revisions = [(new, rid) for rid, slug, doc in rows if (new := convert(slug, doc)) is not None]
    await tx.executemany("UPDATE revisions SET doc = ? WHERE id = ?", revisions)
    if updates or revisions:
        log.info("schema 8: %d server overrides and %d revisions are now patches", len(updates), len(revisions))


__all__ = [
    "PATCH_PREFIX",
    "apply_patch",
    "diff",
    "effective",
    "is_patch",
    "item_key",
    "migrate_overrides",
    "patch_doc",
    "read_patch",
]
