"""``python -m bench.density``: how much a viewer in hide mode sees of the most-asked entries.

For each episode 1–13 under ``Policy(episode, hide)``, the number of facts the cards of the 20
most-asked entries show (an entry not introduced yet shows none), for the canon pack as shipped
(v3) against pack v2. The v2 pack is read from git history (commit ``7bfe068``) at run time and
never shipped; without git the frozen v2 counts below are used. "Most asked" is our judgement: the
main cast and the concepts viewers ask about mid-series ("who is Gene?", "what is Code Eve?").
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from lore.packs import CANON_PACK_PATH
from lore.service import LoreService
from lore.spoilers import Mode, Policy

ROOT = Path(__file__).resolve().parents[1]
V2_COMMIT = "7bfe068"
MOST_ASKED = (
    "rouge-redstar",
    "naomi-orthmann",
    "gene-junghardt",
    "roy-junghardt",
    "puppetmaster",
    "flash-silvia",
    "jill",
    "hell-giallon",
    "eden-varok",
    "jet-black-noir",
    "cyan",
    "opera",
    "ash-stahl",
    "noid-262",
    "dr-afdal",
    "immortal-nine",
    "code-eve",
    "aletheia",
    "ochrona",
    "venus-project",
)
#: Facts shown by the MOST_ASKED cards of pack v2 at episodes 1..13 (hide), as measured from commit 7bfe068.
V2_FROZEN = (10, 17, 28, 35, 43, 56, 75, 99, 110, 116, 119, 130, 147)


async def _density(pack: Path) -> list[int]:
    with tempfile.TemporaryDirectory() as tmp:
        svc = await LoreService.open(Path(tmp) / "density.sqlite3", canon_pack=pack)
        try:
            counts = []
            for episode in range(1, svc.franchise.last + 1):
                policy = Policy(episode, Mode.HIDE)
                shown = 0
                for slug in MOST_ASKED:
                    entry = svc.get(slug)
                    view = svc.render(entry, policy) if entry is not None else None
                    shown += len(view.facts) if view is not None else 0
                counts.append(shown)
            return counts
        finally:
            await svc.close()


def density(pack: Path = CANON_PACK_PATH) -> list[int]:
    """Facts shown by the most-asked cards at episodes 1..13 (hide) for the pack at ``pack``."""
    return asyncio.run(_density(pack))


def v2_density() -> tuple[list[int], str]:
    """The v2 figures, measured from git history when it is there, else the frozen table."""
    try:
        text = subprocess.run(
            ["git", "show", f"{V2_COMMIT}:lore/packs/canon.yaml"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return list(V2_FROZEN), "frozen table"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "canon-v2.yaml"
        path.write_bytes(text)
        return density(path), f"git {V2_COMMIT}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.density", description=__doc__.splitlines()[0])
    ap.parse_args(argv)
    v3 = density()
    v2, origin = v2_density()
    print(f"Facts shown by the {len(MOST_ASKED)} most-asked entries, hide mode (v2 from {origin})")
    print(f"{'episode':>7}  {'v2':>4}  {'v3':>4}  {'v3/v2':>6}")
    for episode, (a, b) in enumerate(zip(v2, v3, strict=True), 1):
        print(f"{episode:>7}  {a:>4}  {b:>4}  {b / a if a else float('inf'):>5.2f}x")
    print(f"{'total':>7}  {sum(v2):>4}  {sum(v3):>4}  {sum(v3) / sum(v2):>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
