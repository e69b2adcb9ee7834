"""``python -m bench.spoilercheck``: precision and recall of "Check for spoilers".

The labelled set is ``tests/data/spoiler_messages.yaml``: fan-style messages written for the tests,
each labelled with the episodes whose reveals it gives away. At a channel episode E a message is a
spoiler when one of its episodes is after E; the check is right when it flags exactly those. For
each E the table gives the counts and precision (flagged messages that are spoilers) and recall
(spoilers that are flagged), for the whole set and for the held-out part (written after the canon's
reveal phrases were fixed, so not used to tune them). ``--misses`` lists what was missed or
wrongly flagged.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from lore.packs import CANON_PACK_PATH, load_pack
from lore.spoilercheck import Catalog, check_spoilers

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "spoiler_messages.yaml"
EPISODES = (0, 3, 6, 9, 12)


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    spoils: tuple[int, ...]
    kind: str
    held_out: bool

    def spoils_at(self, episode: int) -> bool:
        return any(e > episode for e in self.spoils)


@dataclass(slots=True)
class Scores:
    episode: int
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_messages(path: Path = DATA) -> list[Labelled]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Labelled(str(m["text"]), tuple(int(e) for e in m["spoils"]), str(m["kind"]), m.get("set") == "held-out")
        for m in raw
    ]


def canon_catalog() -> Catalog:
    return Catalog(load_pack(CANON_PACK_PATH).entries)


def measure(
    catalog: Catalog, messages: Sequence[Labelled], episodes: Iterable[int] = EPISODES
) -> tuple[list[Scores], list[tuple[int, str, Labelled]]]:
    """The scores at each episode, and every miss as (episode, "missed"/"wrongly flagged", message)."""
    scores: list[Scores] = []
    misses: list[tuple[int, str, Labelled]] = []
    for episode in episodes:
        s = Scores(episode)
        for m in messages:
            flagged, truth = check_spoilers(catalog, m.text, episode).spoils, m.spoils_at(episode)
            if flagged and truth:
                s.tp += 1
            elif flagged:
                s.fp += 1
                misses.append((episode, "wrongly flagged", m))
            elif truth:
                s.fn += 1
                misses.append((episode, "missed", m))
            else:
                s.tn += 1
        scores.append(s)
    return scores, misses


def table(title: str, scores: list[Scores]) -> str:
    lines = [title, "| channel episode | spoilers | flagged right | wrongly flagged | missed | precision | recall |"]
    lines.append("|---:|---:|---:|---:|---:|---:|---:|")
    for s in scores:
        lines.append(f"| {s.episode} | {s.tp + s.fn} | {s.tp} | {s.fp} | {s.fn} | {s.precision:.2f} | {s.recall:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.spoilercheck", description=__doc__)
    ap.add_argument("--misses", action="store_true", help="list every missed or wrongly flagged message")
    args = ap.parse_args(argv)
    catalog = canon_catalog()
    messages = load_messages()
    held = [m for m in messages if m.held_out]
    started = time.perf_counter()
    every, misses = measure(catalog, messages)
    took = time.perf_counter() - started
    print(f"{len(messages)} labelled messages ({len(held)} held out), canon pack, episodes {list(EPISODES)}\n")
    print(table("All messages", every) + "\n")
    print(table("Held out only", measure(catalog, held)[0]) + "\n")
    checks = len(messages) * len(EPISODES)
    print(f"{checks} checks in {took * 1000:.0f} ms ({took / checks * 1e6:.0f} µs per message)")
    if args.misses:
        for episode, what, m in misses:
            print(f"  at {episode}: {what}: {m.text!r} (spoils {list(m.spoils)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
