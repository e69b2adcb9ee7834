"""The benchmark's data sets: the canon pack and synthetic packs, each in a ready-made database.

Databases are built once under ``bench/.cache/`` and reused while the generator's parameters
(size, seed, generator version) and the lore schema are unchanged. A synthetic pack is also written
as a JSON pack file whose SHA-256 is recorded as the stored canon's, so that a bot started with
``canon_pack=<that file>`` takes the same warm path as a production bot with the real canon.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from bench.generate import Spec, generate
from lore.model import Pack
from lore.packs import CANON_PACK_PATH, parse_text, validate
from lore.schema import SCHEMA_VERSION
from lore.service import LoreService

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
MINI_PACK = ROOT.parent / "tests" / "data" / "mini_pack.yaml"


@dataclass(slots=True)
class Dataset:
    label: str  # "canon", "1k", "10k", "100k"
    entries: int
    names: int  # names and aliases (index keys)
    db: Path
    pack_file: Path
    pack: Pack
    note: str = ""
    build_seconds: float | None = None  # set when the database was built in this run


def canon_pack_path() -> tuple[Path, str]:
    if CANON_PACK_PATH.exists():
        return CANON_PACK_PATH, ""
    return MINI_PACK, "lore/packs/canon.yaml is absent: canon size uses tests/data/mini_pack.yaml as a stand-in"


def _label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def _count_names(pack: Pack) -> int:
    return sum(1 + len(e.aliases) for e in pack.entries)


async def _fill(db: Path, pack_file: Path, pack: Pack) -> None:
    """Open a fresh database with the pack as its canon pack, exactly as a first start does."""
    svc = await LoreService.open(db, canon_pack=pack_file)
    await svc.close()


def _build(db: Path, pack_file: Path, pack: Pack) -> float:
    tmp = db.with_suffix(".building.sqlite3")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    asyncio.run(_fill(tmp, pack_file, pack))
    elapsed = time.perf_counter() - t0
    os.replace(tmp, db)
    return elapsed


def canon_dataset() -> Dataset:
    path, note = canon_pack_path()
    raw = path.read_bytes()
    pack = validate(parse_text(raw, name=path.name))
    digest = hashlib.sha256(raw).hexdigest()[:16]
    CACHE.mkdir(exist_ok=True)
    db = CACHE / f"canon-{digest}-schema{SCHEMA_VERSION}.sqlite3"
    built = None
    if not db.exists():
        built = _build(db, path, pack)
    return Dataset("canon", len(pack.entries), _count_names(pack), db, path, pack, note, built)


def synthetic_dataset(size: int, seed: int | None = None, log=print) -> Dataset:
    spec = Spec(size) if seed is None else Spec(size, seed)
    CACHE.mkdir(exist_ok=True)
    stem = f"{spec.key}-schema{SCHEMA_VERSION}"
    db = CACHE / f"{stem}.sqlite3"
    pack_file = CACHE / f"{stem}.json"
    if pack_file.exists():
        pack = Pack.model_validate_json(pack_file.read_bytes())  # validated when it was written
    else:
        data = generate(spec)
        pack = validate(data)
        tmp = pack_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, pack_file)
    built = None
    if not db.exists():
        log(f"  building the {_label(size)} database (once; cached in {db.relative_to(ROOT.parent)})...")
        built = _build(db, pack_file, pack)
    return Dataset(_label(size), len(pack.entries), _count_names(pack), db, pack_file, pack, "", built)


def clear_cache() -> None:
    shutil.rmtree(CACHE, ignore_errors=True)
