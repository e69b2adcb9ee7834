"""The Metallic Rouge command interface is pinned: the tree the canon pack registers is, byte for
byte, the one installs have already synced (its hash is stored per install; any change re-syncs
every server). Names, options, descriptions and ranges all come from the pack now, so this is the
proof that moving them there changed nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.app import LoreBot
from bot.errors import StartupError
from bot.names import BUILTIN_COMMANDS
from lore.packs import CANON_PACK_PATH
from lore.service import LoreService
from tests.conftest import DATA, SECOND_PACK

#: The hash of the tree with the two message commands ("Look up lore", "Check for spoilers"). The
#: franchise moved into the pack without changing it: dc968585… before and after (commit 8d8701d);
#: 7f1fd4f added the watch-along schedules to e07e61d's 9ac7dce9….
CANON_TREE_HASH = "13a62387fa84a2e1d7cb9e9db8fe9d7e6dbfbfce899640d9d14aec854350f536"
SNAPSHOT = DATA / "canon_commands.json"


async def loaded_bot(db: Path, pack: Path) -> LoreBot:
    """The bot with its lore open and every cog loaded, never connected (no sync)."""
    lore = await LoreService.open(db, canon_pack=pack)
    bot = LoreBot(lore, auto_sync=False)
    await bot.setup_hook()
    return bot


async def unload(bot: LoreBot) -> None:
    for ext in list(bot.extensions):
        await bot.unload_extension(ext)
    await bot.lore.close()


async def test_canon_command_tree_is_unchanged(tmp_path: Path) -> None:
    bot = await loaded_bot(tmp_path / "lore.sqlite3", CANON_PACK_PATH)
    try:
        payload = json.loads(json.dumps(bot._tree_payload(None), sort_keys=True, default=str))
        assert payload == json.loads(SNAPSHOT.read_text())
        assert bot.tree_hash() == CANON_TREE_HASH
        assert bot.tree_hash(1234) == CANON_TREE_HASH  # a development server gets the same tree
    finally:
        await unload(bot)


async def test_another_pack_in_the_same_process_leaves_the_canon_tree_alone(tmp_path: Path) -> None:
    other = await loaded_bot(tmp_path / "other.sqlite3", SECOND_PACK)
    try:
        assert other.tree_hash() != CANON_TREE_HASH
        names = [c["name"] for c in other._tree_payload(None)]
        assert names.index("gearwardens") == names.index("concept") + 1  # where the canon's roster sits
        canon = await loaded_bot(tmp_path / "canon.sqlite3", CANON_PACK_PATH)
        try:
            assert canon.tree_hash() == CANON_TREE_HASH
        finally:
            await unload(canon)
    finally:
        await unload(other)


async def test_the_builtin_command_names_are_the_trees(tmp_path: Path) -> None:
    """``bot.names.BUILTIN_COMMANDS`` (what a pack's roster may not be called) is every slash
    command of the tree but the pack's own rosters."""
    bot = await loaded_bot(tmp_path / "lore.sqlite3", CANON_PACK_PATH)
    try:
        slash = {c["name"] for c in bot._tree_payload(None) if c.get("type", 1) == 1}
        rosters = {r.command for r in bot.lore.franchise.rosters}
        assert rosters == {"immortal-nine"} and slash - rosters == BUILTIN_COMMANDS
    finally:
        await unload(bot)


def clashing_pack(tmp_path: Path, *commands: str) -> Path:
    """The second pack, its rosters renamed to ``commands``."""
    data = yaml.safe_load(SECOND_PACK.read_text(encoding="utf-8"))
    first = data["pack"]["rosters"][0]
    data["pack"]["rosters"] = [{**first, "command": c} for c in commands]
    path = tmp_path / "clash.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("commands", "sentence"),
    [
        (
            ("character",),
            "the pack's roster command /character has the name of the bot's own /character command: "
            "give the roster another name in the pack (pack.rosters[0].command).",
        ),
        (
            ("gearwardens", "timeline"),
            "the pack's roster command /timeline has the name of the bot's own /timeline command: "
            "give the roster another name in the pack (pack.rosters[1].command).",
        ),
        (
            ("gearwardens", "gearwardens"),
            "the pack declares the roster command /gearwardens twice: "
            "give each roster its own name (pack.rosters[1].command).",
        ),
    ],
)
async def test_a_roster_named_like_another_command_is_refused_before_anything_loads(
    tmp_path: Path, commands: tuple[str, ...], sentence: str
) -> None:
    lore = await LoreService.open(tmp_path / "lore.sqlite3", canon_pack=clashing_pack(tmp_path, *commands))
    try:
        bot = LoreBot(lore, auto_sync=False)
        with pytest.raises(StartupError) as refused:
            await bot.setup_hook()
        assert str(refused.value) == sentence
        assert not bot.extensions and not bot.tree.get_commands()  # nothing loaded, so nothing can sync
    finally:
        await lore.close()


def test_the_console_refuses_a_clashing_pack_in_one_sentence(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--pack", str(clashing_pack(tmp_path, "character")), "console"],
        input=":quit\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "lorebot: the pack's roster command /character has the name of the bot's own /character command: "
        "give the roster another name in the pack (pack.rosters[0].command)."
    ]
