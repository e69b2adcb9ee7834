"""A deterministic synthetic lore pack: realistic names, aliases, facts, relations and episodes.

Names are built from syllables that each have a katakana spelling, so every character also gets a
Japanese alias the way the canon has them ("Naomi Orthmann" / "ナオミ・オルトマン"). Family names are
shared by several characters (a shared surname alias, like "Junghardt"), some characters carry a
title revealed later ("Phantom Kavelo"), and factions, places and concepts are named after the
same syllables, so fuzzy matching meets near neighbours at every size.

The same ``(size, seed)`` always gives the same pack (``random.Random(seed)``, no hash order).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from lore.model import Pack
from lore.normalize import normalize

GENERATOR_VERSION = 3
DEFAULT_SEED = 20240111

#: (romaji, katakana) syllables; names are 2-3 of them (given) or 2-3 plus an ending (family).
SYLLABLES: tuple[tuple[str, str], ...] = (
    ("a", "ア"), ("i", "イ"), ("u", "ウ"), ("e", "エ"), ("o", "オ"),
    ("ka", "カ"), ("ki", "キ"), ("ku", "ク"), ("ke", "ケ"), ("ko", "コ"),
    ("sa", "サ"), ("shi", "シ"), ("su", "ス"), ("se", "セ"), ("so", "ソ"),
    ("ta", "タ"), ("chi", "チ"), ("tsu", "ツ"), ("te", "テ"), ("to", "ト"),
    ("na", "ナ"), ("ni", "ニ"), ("nu", "ヌ"), ("ne", "ネ"), ("no", "ノ"),
    ("ha", "ハ"), ("hi", "ヒ"), ("fu", "フ"), ("he", "ヘ"), ("ho", "ホ"),
    ("ma", "マ"), ("mi", "ミ"), ("mu", "ム"), ("me", "メ"), ("mo", "モ"),
    ("ya", "ヤ"), ("yu", "ユ"), ("yo", "ヨ"),
    ("ra", "ラ"), ("ri", "リ"), ("ru", "ル"), ("re", "レ"), ("ro", "ロ"),
    ("wa", "ワ"), ("ga", "ガ"), ("gi", "ギ"), ("go", "ゴ"), ("za", "ザ"), ("ji", "ジ"),
    ("da", "ダ"), ("de", "デ"), ("do", "ド"), ("ba", "バ"), ("bi", "ビ"), ("be", "ベ"),
    ("va", "ヴァ"), ("vi", "ヴィ"), ("ve", "ヴェ"), ("lu", "ル"), ("li", "リ"),
    ("ry", "リ"), ("jo", "ジョ"), ("ju", "ジュ"), ("gen", "ゲン"), ("rin", "リン"), ("mar", "マル"),
)  # fmt: skip
#: Western-looking family-name endings with their katakana.
FAMILY_ENDINGS: tuple[tuple[str, str], ...] = (
    ("mann", "マン"), ("hardt", "ハルト"), ("stein", "シュタイン"), ("ski", "スキー"), ("ton", "トン"),
    ("berg", "ベルク"), ("ford", "フォード"), ("ley", "リー"), ("vich", "ヴィッチ"), ("ner", "ナー"),
    ("son", "ソン"), ("ard", "アルド"), ("", ""), ("", ""), ("", ""),
)  # fmt: skip
TITLE_WORDS = (
    "Phantom", "Jet", "Doctor", "Captain", "Silent", "Crimson", "Iron", "Lady", "Lord", "Agent",
    "Sister", "Brother", "Professor", "Madame", "Count", "Ghost", "Silver", "Black", "Saint", "Red",
)  # fmt: skip
SRC = "synthetic"
COLOURS = ("red", "blue", "green", "black", "white", "silver", "gold", "violet", "amber", "teal", "grey", "crimson")
POWERS = (
    "gladiator form", "electromagnetic blades", "thermal lance", "code rewriting", "sonic burst",
    "mimicry", "gravity shear", "nano swarm", "light refraction", "kinetic shield",
)  # fmt: skip
#: (English form, Japanese form) of faction, place and concept names.
FACTION_FORMS = (
    ("Order of {}", "{}騎士団"), ("{} Corporation", "{}コーポレーション"), ("{} Council", "{}評議会"),
    ("House {}", "{}家"), ("{} Brigade", "{}旅団"), ("{} Syndicate", "{}シンジケート"),
)  # fmt: skip
PLACE_FORMS = (
    ("{} City", "{}シティ"), ("Port {}", "{}港"), ("{} Station", "{}ステーション"),
    ("{} District", "{}地区"), ("{} Colony", "{}コロニー"), ("Mount {}", "{}山"),
)  # fmt: skip
CONCEPT_FORMS = (
    ("{} Protocol", "{}プロトコル"), ("{} Code", "{}コード"), ("{} Drive", "{}ドライブ"),
    ("{} Cell", "{}セル"), ("{} Theory", "{}理論"), ("{} Engine", "{}エンジン"),
)  # fmt: skip
FACT_FORMS = (
    "{name} first appears in episode {ep}.",
    "{name} was trained at {place}.",
    "{name} is wanted by {faction}.",
    "{name} keeps a journal hidden in {place}.",
    "{name} once worked as a courier between {place} and the colonies.",
    "{name} carries a Nean core of unknown origin.",
    "{name} secretly reports to {faction}.",
    "{name} lost a sibling during the war.",
    "{name} can no longer synthesise Visitor code.",
    "{name} was built, not born.",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Spec:
    size: int
    seed: int = DEFAULT_SEED

    @property
    def key(self) -> str:
        return f"synthetic-{self.size}-s{self.seed}-v{GENERATOR_VERSION}"


class _Names:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def word(self, lo: int, hi: int) -> tuple[str, str]:
        parts = [self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(lo, hi))]
        return "".join(p[0] for p in parts).capitalize(), "".join(p[1] for p in parts)

    def family(self) -> tuple[str, str]:
        base, kana = self.word(2, 3)
        end, end_kana = self.rng.choice(FAMILY_ENDINGS)
        return base + end, kana + end_kana

    def claim(self, name: str) -> bool:
        key = normalize(name)
        if key in self.used:
            return False
        self.used.add(key)
        return True


#: The synthetic franchise's episode list (as long as the canon's, so figures stay comparable).
EPISODES = 13


def _episode(rng: random.Random, low: int = 0) -> int:
    if low == 0 and rng.random() < 0.4:
        return 0
    return rng.randint(max(low, 1), EPISODES) if low < EPISODES else EPISODES


def generate(spec: Spec) -> dict[str, Any]:
    """The pack as plain data (what a YAML or JSON pack file holds)."""
    rng = random.Random(spec.seed * 1_000_003 + spec.size)
    names = _Names(rng)
    n = spec.size
    n_factions = max(3, n * 6 // 100)
    n_places = max(3, n * 7 // 100)
    n_concepts = max(3, n * 7 // 100)
    n_episodes = min(EPISODES, max(0, n // 100))
    n_chars = max(1, n - n_factions - n_places - n_concepts - n_episodes)

    entries: list[dict[str, Any]] = []
    slugs: set[str] = set()

    def slug_for(name: str) -> str:
        base = "-".join(normalize(name).split()) or "entry"
        base = "".join(c if c.isascii() and (c.isalnum() or c == "-") else "" for c in base).strip("-") or "entry"
        slug, i = base, 2
        while slug in slugs:
            slug, i = f"{base}-{i}", i + 1
        slugs.add(slug)
        return slug

    def named(forms: tuple[tuple[str, str], ...]) -> tuple[str, str]:
        while True:
            word, kana = names.word(2, 3)
            form, form_ja = rng.choice(forms)
            name = form.format(word)
            if names.claim(name):
                return name, form_ja.format(kana)

    groups: dict[str, list[tuple[str, str]]] = {"faction": [], "location": [], "concept": []}
    for kind, count, forms in (
        ("faction", n_factions, FACTION_FORMS),
        ("location", n_places, PLACE_FORMS),
        ("concept", n_concepts, CONCEPT_FORMS),
    ):
        for _ in range(count):
            name, kana = named(forms)
            slug = slug_for(name)
            introduced = _episode(rng)
            entry: dict[str, Any] = {
                "slug": slug,
                "kind": kind,
                "name": name,
                "introduced": introduced,
                "summary": f"{name} is a {kind} of the setting, first seen in episode {max(introduced, 1)}.",
                "aliases": [{"name": kana, "episode": introduced}],
                "facts": [],
            }
            if kind == "faction" and rng.random() < 0.3:
                entry["aliases"].append({"name": "The " + name.split()[-1], "episode": introduced})
            entries.append(entry)
            groups[kind].append((slug, name))

    families = [names.family() for _ in range(max(1, n_chars // 3))]
    characters: list[dict[str, Any]] = []
    by_family: dict[str, list[str]] = {}
    for _ in range(n_chars):
        while True:
            given, given_kana = names.word(2, 3)
            family, family_kana = rng.choice(families)
            name = f"{given} {family}"
            if names.claim(name):
                break
        slug = slug_for(name)
        introduced = _episode(rng)
        aliases = [
            {"name": f"{given_kana}・{family_kana}", "episode": introduced},
            {"name": family, "episode": introduced},
        ]
        if rng.random() < 0.5:
            aliases.append({"name": given, "episode": introduced})
        if rng.random() < 0.2:
            while True:
                word, _ = names.word(2, 3)
                title = f"{rng.choice(TITLE_WORDS)} {word}"
                if names.claim(title):
                    break
            aliases.append({"name": title, "episode": _episode(rng, introduced)})
        faction_slug, faction_name = rng.choice(groups["faction"])
        place = rng.choice(groups["location"])[1]
        facts = []
        for form in rng.sample(FACT_FORMS, rng.randint(2, 6)):
            ep = _episode(rng, introduced)
            text = form.format(name=given, ep=max(ep, 1), place=place, faction=faction_name)
            facts.append({"text": text, "episode": ep, "source": "synthetic"})
        attributes = [
            {"label": "Colour", "value": rng.choice(COLOURS).capitalize(), "episode": introduced, "source": SRC},
            {"label": "Power", "value": rng.choice(POWERS), "episode": _episode(rng, introduced), "source": SRC},
        ]
        relations: list[dict[str, Any]] = [
            {"type": "member_of", "target": faction_slug, "episode": _episode(rng, introduced)}
        ]
        kin = by_family.setdefault(family, [])
        if kin and rng.random() < 0.5:
            relations.append({"type": "sibling_of", "target": rng.choice(kin), "episode": _episode(rng, introduced)})
        kin.append(slug)
        state = rng.choice(("alive", "alive", "deceased", "unknown"))
        status_ep = _episode(rng, introduced)
        characters.append(
            {
                "slug": slug,
                "kind": "character",
                "name": name,
                "introduced": introduced,
                "summary": f"{given} of the {family} family, a Nean agent tied to {faction_name}.",
                "aliases": aliases,
                "facts": facts,
                "attributes": attributes,
                "relations": relations,
                "status": {"state": state, "episode": status_ep, "source": SRC},
            }
        )
    entries.extend(characters)

    for number in range(1, n_episodes + 1):
        word, kana = names.word(2, 3)
        title = f"The {word} Incident"
        names.claim(title)
        entries.append(
            {
                "slug": slug_for(f"episode {number}"),
                "kind": "episode",
                "name": f"Episode {number}: {title}",
                "introduced": number - 1,
                "summary": f"Episode {number} of the series.",
                "episode": {"number": number, "title": title, "title_ja": kana},
                "facts": [{"text": f"The {word} incident unfolds.", "episode": number, "source": "synthetic"}],
            }
        )

    # Aliases that name more than one entry (surnames, common given names) are marked shared.
    claims: Counter[str] = Counter()
    for e in entries:
        keys = {normalize(e["name"])} | {normalize(a["name"]) for a in e.get("aliases", ())}
        claims.update(keys)
    for e in entries:
        own = normalize(e["name"])
        kept: list[dict[str, Any]] = []
        for a in e.get("aliases", ()):
            key = normalize(a["name"])
            if key == own or any(normalize(k["name"]) == key for k in kept):
                continue
            if claims[key] > 1:
                a["shared"] = True
            kept.append(a)
        if "aliases" in e:
            e["aliases"] = kept
    rng.shuffle(entries)
    return {
        "pack": {
            "name": f"synthetic-{n}",
            "version": 1,
            "title": f"Synthetic lore, {n} entries (seed {spec.seed})",
            "sources": [{"id": "synthetic", "title": "bench.generate"}],
            "episodes": {"count": EPISODES},
        },
        "entries": entries,
    }


def generate_pack(spec: Spec) -> Pack:
    return Pack.model_validate(generate(spec))


def megabyte_pack(target_bytes: int = 1000 * 1024) -> tuple[bytes, int]:
    """A valid YAML pack just under the 1 MB a server may import (some 4,900 plain entries, one fact
    each): (its bytes, how many entries). For the import beside other writes (tests and bench)."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    def pack(n: int) -> bytes:
        entries = [
            {
                "slug": f"far-entry-{i}",
                "kind": "concept",
                "name": f"Far Entry {i}",
                "summary": f"A server-made entry about the quasar number {i}.",
                "facts": [{"text": f"It has a quasar of its own ({i}).", "episode": 0, "source": "fans"}],
            }
            for i in range(n)
        ]
        doc = {"pack": {"name": "far", "sources": [{"id": "fans"}]}, "entries": entries}
        return bytes(yaml.dump(doc, Dumper=dumper).encode())

    per_entry = len(pack(200)) / 200
    n = int(target_bytes / per_entry * 0.98)
    return pack(n), n
