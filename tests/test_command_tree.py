"""The Metallic Rouge command interface is pinned: the tree the canon pack registers is, byte for
byte, the one installs have already synced (its hash is stored per install; any change re-syncs
every server). Names, options, descriptions and ranges all come from the pack now, so this is the
proof that moving them there changed nothing."""

from __future__ import annotations

import json
from pathlib import Path

from bot.app import LoreBot
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
