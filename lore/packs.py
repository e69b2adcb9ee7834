"""Lore packs: YAML or JSON files of entries, validated as a whole before anything is written."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from lore.errors import PackError as PackError
from lore.franchise import EPISODE_GROUPS
from lore.model import EPISODE_CEILING, MAX_SLUG, Entry, Kind, LaterSummary, Pack, Status
from lore.normalize import normalize

CANON_PACK_PATH = Path(__file__).with_name("packs") / "canon.yaml"
MAX_PACK_BYTES = 5 * 1024 * 1024
#: How deeply a pack's values may nest (a pack needs about 6 levels), and how many values it may
#: hold in all (a YAML alias counts each time it is used: a "billion laughs" pack stops here).
MAX_PACK_DEPTH = 32
MAX_PACK_VALUES = 2_000_000
#: The canon pack is the host's own file, not an upload: it may be as large as the engine is
#: built for (100,000 entries weigh about 80 MB as JSON), and is still refused past these.
MAX_CANON_BYTES = 512 * 1024 * 1024
MAX_CANON_VALUES = 50_000_000
_CHUNK = 1024 * 1024

#: libyaml's parser when PyYAML has it (ten times faster; it refuses nesting beyond 1000 levels
#: by itself), else the pure-Python one (whose recursion is caught).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(pack)"


def _reason(err: ErrorDetails, last_episode: int) -> str:
    kind = err.get("type", "")
    loc = err.get("loc", ())
    last = loc[-1] if loc else ""
    if last in ("episode", "introduced") and kind in ("greater_than_equal", "less_than_equal"):
        return f"must be between 0 and {last_episode}"
    if last == "number" and kind in ("greater_than_equal", "less_than_equal"):
        return f"must be between 1 and {last_episode}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    msg = str(err.get("msg", "is invalid"))
    msg = msg.removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else "is invalid"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # Pydantic adds the tag of a failing type check (e.g. 'int') to the location; drop those.
    return tuple(p for p in loc if not (isinstance(p, str) and p in {"int", "str", "bool", "date"}))


def read_pack_bytes(path: str | Path, *, canon: bool = False) -> bytes:
    """A pack file's bytes, read in chunks and refused (:class:`PackError`) as soon as it passes
    ``MAX_PACK_BYTES`` (``MAX_CANON_BYTES`` for the ``canon`` pack), so a device such as
    ``/dev/zero`` or a huge file is never read whole. A file that cannot be read raises its
    ``OSError``."""
    return b"".join(_chunks(path, MAX_CANON_BYTES if canon else MAX_PACK_BYTES))


def pack_digest(path: str | Path, *, canon: bool = False) -> str:
    """The SHA-256 (hex) of a pack file's bytes, read and refused as :func:`read_pack_bytes`
    reads them but never held whole (the canon pack is checked at every start-up)."""
    h = hashlib.sha256()
    for chunk in _chunks(path, MAX_CANON_BYTES if canon else MAX_PACK_BYTES):
        h.update(chunk)
    return h.hexdigest()


def _chunks(path: str | Path, limit: int) -> Iterator[bytes]:
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise PackError([f"(file): larger than {_mb(limit)}"])
            yield chunk


def _mb(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _check_shape(data: Any, max_values: int) -> None:
    """Refuse data nested deeper than ``MAX_PACK_DEPTH`` or holding more than ``max_values``
    values (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > max_values:
            raise PackError([f"(file): holds more than {max_values:,} values"])
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= MAX_PACK_DEPTH:
            raise PackError([f"(file): nested more than {MAX_PACK_DEPTH} levels deep"])
        stack.extend((child, depth + 1) for child in children)


def parse_text(text: str | bytes, fmt: str | None = None, name: str = "pack", *, canon: bool = False) -> Any:
    """Parse YAML or JSON text into plain data. ``fmt`` is 'yaml', 'json' or None (guess).

    Text over ``MAX_PACK_BYTES``, nested deeper than ``MAX_PACK_DEPTH`` or holding more than
    ``MAX_PACK_VALUES`` values is refused with a :class:`PackError`, like any other bad pack.
    The ``canon`` pack (the host's own file) is held to ``MAX_CANON_BYTES`` and
    ``MAX_CANON_VALUES`` instead."""
    max_bytes, max_values = (MAX_CANON_BYTES, MAX_CANON_VALUES) if canon else (MAX_PACK_BYTES, MAX_PACK_VALUES)
    data = _parse_text(text, fmt, name, max_bytes)
    _check_shape(data, max_values)
    return data


def _parse_text(text: str | bytes, fmt: str | None, name: str, max_bytes: int) -> Any:
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            raise PackError([f"(file): larger than {_mb(max_bytes)}"])
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PackError(["(file): is not UTF-8 text"]) from None
    fmt = (fmt or "").lower()
    if not fmt:
        fmt = "json" if name.lower().endswith(".json") or text.lstrip().startswith("{") else "yaml"
    elif len(text) > max_bytes:
        raise PackError([f"(file): larger than {_mb(max_bytes)}"])
    try:
        if fmt == "json":
            return json.loads(text)
        return yaml.load(text, Loader=_YAML_LOADER)
    except RecursionError:
        raise PackError([f"(file): nested more than {MAX_PACK_DEPTH} levels deep"]) from None
    except json.JSONDecodeError as e:
        raise PackError([f"(file): invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or "could not be parsed"
        if "maximum nesting depth" in problem:
            raise PackError([f"(file): nested more than {MAX_PACK_DEPTH} levels deep"]) from None
        raise PackError([f"(file): invalid YAML{where}: {problem}"]) from None


def _declared_count(data: dict[str, Any]) -> int | None:
    """The episode count a pack's own ``pack.episodes`` declares, read before validation."""
    meta = data.get("pack")
    episodes = meta.get("episodes") if isinstance(meta, dict) else None
    count = episodes.get("count") if isinstance(episodes, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= EPISODE_CEILING else None


def validate(
    data: Any, *, known_slugs: Iterable[str] = (), patchable: Iterable[str] = (), last_episode: int | None = None
) -> Pack:
    """Validate plain data as a :class:`Pack`, reporting every error at once.

    Beyond the model's own checks: every episode number lies within the franchise's episodes
    (``last_episode``, the canon's count, for a server's pack; else the count the pack declares);
    slugs are unique; relations point at an entry of the pack or
    one of ``known_slugs`` (entries the target scope can already see, e.g. the canon); no alias or
    name is claimed by two entries unless every claim is marked ``shared``; a fact, alias, attribute,
    relation or status is not revealed before its entry is introduced. A server's pack may also hold
    ``patches`` (its edits of canon entries, see :mod:`lore.patches`): each of an entry in
    ``patchable``, one per entry, its relations pointing at known entries.
    """
    if not isinstance(data, dict):
        raise PackError(["(pack): must be a mapping with 'pack' and 'entries'"])
    errors: list[str] = []
    last = last_episode if last_episode is not None else _declared_count(data)
    beyond = _episode_range_errors(data, last) if last is not None else []
    try:
        pack = Pack.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            where = _loc(_clean_loc(err["loc"]))
            if not any(b.startswith(where + ":") for b in beyond):
                errors.append(f"{where}: {_reason(err, last or EPISODE_CEILING)}")
        raise PackError(beyond + errors) from None
    errors.extend(beyond)

    slugs: dict[str, int] = {}
    for i, entry in enumerate(pack.entries):
        if len(entry.slug) > MAX_SLUG:
            errors.append(f"entries[{i}].slug: must be at most {MAX_SLUG} characters")
        if entry.slug in slugs:
            errors.append(f"entries[{i}].slug: duplicate of entries[{slugs[entry.slug]}].slug ({entry.slug!r})")
        else:
            slugs[entry.slug] = i
    known = set(known_slugs) | set(slugs)
    source_ids = {s.id for s in pack.pack.sources}
    claims: dict[str, list[tuple[int, str, bool]]] = {}
    firsts: dict[str, str] = {}
    for i, entry in enumerate(pack.entries):
        errors.extend(_entry_errors(i, entry, known, source_ids))
        errors.extend(_cast_errors(i, entry, known, pack, slugs, firsts))
        claims.setdefault(normalize(entry.name), []).append((i, "name", False))
        for j, alias in enumerate(entry.aliases):
            key = normalize(alias.name)
            claims.setdefault(key, []).append((i, f"aliases[{j}]", alias.shared))
    for key, owners in claims.items():
        if len({i for i, _, _ in owners}) < 2:
            continue
        first = owners[0][0]
        names = [o for o in owners if o[1] == "name"]
        for i, where, shared in owners:
            clash = (where == "name" and o_is_extra_name(names, i)) or (where != "name" and not shared)
            if clash:
                other = next(o for o, _, _ in owners if o != i) if i == first else first
                errors.append(
                    f"entries[{i}].{where}: {key!r} also names entries[{other}] "
                    f"({pack.entries[other].slug}); mark each such alias shared: true"
                )
    errors.extend(_patch_errors(pack, known, set(patchable), slugs))
    patched = {p.slug for p in pack.patches}
    for i, slug in enumerate(pack.removed):
        if slug in slugs or slug in patched or slug in pack.removed[:i]:
            errors.append(f"removed[{i}]: {slug!r} is also written by this pack")
    if errors:
        raise PackError(errors)
    return pack


def _patch_errors(pack: Pack, known: set[str], patchable: set[str], slugs: dict[str, int]) -> list[str]:
    errors: list[str] = []
    seen: dict[str, int] = {}
    for i, patch in enumerate(pack.patches):
        base = f"patches[{i}]"
        if patch.slug in seen:
            errors.append(f"{base}.slug: duplicate of patches[{seen[patch.slug]}].slug ({patch.slug!r})")
        elif patch.slug in slugs:
            errors.append(
                f"{base}.slug: {patch.slug!r} is also a whole entry of this pack (entries[{slugs[patch.slug]}])"
            )
        elif patch.slug not in patchable:
            errors.append(f"{base}.slug: no canon entry {patch.slug!r} to patch")
        seen.setdefault(patch.slug, i)
        relations = [*patch.relations.add, *patch.relations.change.values()]
        for rel in relations:
            if rel.target not in known:
                errors.append(f"{base}.relations: no entry with slug {rel.target!r}")
    return errors


def _episode_range_errors(data: dict[str, Any], last: int) -> list[str]:
    """Every episode number beyond the franchise's last episode, where the pack wrote it (read
    from the plain data, so they are listed beside the model's own errors)."""
    errors: list[str] = []
    entries = data.get("entries")
    for i, entry in enumerate(entries if isinstance(entries, list) else ()):
        if not isinstance(entry, dict):
            continue
        base = f"entries[{i}]"
        places: list[tuple[str, Any, int]] = [(f"{base}.introduced", entry.get("introduced"), 0)]
        for group in EPISODE_GROUPS:
            items = entry.get(group)
            for j, item in enumerate(items if isinstance(items, list) else ()):
                if isinstance(item, dict):
                    places.append((f"{base}.{group}[{j}].episode", item.get("episode"), 0))
        status = entry.get("status")
        if isinstance(status, dict):
            places.append((f"{base}.status.episode", status.get("episode"), 0))
        info = entry.get("episode")
        if isinstance(info, dict):
            places.append((f"{base}.episode.number", info.get("number"), 1))
            cast = info.get("cast")
            for j, member in enumerate(cast if isinstance(cast, list) else ()):
                if isinstance(member, dict):
                    places.append((f"{base}.episode.cast[{j}].episode", member.get("episode"), 0))
        errors += _beyond(places, last)
    patches = data.get("patches")
    for i, patch in enumerate(patches if isinstance(patches, list) else ()):
        if not isinstance(patch, dict):
            continue
        base = f"patches[{i}]"
        fields = patch.get("set")
        places = [(f"{base}.set.introduced", fields.get("introduced"), 0)] if isinstance(fields, dict) else []
        for group in ("aliases", "facts", "attributes", "relations", "later_summaries", "statuses"):
            lists = patch.get(group)
            if not isinstance(lists, dict):
                continue
            added, changed = lists.get("add"), lists.get("change")
            items = [(f"add[{j}]", x) for j, x in enumerate(added if isinstance(added, list) else ())]
            items += [(f"change[{k!r}]", x) for k, x in (changed.items() if isinstance(changed, dict) else ())]
            places += [(f"{base}.{group}.{at}.episode", x.get("episode"), 0) for at, x in items if isinstance(x, dict)]
        errors += _beyond(places, last)
    return errors


def _beyond(places: list[tuple[str, Any, int]], last: int) -> list[str]:
    out = []
    for where, value, first in places:
        n = _as_int(value)
        if n is not None and first <= n and n > last:
            out.append(f"{where}: must be between {first} and {last}")
    return out


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def o_is_extra_name(names: list[tuple[int, str, bool]], i: int) -> bool:
    """Two entries with the same name are a clash for every one but the first."""
    return len(names) > 1 and names[0][0] != i


def _entry_errors(i: int, entry: Entry, known: set[str], source_ids: set[str]) -> list[str]:
    errors = []
    base = f"entries[{i}]"
    for j, rel in enumerate(entry.relations):
        if rel.target not in known:
            errors.append(f"{base}.relations[{j}].target: no entry with slug {rel.target!r}")
    for j, phrase in enumerate(entry.reveal_phrases):
        for ref in phrase.refs():
            if ref not in known:
                errors.append(f"{base}.reveal_phrases[{j}].text: no entry with slug {ref!r}")
    for group in ("facts", "aliases", "attributes", "relations", "reveal_phrases"):
        for j, item in enumerate(getattr(entry, group)):
            if item.episode < entry.introduced and group != "aliases":
                errors.append(
                    f"{base}.{group}[{j}].episode: revealed before the entry is introduced (episode {entry.introduced})"
                )
            src = getattr(item, "source", None)
            if src and source_ids and src not in source_ids and "://" not in src:
                errors.append(f"{base}.{group}[{j}].source: {src!r} is not in pack.sources")
    # A later summary or status replaces the one before it: each comes strictly later.
    previous = entry.introduced
    for j, later in enumerate(entry.later_summaries):
        if later.episode <= previous:
            errors.append(
                f"{base}.later_summaries[{j}].episode: must come after episode {previous} (the summary it replaces)"
            )
        previous = max(previous, later.episode)
    if entry.status is not None:
        previous = entry.status.episode
        for j, st in enumerate(entry.later_statuses):
            if st.episode <= previous:
                errors.append(
                    f"{base}.later_statuses[{j}].episode: must come after episode {previous} (the status it replaces)"
                )
            previous = max(previous, st.episode)
    groups: tuple[tuple[str, Sequence[LaterSummary | Status]], ...] = (
        ("later_summaries", entry.later_summaries),
        ("later_statuses", entry.later_statuses),
    )
    for group, items in groups:
        for j, item in enumerate(items):
            src = item.source
            if src and source_ids and src not in source_ids and "://" not in src:
                errors.append(f"{base}.{group}[{j}].source: {src!r} is not in pack.sources")
    return errors


def _cast_errors(
    i: int, entry: Entry, known: set[str], pack: Pack, slugs: dict[str, int], firsts: dict[str, str]
) -> list[str]:
    """An episode's cast names characters the scope has, each at most once, and marks a
    character's first appearance in one episode only."""
    errors: list[str] = []
    if entry.episode is None:
        return errors
    seen: set[str] = set()
    for j, member in enumerate(entry.episode.cast):
        where = f"entries[{i}].episode.cast[{j}]"
        if member.character not in known:
            errors.append(f"{where}.character: no entry with slug {member.character!r}")
        elif member.character in slugs and pack.entries[slugs[member.character]].kind is not Kind.CHARACTER:
            errors.append(f"{where}.character: {member.character!r} is not a character")
        if member.character in seen:
            errors.append(f"{where}.character: {member.character!r} is listed twice")
        seen.add(member.character)
        if member.first:
            if member.character in firsts:
                other = firsts[member.character]
                errors.append(f"{where}.first: {member.character!r} already has its first appearance in {other}")
            else:
                firsts[member.character] = entry.slug
    return errors


def load_pack(path: str | Path, *, known_slugs: Iterable[str] = ()) -> Pack:
    p = Path(path)
    try:
        raw = read_pack_bytes(p)
    except OSError as e:
        raise PackError([f"(file): cannot read {p}: {e.strerror or e}"]) from None
    return validate(parse_text(raw, name=p.name), known_slugs=known_slugs)


def dump_pack(pack: Pack, fmt: str = "yaml") -> str:
    data = pack.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("entries", [])
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    #: Entries the pack removed (a server's ``removed:``).
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)

    def summary(self) -> str:
        gone = f", {len(self.removed)} removed" if self.removed else ""
        return f"{len(self.created)} created, {len(self.updated)} updated{gone}, {len(self.unchanged)} unchanged"
