"""``python -m bench [--quick]``: every figure at every size, one table, ``bench/results.json``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import data, engine
from bench.report import table, targets
from bench.stats import machine

SIZES = {"canon": None, "1k": 1000, "10k": 10000, "100k": 100000}
QUICK_SIZES = ("canon", "1k", "10k")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="canon, 1k and 10k with fewer repetitions (< 1 minute)")
    ap.add_argument("--sizes", help="comma-separated subset of: " + ", ".join(SIZES))
    ap.add_argument("--no-e2e", action="store_true", help="engine figures only (no fake Discord, no subprocesses)")
    ap.add_argument("--out", type=Path, default=data.ROOT / "results.json", help="where to write the JSON results")
    args = ap.parse_args(argv)
    sizes = args.sizes.split(",") if args.sizes else list(QUICK_SIZES if args.quick else SIZES)
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown size(s): {', '.join(unknown)}")
    budget = engine.QUICK if args.quick else engine.FULL
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "notes": [],
        "sizes": {},
        "figures": {},
    }
    e2e = None
    if not args.no_e2e:
        try:
            from bench import e2e as e2e_mod
        except ImportError as exc:
            results["notes"].append(f"end-to-end figures skipped: {exc}")
        else:
            e2e = e2e_mod
    for label in sizes:
        _log(f"[{label}] preparing data")
        size = SIZES[label]
        ds = data.canon_dataset() if size is None else data.synthetic_dataset(size, log=_log)
        if ds.note and ds.note not in results["notes"]:
            results["notes"].append(ds.note)
        results["sizes"][label] = {
            "entries": ds.entries,
            "names": ds.names,
            "pack": str(ds.pack_file.relative_to(data.ROOT.parent)),
            "db_build_seconds": ds.build_seconds,
        }
        work = engine.prepare(ds, budget)
        e2e_work = e2e.prepare(ds) if e2e is not None else None
        ds.pack = None  # type: ignore[assignment]  # the bot holds no parsed pack; neither do the timings
        gc.collect()
        _log(f"[{label}] engine figures ({ds.entries} entries, {ds.names} names)")
        figures: dict[str, Any] = asyncio.run(engine.run_engine(ds, work, budget, log=_log))
        del work
        if e2e is not None:
            _log(f"[{label}] end to end, start-up and memory")
            figures.update(e2e.run(ds, e2e_work, quick=args.quick, log=_log))
        results["figures"][label] = figures
        gc.collect()
    results["targets"] = targets(results)
    results["seconds"] = round(time.perf_counter() - started, 1)
    text = table(results)
    results["table"] = text
    if args.out.exists():  # figures of other benchmarks stored beside these (bench.cluster, bench.writes)
        with contextlib.suppress(ValueError):
            previous = json.loads(args.out.read_text(encoding="utf-8"))
            for other in ("cluster", "writes"):
                if other in previous:
                    results[other] = previous[other]
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(text)
    _log(f"wrote {args.out} in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
