"""The visible world at an episode: the pack with every piece of lore revealed later removed.

Under a policy at episode E, every output must equal the output computed from this world (the
counterfactual property). Cast lines, aliases, facts, attributes, relations, summaries and statuses
revealed after E go; entries introduced after E go, and so do relations and cast lines naming them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lore.model import Pack


def visible_pack(pack: Pack, episode: int) -> Pack:
    entries = [e for e in pack.entries if e.introduced <= episode]
    kept = {e.slug for e in entries}
    out: list[dict[str, Any]] = []
    for entry in entries:
        data = entry.model_dump(mode="json")
        intro = entry.introduced
        data["aliases"] = [a for a in data["aliases"] if max(a["episode"], intro) <= episode]
        data["facts"] = [f for f in data["facts"] if f["episode"] <= episode]
        data["attributes"] = [a for a in data["attributes"] if a["episode"] <= episode]
        data["relations"] = [r for r in data["relations"] if r["episode"] <= episode and r["target"] in kept]
        data["later_summaries"] = [s for s in data.get("later_summaries", []) if s["episode"] <= episode]
        data["reveal_phrases"] = [
            p.model_dump(mode="json")
            for p in entry.reveal_phrases
            if p.episode <= episode and all(r in kept for r in p.refs())
        ]
        statuses = [s for s in entry.statuses() if s.episode <= episode]
        data["status"] = statuses[0].model_dump(mode="json") if statuses else None
        data["later_statuses"] = [s.model_dump(mode="json") for s in statuses[1:]]
        if data.get("episode") and data["episode"].get("cast"):
            data["episode"]["cast"] = [
                c for c in data["episode"]["cast"] if c["episode"] <= episode and c["character"] in kept
            ]
        out.append(data)
    return Pack.model_validate({"pack": pack.pack.model_dump(mode="json"), "entries": out})


def write_visible_pack(pack: Pack, episode: int, path: Path) -> Path:
    path.write_text(json.dumps(visible_pack(pack, episode).model_dump(mode="json"), ensure_ascii=False))
    return path
