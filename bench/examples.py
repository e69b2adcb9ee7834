"""``python -m bench.examples [DIR]``: the README's example pictures, drawn from the canon
pack at episode 5 (tag): Naomi Orthmann's relations at depth 2, and the timeline of episodes 1–5."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from bot.pictures.painter import Painter
from lore import LoreService, Mode, Policy

POLICY = Policy(5, Mode.TAG)
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "docs"


async def write_examples(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    painter = Painter()
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        lore = await LoreService.open(Path(tmp) / "examples.sqlite3")
        try:
            drawn = painter.draw_relations(lore, "naomi-orthmann", POLICY, None, 2)
            assert drawn is not None
            pictures = [drawn.picture, *painter.draw_timeline(lore, POLICY, None, 1, POLICY.episode)]
        finally:
            await lore.close()
            painter.close()
    for picture in pictures:
        stem = picture.filename.removesuffix(".png")
        path = out / (f"{stem}-ep{POLICY.episode}.png" if stem.startswith("relations") else picture.filename)
        path.write_bytes(picture.data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in asyncio.run(write_examples(Path(args[0]) if args else DEFAULT_DIR)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
