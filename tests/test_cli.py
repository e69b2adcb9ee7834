"""The lorebot CLI: ask (text and JSON), import/export, db upgrade, run without a token."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import main
from bot.terminal import HIDDEN, hide_spoilers
from tests.conftest import MINI_PACK
from tests.counterfactual.markup import SPAN, blank, spans


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A database pre-filled from the mini pack (imported as canon through the CLI itself)."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("LOREBOT_DB", str(path))
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return path


def test_import_ask_json(db, capsys):
    assert main(["import", str(MINI_PACK)]) == 0
    capsys.readouterr()
    assert main(["ask", "naomi ortman", "--json", "--episode", "3", "--mode", "hide"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"query", "match", "candidates", "ambiguous", "hidden", "later"}
    assert out["match"]["slug"] == "naomi-orthmann" and out["match"]["name"] == "Naomi Orthmann"
    # "hidden" says whether the policy holds anything back: never how much (that is the oracle)
    assert out["hidden"] is True and out["later"] is None and not out["ambiguous"]
    assert all(f["episode"] <= 3 for f in out["match"]["facts"])


def test_ask_at_a_terminal_hides_the_spoiler_spans_and_json_keeps_them(db, capsys):
    """Under ``tag`` the later lore comes in a spoiler span; a terminal draws no spoiler tags, so
    the text answer prints a marker saying how to read it instead, and ``--json`` is unchanged."""
    main(["import", str(MINI_PACK)])
    capsys.readouterr()
    ask = ["ask", "naomi ortman", "--episode", "3", "--mode", "tag"]
    assert main([*ask, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (later,) = spans(data["match"]["later"])
    assert later.strip() and data["match"]["later"] == f"||{later}||"
    assert main(ask) == 0
    text = capsys.readouterr().out
    assert "||" not in text and spans(text) == [] and f"Later episodes: {HIDDEN}\n" in text
    for line in later.splitlines():
        assert line not in text
    assert main(["ask", "naomi ortman", "--episode", "3", "--mode", "show"]) == 0
    assert HIDDEN not in capsys.readouterr().out  # show has no spans: nothing to hide


@given(st.text(alphabet="|\\`ab \n", max_size=40))
def test_a_terminal_hides_exactly_the_spans_discord_would_draw(text):
    hidden = hide_spoilers(text)
    assert hidden == blank(text).replace(SPAN, HIDDEN)
    assert spans(hidden) == []


def test_ask_no_match_is_still_exit_zero(db, capsys):
    main(["import", str(MINI_PACK)])
    capsys.readouterr()
    assert main(["ask", "zzzz qqqq", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["match"] is None


def test_ask_bad_arguments_exit_2(db, capsys):
    # the episode is read against the pack's episode list (13 for Metallic Rouge), once it is open
    assert main(["ask", "x", "--episode", "14"]) == 2
    assert "--episode: The episode must be a number from 0 to 13." in capsys.readouterr().err
    assert main(["ask", "x", "--episode", "s1e2"]) == 2
    assert "This series has no seasons" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["ask", "x", "--mode", "loud"])
    assert exc.value.code == 2


def test_bad_import_lists_errors_and_exits_1(db, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries:\n  - {slug: Bad Slug, kind: nope, name: x}\n", encoding="utf-8")
    assert main(["import", str(bad), "--guild", "5"]) == 1
    err = capsys.readouterr().err
    assert "nothing changed" in err
    assert "entries[0].slug:" in err and "entries[0].kind:" in err


def test_export_and_db_upgrade(db, tmp_path, capsys):
    main(["import", str(MINI_PACK)])
    out = tmp_path / "canon.json"
    assert main(["export", "--format", "json", "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["entries"]
    capsys.readouterr()
    assert main(["db", "upgrade"]) == 0
    assert "Schema version" in capsys.readouterr().out


def test_run_without_token_says_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["LOREBOT_DB"] = str(tmp_path / "x.sqlite3")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "DISCORD_TOKEN" in proc.stderr and ".env.example" in proc.stderr
    assert "lorebot console" in proc.stderr


def test_a_file_that_is_not_a_database_gets_a_sentence_not_a_traceback(db, capsys):
    db.write_bytes(b"these are not the droids you are looking for" * 20)
    assert main(["ask", "rouge"]) == 1
    err = capsys.readouterr().err
    assert "cannot use" in err and str(db) in err and "Traceback" not in err
