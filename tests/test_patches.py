"""A server's edits of canon entries are patches over them: a newer canon reaches an edited entry,
the server's data and export hold only what it wrote (and the export imports back), revisions and
revert keep working, and overrides stored the old way (full copies) migrate with nothing lost."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lore.model import Entry, Fact
from lore.packs import parse_text, validate
from lore.patches import apply_patch, diff, is_patch, item_key, patch_doc, read_patch
from lore.schema import SCHEMA_VERSION
from lore.service import LoreService
from lore.spoilers import Mode, Policy
from lore.store import Change
from tests.conftest import MINI_PACK

G, G2 = 41, 42
EP0 = Policy(0, Mode.HIDE)
LATER = ("Metal Rouge", "Eva Cristella", "Divine Facilitator", "Ochrona agent", "Nean agent", "tech expert")


def mini_entries() -> list[Entry]:
    return validate(parse_text(MINI_PACK.read_bytes(), name="mini.yaml")).entries


def upgraded_pack(tmp_path, version: int = 2):
    """The mini pack, a version later: Rouge has a new fact and a new alias, Naomi a new fact."""
    data = yaml.safe_load(MINI_PACK.read_text(encoding="utf-8"))
    data["pack"]["version"] = version
    for e in data["entries"]:
        if e["slug"] == "rouge-redstar":
            e["facts"].append({"text": "She drinks Nean serum every day.", "episode": 2, "source": "test"})
            e["aliases"].append({"name": "Red Agent", "episode": 0})
        if e["slug"] == "naomi-orthmann":
            e["facts"].append({"text": "She builds drones.", "episode": 0, "source": "test"})
    path = tmp_path / f"mini-v{version}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def edit_some(svc: LoreService, guild: int = G) -> None:
    await svc.add_fact(guild, "rouge-redstar", "Our server calls her the red comet.", 0, "alice")
    await svc.add_alias(guild, "rouge-redstar", "Comet", "alice", policy=EP0)
    naomi = svc.get("naomi-orthmann", guild)
    assert naomi is not None
    await svc.edit_entry(
        guild,
        "naomi-orthmann",
        EP0,
        summary="Our own summary of Naomi.",
        aliases=[("Nami", 0), ("Nao", 0)],  # "Naomi" and the katakana name dropped
        introduced=0,
        author="bob",
        expect=naomi,
    )


# -- the patch itself ---------------------------------------------------------------------------
@st.composite
def edited(draw: st.DrawFn) -> tuple[Entry, Entry]:
    base = draw(st.sampled_from(mini_entries()))
    data = base.model_dump()
    for group in ("aliases", "facts", "attributes", "relations"):
        items = data[group]
        keep = draw(st.lists(st.booleans(), min_size=len(items), max_size=len(items)))
        items = [x for x, k in zip(items, keep, strict=True) if k]
        if group == "aliases" and items and draw(st.booleans()):
            items[0] = {**items[0], "episode": min(13, items[0]["episode"] + 1)}  # a change in place
        if group == "facts":
            for text in draw(st.lists(st.sampled_from(["A.", "B.", "C."]), unique=True, max_size=2)):
                items.append(Fact(text=text, episode=draw(st.integers(0, 13)), source="s").model_dump())
        if draw(st.booleans()):
            items = list(reversed(items))
        data[group] = items
    if draw(st.booleans()):
        data["summary"] = "Another summary."
    return base, Entry.model_validate(data)


@settings(max_examples=200, deadline=None)
@given(edited())
def test_a_patch_gives_back_the_entry_it_was_made_from(pair):
    base, target = pair
    exact = diff(base, target, keep_order=True)
    assert apply_patch(base, exact) == target
    loose = apply_patch(base, diff(base, target))  # without the order: the same items
    for group in ("aliases", "facts", "attributes", "relations"):
        assert sorted(map(item_key, getattr(loose, group))) == sorted(map(item_key, getattr(target, group)))
    # the stored form holds no canon text: only keys of canon items, and what the edit added
    doc = patch_doc(diff(base, target))
    assert is_patch(doc) and read_patch(doc) == diff(base, target)
    kept = [f.text for f in target.facts if f in base.facts]
    assert not any(text in doc for text in kept)


def test_a_canon_item_changed_by_the_server_stays_its_version_when_the_canon_drops_it():
    base = next(e for e in mini_entries() if e.slug == "rouge-redstar")
    target = base.model_copy(update={"aliases": [base.aliases[0].model_copy(update={"episode": 2}), *base.aliases[1:]]})
    patch = diff(base, target)
    assert list(patch.aliases.change) == [item_key(base.aliases[0])] and not patch.aliases.add
    newer = base.model_copy(update={"aliases": base.aliases[1:]})
    assert apply_patch(newer, patch).aliases[-1].episode == 2  # the server's version, after the canon's


# -- through the service ------------------------------------------------------------------------
async def test_the_servers_data_holds_only_what_it_wrote(mini):
    await edit_some(mini)
    rows = await mini.store.read_docs(None, f"guild:{G}")
    assert set(rows) == {"rouge-redstar", "naomi-orthmann"} and all(is_patch(d) for d in rows.values())
    text = json.dumps(rows, ensure_ascii=False) + mini.export(G) + mini.export(G, "json")
    assert not any(later in text for later in LATER), text
    revisions = await mini.store.fetchall("SELECT doc FROM revisions WHERE scope = ?", (f"guild:{G}",))
    assert revisions and not any(later in (doc or "") for (doc,) in revisions for later in LATER)
    rouge = mini.get("rouge-redstar", G)
    assert rouge is not None and rouge.facts[-1].text == "Our server calls her the red comet."
    assert [f.text for f in rouge.facts[:2]] == [f.text for f in mini.get("rouge-redstar").facts]
    naomi = mini.get("naomi-orthmann", G)
    assert naomi is not None and naomi.summary == "Our own summary of Naomi."
    assert [a.name for a in naomi.aliases] == ["Nami", "Divine Facilitator", "Nao"]  # the later alias untouched


async def test_an_upgraded_canon_pack_reaches_the_edited_entries(mini, tmp_path):
    await edit_some(mini)
    other = await LoreService.open(getattr(mini.store, "url", mini.store.path), canon_pack=None)
    try:
        report = await mini.apply_canon_pack(upgraded_pack(tmp_path))
        assert report is not None and "rouge-redstar" in report.updated
        for svc in (mini, other):
            await svc.refresh(0)
            rouge = svc.get("rouge-redstar", G)
            assert rouge is not None
            facts = [f.text for f in rouge.facts]
            assert "She drinks Nean serum every day." in facts and "Our server calls her the red comet." in facts
            assert {"Red Agent", "Comet", "Rouge"} <= {a.name for a in rouge.aliases}
            naomi = svc.get("naomi-orthmann", G)
            assert naomi is not None and "She builds drones." in [f.text for f in naomi.facts]
            assert naomi.summary == "Our own summary of Naomi." and "Naomi" not in [a.name for a in naomi.aliases]
            # found by the new canon name and text, in the edited entry
            assert svc.ask("Red Agent", Policy(13, Mode.SHOW), G).view.slug == "rouge-redstar"  # type: ignore[union-attr]
            hits = await svc.search_text("drones", Policy(13, Mode.SHOW), G)
            assert [h.slug for h in hits.hits] == ["naomi-orthmann"]
        # the server's data did not change: the patches are what it wrote
        assert "Nean serum" not in mini.export(G) and "drones" not in mini.export(G)
    finally:
        await other.close()


async def test_the_export_imports_back_as_the_same_lore(mini):
    await edit_some(mini)
    await mini.save_entry(G, {"slug": "fan-club", "kind": "faction", "name": "Fan Club"}, "alice", "add")
    await mini.remove_entry(G, "mars", "alice")
    exported = mini.export(G)
    assert "removed:\n- mars" in exported
    report = await mini.import_pack(exported, guild_id=G, author="alice")
    assert not report.changed  # its own export changes nothing
    report = await mini.import_pack(exported, guild_id=G2, author="carol")
    assert sorted(report.created) == ["fan-club", "naomi-orthmann", "rouge-redstar"] and report.removed == ["mars"]
    assert report.summary() == "3 created, 0 updated, 1 removed, 0 unchanged"
    for slug in ("fan-club", "naomi-orthmann", "rouge-redstar", "mars", "aletheia"):
        assert mini.get(slug, G2) == mini.get(slug, G)
    assert mini.get("mars", G2) is None
    assert mini.export(G2).replace(str(G2), str(G)) == exported
    json_export = mini.export(G, "json")
    assert not (await mini.import_pack(json_export, guild_id=G2, author="carol", filename="x.json")).changed


async def test_a_patch_of_an_entry_beyond_the_channel_is_no_entry(mini):
    pack = {"pack": {"name": "p"}, "patches": [{"slug": "gene-junghardt", "set": {"summary": "x"}}]}
    with pytest.raises(Exception, match=r"patches\[0\].slug: no canon entry 'gene-junghardt' to patch"):
        await mini.import_pack(json.dumps(pack), guild_id=G, author="a", filename="p.json", policy=Policy(1, Mode.HIDE))
    with pytest.raises(Exception, match=r"patches\[0\].slug: no canon entry 'no-such' to patch"):
        pack["patches"][0]["slug"] = "no-such"
        await mini.import_pack(json.dumps(pack), guild_id=G, author="a", filename="p.json", policy=Policy(1, Mode.HIDE))
    pack["patches"][0]["slug"] = "gene-junghardt"
    await mini.import_pack(json.dumps(pack), guild_id=G, author="a", filename="p.json", policy=Policy(3, Mode.HIDE))
    assert mini.get("gene-junghardt", G).summary == "x"  # type: ignore[union-attr]


async def test_history_and_revert_of_patches(mini):
    await mini.add_fact(G, "mars", "First note.", 0, "alice")
    await mini.add_fact(G, "mars", "Second note.", 0, "alice")
    first = mini.get("mars", G)
    await mini.remove_entry(G, "mars", "bob")
    assert mini.get("mars", G) is None
    scope, history = await mini.history(G, "mars")
    assert scope == f"guild:{G}" and [r.number for r in history] == [1, 2, 3] and history[-1].removed
    await mini.revert(G, "mars", 1, "carol")
    assert [f.text for f in mini.get("mars", G).facts][-1] == "First note."  # type: ignore[union-attr]
    await mini.revert(G, "mars", 2, "carol")
    assert mini.get("mars", G) == first
    await mini.revert(G, "mars", 0, "carol")
    assert mini.follows_canon(G, "mars") and mini.get("mars", G) == mini.get("mars")


# -- migration ----------------------------------------------------------------------------------
async def _set_schema(svc: LoreService, version: int) -> None:
    async with svc.store.write() as tx:
        if svc.store.backend == "sqlite":
            await tx.execute(f"PRAGMA user_version = {version}")
        else:
            await tx.execute("UPDATE lorebot_schema SET version = ?", (version,))


async def test_full_copies_made_the_old_way_migrate_to_patches_with_nothing_lost(db_target):
    svc = await LoreService.open(db_target, canon_pack=MINI_PACK)
    scope = f"guild:{G}"
    canon = {e.slug: e for e in mini_entries()}
    rouge = canon["rouge-redstar"]
    naomi = canon["naomi-orthmann"]
    mars = canon["mars"]
    copies = {
        # add fact: the whole entry copied, the fact after the canon's
        "rouge-redstar": [
            rouge.model_copy(update={"facts": [*rouge.facts, Fact(text="Ours.", source="s")]}),
        ],
        # the old edit form: the later alias moved after the ones it showed, one added, a new summary
        "naomi-orthmann": [
            naomi.model_copy(update={"summary": "Old edit."}),
            naomi.model_copy(
                update={
                    "summary": "Second edit.",
                    "aliases": [
                        *[a for a in naomi.aliases if a.episode == 0],
                        naomi.aliases[0].model_copy(update={"name": "Nao"}),
                        naomi.aliases[3],
                    ],
                }
            ),
        ],
        # a copy of an older canon: it lacks what the canon has since
        "mars": [mars.model_copy(update={"summary": "Older canon summary.", "facts": []})],
    }
    async with svc.store.write() as tx:
        for slug, versions in copies.items():
            for i, entry in enumerate(versions):
                await svc.store.put_entries(tx, scope, [Change(slug, entry, f"old {i}")], "old")
        await svc.store.put_entries(
            tx, scope, [Change("own-thing", Entry(slug="own-thing", kind="concept", name="Own Thing"), "add")], "old"
        )
    before = {slug: svc.get(slug, G) for slug in [*copies, "own-thing"]}
    assert before["rouge-redstar"] == copies["rouge-redstar"][-1]  # stored as the old code stored them
    await _set_schema(svc, 7)
    await svc.close()

    svc = await LoreService.open(db_target, canon_pack=MINI_PACK)
    try:
        assert await svc.store.schema_version() == SCHEMA_VERSION
        rows = await svc.store.read_docs(None, scope)
        assert all(is_patch(rows[slug]) for slug in copies) and not is_patch(rows["own-thing"])
        for slug, entry in before.items():
            assert svc.get(slug, G) == entry, slug
        revisions = await svc.store.fetchall("SELECT slug, number, doc FROM revisions WHERE scope = ?", (scope,))
        assert all(is_patch(doc) for slug, _, doc in revisions if slug in copies)
        # every revision gives back the copy it was
        for slug, versions in copies.items():
            for number, entry in enumerate(versions, start=1):
                await svc.revert(G, slug, number, "test")
                assert svc.get(slug, G) == entry, (slug, number)
        assert "Metal Rouge" not in svc.export(G) and "Divine Facilitator" not in json.dumps(rows)
    finally:
        await svc.close()


async def test_the_canon_takes_no_patches_or_removals(mini):
    pack = {"pack": {"name": "c"}, "removed": ["mars"]}
    with pytest.raises(Exception, match="belong to a server's lore"):
        await mini.import_pack(json.dumps(pack), guild_id=None, author="op", filename="c.json")
    assert mini.get("mars") is not None


async def test_a_servers_name_that_a_later_canon_alias_also_has_is_found_from_now(mini):
    """Adding a name the entry has only later is accepted (the reply is the one without the later
    alias), and the name is found at once: the later duplicate does not hold it back."""
    revision = await mini.add_alias(G, "naomi-orthmann", "divine facilitator", "alice", policy=EP0)
    assert revision == 1
    answer = mini.ask("Divine Facilitator", EP0, G)
    assert answer.view is not None and answer.view.slug == "naomi-orthmann"
    assert mini.ask("Divine Facilitator", EP0, G2).view is None  # another server: still a later name
