"""Colours shared by the embeds and the pictures (no discord import: the pictures use it too)."""

from __future__ import annotations

from lore import Kind

KIND_COLOURS: dict[Kind, int] = {
    Kind.CHARACTER: 0xC0392B,
    Kind.FACTION: 0x8E44AD,
    Kind.CONCEPT: 0x2980B9,
    Kind.LOCATION: 0x27AE60,
    Kind.EPISODE: 0xD35400,
    Kind.SERIES: 0xB03A2E,
}
#: Faction colours: an entry of a faction, or a member of one, wears its colour.
FACTION_COLOURS: dict[str, int] = {
    "immortal-nine": 0x6C3483,
    "aletheia": 0x1F618D,
    "ochrona": 0x117A65,
    "alter": 0x922B21,
    "neans": 0x7F8C8D,
    "humans": 0xD4AC0D,
    "visitors": 0x48C9B0,
    "usurpers": 0x4A235A,
    "sons-of-ares": 0x784212,
    "council-of-free-neans": 0x5DADE2,
    "wellstown-police": 0x34495E,
    "panacea-corporation": 0xF5B041,
    "carnival": 0xE74C3C,
}
NEUTRAL = 0x2C2F33
