"""Lore packs: validation with every error listed, all-or-nothing import, round trips."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lore.model import Entry
from lore.packs import PackError, parse_text, validate
from lore.store import Change
from tests.conftest import MINI_PACK

GOOD_ENTRY = {"slug": "new-one", "kind": "concept", "name": "New One", "summary": "A thing."}


def _mini() -> dict:
    return yaml.safe_load(MINI_PACK.read_text(encoding="utf-8"))


def test_mini_pack_is_valid():
    pack = validate(_mini())
    assert len(pack.entries) > 5


def test_every_error_is_listed_with_path_and_reason():
    data = _mini()
    data["entries"][1]["facts"][0]["episode"] = 14
    data["entries"][2]["kind"] = "starship"
    data["entries"][0]["relations"][0]["target"] = "nowhere"
    del data["entries"][3]["name"]
    with pytest.raises(PackError) as exc:
        validate(data)
    errors = exc.value.errors
    assert "entries[1].facts[0].episode: must be between 0 and 13" in errors
    assert any(e.startswith("entries[2].kind:") for e in errors)
    assert "entries[3].name: is required" in errors
    assert len(errors) == 3  # cross-checks run only once the shape is right


def test_cross_checks_are_listed_together():
    data = _mini()
    data["entries"][0]["relations"][0]["target"] = "nowhere"
    data["entries"].append(dict(data["entries"][1]))  # duplicate slug (and names)
    data["entries"][5]["aliases"] = [{"name": "Rouge"}]  # claimed by rouge-redstar already
    with pytest.raises(PackError) as exc:
        validate(data)
    errors = exc.value.errors
    assert "entries[0].relations[0].target: no entry with slug 'nowhere'" in errors
    assert any(e.startswith(f"entries[{len(data['entries']) - 1}].slug: duplicate") for e in errors)
    assert any(e.startswith("entries[5].aliases[0]:") and "rouge" in e for e in errors)


def test_shared_alias_is_allowed():
    validate(_mini())  # "Junghardt" is on two entries, marked shared on both


def test_bad_syntax_reports_a_location():
    with pytest.raises(PackError) as exc:
        parse_text("entries: [\n  - {slug: a", name="x.yaml")
    assert exc.value.errors[0].startswith("(file): invalid YAML at line")
    with pytest.raises(PackError) as exc:
        parse_text(b'{"entries": [}', name="x.json")
    assert "invalid JSON" in exc.value.errors[0]
    with pytest.raises(PackError):
        validate(["not", "a", "mapping"])


async def test_invalid_import_changes_nothing(mini):
    before = mini.export(None)
    bad = _mini()
    bad["entries"][0]["summary"] = "Changed!"  # a valid change ...
    bad["entries"][4]["facts"] = [{"text": "x", "episode": 99, "source": "test"}]  # ... next to an invalid one
    with pytest.raises(PackError):
        await mini.import_pack(yaml.safe_dump(bad), guild_id=None, author="t")
    assert mini.export(None) == before
    with pytest.raises(PackError):
        await mini.import_pack(yaml.safe_dump(bad), guild_id=42, author="t")
    assert mini.export(42).count("slug:") == 0
    assert (await mini.store.fetchall("SELECT COUNT(*) FROM revisions WHERE scope != 'canon'"))[0][0] == 0


async def test_import_is_idempotent_and_export_round_trips(mini):
    pack = {"pack": {"name": "server"}, "entries": [GOOD_ENTRY]}
    first = await mini.import_pack(json.dumps(pack), guild_id=7, author="t", filename="p.json")
    assert first.created == ["new-one"]
    again = await mini.import_pack(json.dumps(pack), guild_id=7, author="t", filename="p.json")
    assert not again.changed and again.unchanged == ["new-one"]
    for fmt in ("yaml", "json"):
        exported = mini.export(7, fmt)
        report = await mini.import_pack(exported, guild_id=7, author="t", filename=f"x.{fmt}")
        assert not report.changed
    canon = mini.export(None)
    assert not (await mini.import_pack(canon, guild_id=None, author="t")).changed


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 20) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_parse_or_fail_with_a_pack_error(raw):
    try:
        validate(parse_text(raw, name="x.yaml"))
    except PackError as e:
        assert e.errors and all(": " in err for err in e.errors)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["pack", "entries", "extra"]), json_values, max_size=3))
def test_arbitrary_structures_validate_or_list_errors(data):
    try:
        validate(data)
    except PackError as e:
        assert e.errors and all(": " in err for err in e.errors)


def test_a_slug_too_long_for_discord_is_rejected():
    # Discord carries the slug as an autocomplete choice's and a select option's value: 100 at most
    data = _mini()
    data["entries"][0]["slug"] = "x" * 101
    with pytest.raises(PackError) as exc:
        validate(data)
    assert any(e.startswith("entries[0].slug:") for e in exc.value.errors)


async def test_a_stored_entry_with_a_long_slug_still_loads(mini):
    # written before the 100-character limit: it must keep working (new writes are held to the limit)
    long = "x" * 150
    async with mini.store.write() as tx:
        await mini.store.put_entries(
            tx, "guild:3", [Change(long, Entry(slug=long, kind="concept", name="Longthing"), "add")], "t"
        )
    await mini._reload("guild:3")
    assert mini.get(long, 3).name == "Longthing" and mini.export(3)
