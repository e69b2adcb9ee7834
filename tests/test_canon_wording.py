"""The canon pack is written in our own words: no run of seven words is shared with the fact
sheet or the seed documents it was researched from (skipped when ``../shared`` is absent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PACK = ROOT / "lore" / "packs" / "canon.yaml"
RUN = 7


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.casefold())


def _runs(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + RUN]) for i in range(len(words) - RUN + 1)}


def _pack_texts() -> list[tuple[str, str]]:
    """(where, text) for every piece of prose a viewer can read."""
    data = yaml.safe_load(PACK.read_text(encoding="utf-8"))
    out: list[tuple[str, str]] = []
    for e in data["entries"]:
        slug = e["slug"]
        out.append((f"{slug}.summary", e.get("summary", "")))
        out += [(f"{slug}.later_summaries", s["text"]) for s in e.get("later_summaries", [])]
        out += [(f"{slug}.facts", f["text"]) for f in e.get("facts", [])]
        out += [(f"{slug}.attributes", f"{a['label']}: {a['value']}") for a in e.get("attributes", [])]
        for st in [e.get("status") or {}, *e.get("later_statuses", [])]:
            if st.get("note"):
                out.append((f"{slug}.status", st["note"]))
        for r in e.get("relations", []):
            if r.get("note"):
                out.append((f"{slug}.relations", r["note"]))
    return out


def _sources() -> list[Path]:
    if not SHARED.is_dir():
        return []
    return [p for p in [SHARED / "lore-facts.md", *sorted((SHARED / "seeds").glob("*"))] if p.is_file()]


@pytest.mark.skipif(not _sources(), reason="../shared (fact sheet and seeds) is not present")
def test_no_seven_word_run_is_shared_with_the_sources():
    shared: dict[tuple[str, ...], str] = {}
    for path in _sources():
        for run in _runs(path.read_text(encoding="utf-8", errors="replace")):
            shared.setdefault(run, path.name)
    found = []
    for where, text in _pack_texts():
        for run in sorted(_runs(text) & shared.keys()):
            found.append(f"{where}: {' '.join(run)!r} (also in {shared[run]})")
    assert not found, f"{len(found)} runs of {RUN} words follow a source's wording:\n" + "\n".join(found)


def test_the_run_check_finds_a_copied_sentence():
    source = _runs("Rouge transforms and kills Sara, who is Immortal Nine member Viola.")
    assert _runs("So Rouge transforms and kills Sara, who is Immortal Nine member Viola, at last.") & source
    assert not _runs("Rouge turns into Metal Rouge and kills Sara, revealed as Viola.") & source
