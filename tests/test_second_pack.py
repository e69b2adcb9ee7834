"""The second franchise (synthetic test data: tests/data/clockwork_orchard.yaml) through the engine
and the CLI: its episode list of two seasons bounds every check, ``s2e8`` names episode 20, and
its twist of episode 20 is gated like any other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import main
from lore.errors import LoreError, PackError
from lore.franchise import EpisodeError, Franchise
from lore.model import PackMeta
from lore.packs import load_pack
from lore.service import LoreService
from lore.spoilers import Mode, Policy
from tests.conftest import MINI_PACK, SECOND_PACK

ORCHARD = Franchise.of(load_pack(SECOND_PACK).pack)
PLAIN = Franchise.of(load_pack(MINI_PACK).pack)


def test_the_pack_declares_its_franchise() -> None:
    pack = load_pack(SECOND_PACK)
    assert "SYNTHETIC TEST DATA" in SECOND_PACK.read_text(encoding="utf-8").splitlines()[0]
    assert ORCHARD.last == 24 and [s.label for s in ORCHARD.seasons] == ["Season 1: Blossom", "Season 2: Harvest"]
    assert sorted(e.episode.number for e in pack.entries if e.episode) == list(range(1, 25))
    assert [r.command for r in ORCHARD.rosters] == ["gearwardens"]
    assert ORCHARD.bot.name == "Clockwork Orchard test bot" and ORCHARD.series == "clockwork-orchard"


@pytest.mark.parametrize(
    ("text", "episode"),
    [("20", 20), ("s2e8", 20), ("S02E08", 20), ("2x8", 20), ("season 2 episode 8", 20), ("s1e1", 1), ("0", 0)],
)
def test_episodes_are_typed_as_numbers_or_by_season(text: str, episode: int) -> None:
    assert ORCHARD.parse_episode(text) == episode


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("25", "The episode must be a number from 0 to 24, or a season and episode such as s2e1 (s1e1 to s2e12)."),
        ("s3e1", "There is no season 3: the series has 2 seasons."),
        ("s2e13", "Season 2: Harvest has episodes 1 to 12."),
        ("s0e1", "There is no season 0: the series has 2 seasons."),
        ("soon", "“soon” is not an episode"),
        ("", "“” is not an episode"),
    ],
)
def test_bad_episodes_say_what_to_type(text: str, message: str) -> None:
    with pytest.raises(EpisodeError) as e:
        ORCHARD.parse_episode(text)
    assert message in str(e.value)


def test_a_franchise_without_seasons_takes_numbers_only() -> None:
    assert PLAIN.last == 13 and PLAIN.code(5) is None and PLAIN.label(5) == "episode 5"
    with pytest.raises(EpisodeError, match="This series has no seasons"):
        PLAIN.parse_episode("s1e2")
    assert ORCHARD.label(20) == "episode 20 (S2E8)"


def test_replies_name_an_episode_by_its_number_and_code() -> None:
    assert ORCHARD.label(15, capital=True) == "Episode 15 (S2E3)" and ORCHARD.label(0) == "episode 0"
    assert PLAIN.label(5, capital=True) == "Episode 5" and PLAIN.span_label(1, 13, capital=True) == "Episodes 1–13"
    assert ORCHARD.span_label(13, 24, capital=True) == "Episodes 13–24 (S2E1–S2E12)"
    assert ORCHARD.span_label(3, 3) == "episode 3 (S1E3)" and ORCHARD.span_label(0, 2) == "episodes 0–2"
    assert Policy(20, Mode.TAG).footer(ORCHARD) == "Spoilers: up to episode 20 (S2E8) · tag"
    assert Policy(5, Mode.HIDE).footer(PLAIN) == Policy(5, Mode.HIDE).footer() == "Spoilers: up to episode 5 · hide"


def test_an_undeclared_episode_list_is_as_long_as_the_highest_episode_named() -> None:
    pack = load_pack(SECOND_PACK)
    undeclared = pack.model_copy(update={"pack": PackMeta(name="x")})
    assert Franchise.of(undeclared.pack, undeclared).last == 24
    assert Franchise.of(PackMeta(name="empty")).last == 1


@given(st.integers(min_value=1, max_value=24))
def test_every_episode_reads_back_from_its_code(n: int) -> None:
    code = ORCHARD.code(n)
    assert code is not None
    assert ORCHARD.parse_episode(code) == n == ORCHARD.parse_episode(code.lower()) == ORCHARD.parse_episode(str(n))


@given(st.integers(min_value=25, max_value=10**6))
def test_no_number_beyond_the_last_episode_is_an_episode(n: int) -> None:
    with pytest.raises(EpisodeError):
        ORCHARD.parse_episode(str(n))


async def test_the_service_bounds_everything_by_24(tmp_path: Path) -> None:
    async with await LoreService.open(tmp_path / "orchard.sqlite3", canon_pack=SECOND_PACK) as svc:
        assert svc.franchise.last == 24
        await svc.set_progress(7, 24)  # the database stores episodes past 13 (schema without the old bound)
        await svc.set_policy(1, episode=22)
        await svc.set_policy(1, channel_id=2, episode=24)
        assert svc.progress(7) == 24 and svc.policy(1, 2).episode == 24 and svc.policy(1).episode == 22
        with pytest.raises(LoreError, match="between 0 and 24; nothing was changed"):
            await svc.set_progress(7, 25)
        fact = (
            "pack: {name: fans}\n"
            "entries:\n  - {slug: x, kind: concept, name: X, facts: [{text: y, episode: 25, source: s}]}\n"
        )
        with pytest.raises(PackError) as e:
            await svc.import_pack(fact, guild_id=1, author="t")
        assert "entries[0].facts[0].episode: must be between 0 and 24" in e.value.errors
        report = await svc.import_pack(fact.replace("25", "24"), guild_id=1, author="t")
        assert report.created == ["x"]
        at19, at20 = Policy(19, Mode.HIDE), Policy(20, Mode.HIDE)
        twist = "secretly the Pruner"
        assert twist not in json.dumps(svc.ask("tomas wick", at19).to_json())
        assert twist in json.dumps(svc.ask("tomas wick", at20).to_json())
        assert svc.ask("x", Policy(23, Mode.HIDE), 1).to_json()["hidden"] is True
        assert svc.ask("x", Policy(24, Mode.HIDE), 1).to_json()["hidden"] is False


def test_the_cli_asks_the_second_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "cli.sqlite3")
    base = ["--db", db, "--pack", str(SECOND_PACK), "ask", "tomas wick", "--json", "--mode", "hide"]
    assert main([*base, "--episode", "s2e7"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["match"]["slug"] == "tomas-wick" and before["hidden"] is True
    assert not any("Pruner" in f["text"] for f in before["match"]["facts"])
    assert main([*base, "--episode", "s2e8"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert any("secretly the Pruner" in f["text"] for f in after["match"]["facts"])
    assert main([*base, "--episode", "25"]) == 2
    assert "from 0 to 24" in capsys.readouterr().err
    assert main(["--db", db, "--pack", str(SECOND_PACK), "ask", "ivo", "--episode", "24"]) == 0
    out = capsys.readouterr().out
    assert "Ivo Brass" in out and "Rouge" not in out and "Metallic" not in out
