"""Density of the canon pack: a viewer at episode N (hide) sees more of the most-asked entries in
v3 than in v2 at every episode, and the frozen v2 table is what git history measures."""

from __future__ import annotations

import subprocess

import pytest

from bench import density as d
from lore.packs import CANON_PACK_PATH

pytestmark = pytest.mark.skipif(not CANON_PACK_PATH.exists(), reason="canon pack not present")


def test_every_episode_shows_more_than_v2():
    v3 = d.density()
    assert len(v3) == 13
    for episode, (old, new) in enumerate(zip(d.V2_FROZEN, v3, strict=True), 1):
        assert new > old, (episode, old, new)
    # the mid-series cards are the ones v2 left thin: at least half as many facts again at episodes 3-7
    assert all(v3[e - 1] >= 1.5 * d.V2_FROZEN[e - 1] for e in range(3, 8))


def _has_v2_in_history() -> bool:
    try:
        subprocess.run(
            ["git", "cat-file", "-e", f"{d.V2_COMMIT}:lore/packs/canon.yaml"], cwd=d.ROOT, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


@pytest.mark.skipif(not _has_v2_in_history(), reason="no git history with pack v2")
def test_frozen_v2_table_matches_git_history():
    counts, origin = d.v2_density()
    assert origin.startswith("git") and tuple(counts) == d.V2_FROZEN


def test_report_prints_one_row_per_episode(capsys):
    assert d.main([]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out[2:15]]
    assert [int(r[0]) for r in rows] == list(range(1, 14))
    assert out[-1].split()[0] == "total"
