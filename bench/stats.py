"""Timing helpers: nanosecond samples, medians and percentiles, machine information."""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of already sorted values, linearly interpolated."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summary_ms(samples_ns: Sequence[int]) -> dict[str, Any]:
    s = sorted(samples_ns)
    return {
        "p50_ms": percentile(s, 50) / 1e6,
        "p99_ms": percentile(s, 99) / 1e6,
        "mean_ms": (sum(s) / len(s) / 1e6) if s else float("nan"),
        "max_ms": (s[-1] / 1e6) if s else float("nan"),
        "n": len(s),
    }


def time_calls(fn: Callable[[T], object], items: Sequence[T], n: int, warmup: int = 50) -> list[int]:
    """Call ``fn`` on ``items`` (cycled) ``n`` times after a warm-up; one sample (ns) per call.

    The garbage collector stays on (it runs in production too), but starts each series clean.
    """
    for i in range(min(warmup, n)):
        fn(items[i % len(items)])
    gc.collect()
    out = []
    clock = time.perf_counter_ns
    for i in range(n):
        item = items[i % len(items)]
        t0 = clock()
        fn(item)
        out.append(clock() - t0)
    return out


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as f:
            info["memory_mb"] = int(f.readline().split()[1]) // 1024
    except OSError:
        pass
    try:
        import discord
        import rapidfuzz

        info["discord.py"] = discord.__version__
        info["rapidfuzz"] = rapidfuzz.__version__
    except ImportError:
        pass
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, timeout=5
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "lore", "bot", "bench", "fakediscord"],
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        ).stdout.strip()
        if info["commit"] and changed:
            info["commit"] += "+changes"  # measured with uncommitted changes to the code
    return info


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB, from /proc."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) / 1024
    return {"rss_mb": out.get("VmRSS", float("nan")), "peak_mb": out.get("VmHWM", float("nan"))}
