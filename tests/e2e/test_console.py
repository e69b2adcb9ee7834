"""`lorebot console`: scripted sessions through the real bot and the fake Discord."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lore.packs import CANON_PACK_PATH


def run_console(script: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", *args],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )


@pytest.mark.skipif(not CANON_PACK_PATH.exists(), reason="canon pack not present")
def test_console_prints_naomis_card(tmp_path):
    proc = run_console("/character name:naomi ortman\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Naomi Orthmann" in proc.stdout
    assert "Spoilers: up to episode 0 · tag" in proc.stdout


def test_console_session_admin_member_and_forms(tmp_path):
    script = "\n".join(
        [
            "/spoilers episode number:3",
            "/lore-admin add kind:concept name:Console Thing",
            "Made in the console.",  # summary
            "Thingy",  # aliases
            "0",  # episode
            "/concept name:thingy",
            ":member",
            "/spoilers status",
            "/concept name:console thing",
            "?/concept name:cons",
            "/nonsense",
            ":quit",
        ]
    )
    proc = run_console(script + "\n", tmp_path)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert "up to episode **3**" in out
    assert "[form]" in out and "Added **Console Thing**" in out
    assert out.count("Console Thing") >= 3
    assert "needs Manage Server" in out
    assert "Made in the console." in out
    assert "no command 'nonsense'" in out


@pytest.mark.skipif(not CANON_PACK_PATH.exists(), reason="canon pack not present")
def test_console_episode_card_lists_the_cast_the_viewer_may_see(tmp_path):
    script = "\n".join(
        [
            "/spoilers mode mode:hide",
            "/spoilers episode number:5",
            "/episode number:5",
            "/spoilers episode number:3",
            "/episode number:5",
            ":quit",
        ]
    )
    proc = run_console(script + "\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    at5, at3 = proc.stdout.split("## Episode 5")[1:3]
    # the title is known from the preview at the end of episode 4: not yet at episode 3
    assert at5.startswith(": Carnival Dances") and not at3.startswith(":") and "Carnival Dances" not in at3
    # at episode 5: the cast, first appearances marked, and nobody introduced later (Eva, Noir: episode 8)
    assert "Cast" in at5 and "Opera (first appearance)" in at5 and "The Puppetmaster" in at5
    assert "Eden Varok" in at5 and "Eva" not in at5 and "Noir" not in at5
    # at episode 3: episode 5's cast is not shown at all
    assert "Cast" not in at3 and "Opera" not in at3 and "Puppetmaster" not in at3


@pytest.mark.skipif(not CANON_PACK_PATH.exists(), reason="canon pack not present")
def test_console_saves_the_pictures_where_the_user_can_open_them(tmp_path):
    out_dir = tmp_path / "pictures"
    script = "/spoilers episode number:5\n/relations name:naomi ortman depth:2\n/timeline\n"
    proc = run_console(script, tmp_path, "--files", str(out_dir))
    assert proc.returncode == 0, proc.stderr
    assert "[attachment relations-naomi-orthmann.png" in proc.stdout
    assert f"(saved {out_dir / 'relations-naomi-orthmann.png'})" in proc.stdout
    assert (out_dir / "relations-naomi-orthmann.png").read_bytes().startswith(b"\x89PNG")
    assert (out_dir / "timeline-ep1-5.png").read_bytes().startswith(b"\x89PNG")
