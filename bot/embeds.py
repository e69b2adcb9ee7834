"""Embeds laid out from the renderer's views. Layout only: visibility is decided in ``lore.render``."""

from __future__ import annotations

import discord

from bot import limits
from bot.palette import KIND_COLOURS as KIND_COLOURS
from bot.palette import NEUTRAL as NEUTRAL
from lore import EntryView, Franchise, Item, Kind, Policy, Roster, SearchResults, escape

AFFILIATION = {"member of", "works for", "leads", "part of"}
KIND_LABELS = {
    Kind.CHARACTER: "Character",
    Kind.FACTION: "Faction",
    Kind.CONCEPT: "Concept",
    Kind.LOCATION: "Place",
    Kind.EPISODE: "Episode",
    Kind.SERIES: "Series",
}


#: The name of the field that holds the later-lore spoiler block under ``tag``.
LATER_FIELD = "Later episodes"


def colour_for(view: EntryView) -> int:
    """The colour the pack gives the entry (``view.colour``), else its kind's default."""
    return view.colour if view.colour is not None else KIND_COLOURS.get(view.kind, NEUTRAL)


def kind_colour(franchise: Franchise, kind: Kind) -> int:
    """A kind's colour: the pack's, else the default."""
    colour = franchise.kind_colour(kind)
    return colour if colour is not None else KIND_COLOURS.get(kind, NEUTRAL)


def footer_text(policy: Policy, extra: str = "", *, franchise: Franchise) -> str:
    """The policy in force, its episode named as ``franchise`` names it (never a count of what it
    holds back: that would tell how much is to come)."""
    text = policy.footer(franchise)
    if policy.source.value != "default":
        text += f" ({policy.source.value})"
    if extra:
        text += f" · {extra}"
    return limits.shorten(text, limits.FOOTER)


def first_appearance(view: EntryView, franchise: Franchise) -> str:
    """Where the entry is introduced: ``Episode 3``, or ``Episode 15 (S2E3)`` in a series with seasons."""
    return "Before the series (pre-release)" if view.introduced == 0 else franchise.label(view.introduced, capital=True)


class _Builder:
    """Accumulates fields into embeds (pages), each within every Discord limit."""

    def __init__(self, title: str, colour: int, footer: str, url: str | None = None):
        self.title = limits.shorten(title, limits.EMBED_TITLE)
        self.colour = colour
        self.footer = footer
        self.pages: list[discord.Embed] = []
        self._new()

    def _new(self, description: str | None = None) -> None:
        title = self.title if not self.pages else limits.shorten(f"{self.title} (cont.)", limits.EMBED_TITLE)
        embed = discord.Embed(title=title, colour=self.colour, description=description)
        self.pages.append(embed)

    @property
    def embed(self) -> discord.Embed:
        return self.pages[-1]

    def _room(self) -> int:
        # keep the footer (added at the end) within the 6000-character total
        return limits.EMBED_TOTAL - len(self.embed) - len(self.footer) - 16

    def description(self, text: str) -> None:
        parts = limits.split_text(text, limits.EMBED_DESCRIPTION)
        for i, part in enumerate(parts):
            if i == 0 and not self.embed.description:
                self.embed.description = part
            else:
                self._new(part)

    def field(self, name: str, value: str, inline: bool = False) -> None:
        name = limits.shorten(name, limits.FIELD_NAME)
        chunks = limits.split_text(value, limits.FIELD_VALUE) if value else []
        for i, chunk in enumerate(chunks):
            label = name if i == 0 else limits.shorten(f"{name} (cont.)", limits.FIELD_NAME)
            if len(self.embed.fields) >= limits.EMBED_FIELDS or len(label) + len(chunk) > self._room():
                self._new()
            self.embed.add_field(name=label, value=chunk, inline=inline)

    def reserved_field(self, name: str, value: str, reserve: int) -> None:
        """A last field whose size must not move anything: it goes on a new page when the current
        one has no room for ``reserve`` characters, whatever ``value`` holds."""
        if len(self.embed.fields) >= limits.EMBED_FIELDS or len(name) + reserve > self._room():
            self._new()
        self.embed.add_field(name=name, value=value, inline=False)

    def lines_field(self, name: str, lines: list[str]) -> None:
        for i, block in enumerate(limits.pack_lines(lines, limits.FIELD_VALUE)):
            self.field(name if i == 0 else f"{name} (cont.)", block)

    def finish(self) -> list[discord.Embed]:
        total = len(self.pages)
        for i, page in enumerate(self.pages, 1):
            suffix = f" · page {i}/{total}" if total > 1 else ""
            page.set_footer(text=limits.shorten(self.footer + suffix, limits.FOOTER))
        return self.pages


def _fact_line(item: Item) -> str:
    suffix = f" *(ep {item.episode})*" if item.episode else ""
    return f"• {item.text}{suffix}"


def entry_pages(view: EntryView, franchise: Franchise) -> list[discord.Embed]:
    """The entry card (its episodes named as ``franchise`` names them): one embed, or several
    pages when the lore does not fit in one."""
    b = _Builder(view.title, colour_for(view), footer_text(view.policy, franchise=franchise))
    kind_line = f"**{KIND_LABELS[view.kind]}**"
    desc = kind_line + ("\n\n" + view.summary if view.summary else "")
    if view.episode:
        ep = view.episode
        labels = {(a.label or "").casefold() for a in view.attributes}
        desc += "\n"
        if ep.get("title_ja") and "japanese title" not in labels:
            desc += f"\n**Japanese title:** {ep['title_ja']}"
        if ep.get("alt_titles") and "english title" not in labels:
            desc += "\n**Also titled:** " + ", ".join(ep["alt_titles"])
        if ep.get("air_date"):
            note = " (computed from the weekly slot)" if ep.get("air_date_computed") else ""
            desc += f"\n**Aired:** {ep['air_date']}{note}"
    b.description(desc)
    aliases = [a.text for a in view.aliases]
    if aliases:
        b.field("Also known as", ", ".join(aliases))
    if view.status is not None:
        b.field("Status", view.status.text, inline=True)
    if view.kind is not Kind.EPISODE and view.kind is not Kind.SERIES:
        b.field("First appearance", first_appearance(view, franchise), inline=True)
    for attr in view.attributes:
        b.field(attr.label or "Detail", attr.text, inline=len(attr.text) <= 60)
    affiliation = [r for r in view.relations if r.label in AFFILIATION]
    others = [r for r in view.relations if r not in affiliation]
    if affiliation:
        b.lines_field("Affiliation", [f"• {r.text}" for r in affiliation])
    if others:
        b.lines_field("Relations", [f"• {r.text}" for r in others])
    if view.appearances:
        b.field("Appears in episodes", ", ".join(a.text for a in view.appearances))
    if view.cast:
        b.lines_field("Cast", [f"• {c.text}" for c in view.cast])
    if view.facts:
        b.lines_field("Synopsis" if view.kind is Kind.EPISODE else "Facts", [_fact_line(f) for f in view.facts])
    if view.later is not None:
        b.reserved_field(LATER_FIELD, view.later, limits.FIELD_VALUE)
    return b.finish()


def roster_pages(roster: Roster, franchise: Franchise, per_page: int = 10) -> list[discord.Embed]:
    """One line per member, with the fates the policy shows; under ``tag``, one block of later ones."""
    view = roster.group
    footer = footer_text(view.policy, franchise=franchise)
    lines = []
    for line in roster.members:
        status = f" — {line.status}" if line.status else ""
        lines.append(f"**{escape(line.name)}**{status}")
    if not lines:
        lines = ["*No members revealed yet at this point of the story.*"]
    pages: list[discord.Embed] = []
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    for i, chunk in enumerate(chunks, 1):
        b = _Builder(view.title, colour_for(view), footer + (f" · page {i}/{len(chunks)}" if len(chunks) > 1 else ""))
        intro = view.summary + "\n\n" if i == 1 and view.summary else ""
        b.description(intro + "\n".join(chunk))
        if i == len(chunks) and roster.later is not None:
            b.reserved_field(LATER_FIELD, roster.later, limits.FIELD_VALUE)
        pages.extend(b.finish())
    return pages


def search_pages(
    results: SearchResults, policy: Policy, franchise: Franchise, per_page: int = 8
) -> list[discord.Embed]:
    title = limits.shorten(f"Search: {results.query}", limits.EMBED_TITLE)
    hits = f"{len(results.hits)} hit{'s' if len(results.hits) != 1 else ''}"
    footer = footer_text(policy, extra=hits, franchise=franchise)
    if not results.hits:
        embed = discord.Embed(title=title, colour=NEUTRAL, description="No lore matches that text at this episode.")
        embed.set_footer(text=footer)
        return [embed]
    pages = []
    chunks = [results.hits[i : i + per_page] for i in range(0, len(results.hits), per_page)]
    for i, chunk in enumerate(chunks, 1):
        b = _Builder(title, NEUTRAL, footer + (f" · page {i}/{len(chunks)}" if len(chunks) > 1 else ""))
        for hit in chunk:
            b.field(f"{hit.name} · {KIND_LABELS[hit.kind]}", limits.shorten(hit.snippet, 300))
        pages.extend(b.finish())
    return pages
