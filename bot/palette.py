"""Colours shared by the embeds and the pictures (no discord import: the pictures use it too)."""

from __future__ import annotations

from lore import Kind

#: Each kind's colour where the pack gives none (a pack's ``colours`` choose the franchise's own,
#: by kind and by entry: ``lore.franchise.Franchise.colour_for``).
KIND_COLOURS: dict[Kind, int] = {
    Kind.CHARACTER: 0xC0392B,
    Kind.FACTION: 0x8E44AD,
    Kind.CONCEPT: 0x2980B9,
    Kind.LOCATION: 0x27AE60,
    Kind.EPISODE: 0xD35400,
    Kind.SERIES: 0xB03A2E,
}
NEUTRAL = 0x2C2F33
