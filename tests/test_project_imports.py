"""No import cycle among the project's own modules (read from the source, nothing imported):
the engine, the adapter and the benchmarks each import in one direction only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakediscord.import_cycles import import_cycles, import_graph

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package", ["lore", "bot", "bench"])
def test_no_import_cycle(package):
    cycles = import_cycles(import_graph(ROOT / package))
    assert not cycles, f"import cycles in {package}/: " + "; ".join(" -> ".join(c) for c in cycles)
