"""The counterfactual spoiler oracle: every user-reachable output, in the real world and in the
visible world (:mod:`lore.visible`), side by side.

A *world* is a :class:`LoreService` over an in-memory database whose canon is a pack. The real
world holds the whole pack; the visible world at episode E holds ``visible_pack(pack, E)``. For a
policy (E, mode), :func:`lookup_surfaces` and :func:`fixed_surfaces` compute every output a user
can reach, laid out as the Discord adapter lays it out (``bot.embeds``, the lookup cog's reply
planning, autocomplete choices, select options) plus the CLI's JSON; :func:`admin_surfaces` what
an admin's writes answer and leave behind (refusals, revision numbers, history, the export). :func:`comparable` turns an
output into what must not depend on later lore: under ``hide`` the output itself; under ``tag``
the output with the content of every spoiler span blanked, in the places Discord renders spans
(message content, embed descriptions and field values; everything in the CLI's JSON). Titles,
field names, footers, choices and option labels are compared as they are.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import random
import string
import unicodedata
from pathlib import Path
from typing import Any

import discord

from bot.cogs import quiz as quiz_cog
from bot.cogs import spoilers as spoilers_cog
from bot.cogs.info import about_pages
from bot.cogs.lookup import (
    CONCEPT_KINDS,
    Planned,
    choices_for,
    episode_reply,
    picked_pages,
    plan_answer,
    roster_choices,
)
from bot.cogs.pictures import relations_caption, relations_miss
from bot.embeds import roster_pages, search_pages
from bot.pictures.painter import Painter
from bot.views import DidYouMean
from lore import questions, quiz
from lore.editing import slugify
from lore.errors import LoreError, PackError
from lore.graph import relation_graph, timeline
from lore.model import Entry, Kind, Pack
from lore.packs import ImportReport, dump_pack
from lore.schedule import SERVER, Schedule
from lore.service import LoreService
from lore.spoilers import Mode, Policy
from lore.visible import write_visible_pack
from tests.canon import IMMORTAL_NINE
from tests.counterfactual.markup import blank

#: The episodes the suite compares the worlds at.
EPISODES = (0, 1, 3, 6, 8, 11, 12)
MODES = (Mode.HIDE, Mode.TAG)
#: Episodes whose pictures are drawn and compared byte for byte (the layout models are compared at every one).
DRAWN = (3, 8, 12)
KIND_SETS: tuple[tuple[str, tuple[Kind, ...] | None], ...] = (
    ("lore", None),
    ("character", (Kind.CHARACTER,)),
    ("faction", (Kind.FACTION,)),
    ("concept", CONCEPT_KINDS),
)


async def open_world(pack: Pack, where: Path) -> LoreService:
    """A service whose canon is ``pack`` (written to ``where`` as JSON), over an in-memory database."""
    where.write_text(dump_pack(pack, "json"), encoding="utf-8")
    return await LoreService.open(":memory:", canon_pack=where)


async def open_visible_world(pack: Pack, episode: int, where: Path) -> LoreService:
    """A service whose canon is the visible world of ``pack`` at ``episode``."""
    return await LoreService.open(":memory:", canon_pack=write_visible_pack(pack, episode, where))


class Worlds:
    """The real world and the visible world at every episode of :data:`EPISODES`, opened once."""

    def __init__(self, pack: Pack, real: LoreService, visible: dict[int, LoreService]):
        self.pack, self.real, self.visible = pack, real, visible

    @classmethod
    async def open(cls, pack: Pack, tmp: Path, episodes: tuple[int, ...] = EPISODES) -> Worlds:
        real = await open_world(pack, tmp / "real.json")
        visible = {e: await open_visible_world(pack, e, tmp / f"visible-{e}.json") for e in episodes}
        return cls(pack, real, visible)

    async def close(self) -> None:
        await self.real.close()
        for svc in self.visible.values():
            await svc.close()


# -- outputs ---------------------------------------------------------------------------------
def embed_out(embed: discord.Embed) -> dict[str, Any]:
    return embed.to_dict()  # type: ignore[return-value]


async def planned_out(planned: Planned) -> dict[str, Any]:
    """A reply as Discord would carry it: embeds, content and the "did you mean" select's options."""
    options: list[tuple[str, str, str | None]] = []
    if planned.candidates:

        async def never(_interaction: discord.Interaction, _slug: str) -> None:  # pragma: no cover
            raise AssertionError

        picker = DidYouMean(planned.candidates, 1, never)
        options = [(o.label, o.value, o.description) for o in picker.select.options]
        picker.stop()
    return {"embeds": [embed_out(e) for e in planned.pages], "content": planned.content, "options": options}


#: "Did you mean" options whose card is compared (what picking them shows).
PICKED = 3


def picked_out(
    svc: LoreService, policy: Policy, options: list[tuple[str, str, str | None]], guild_id: int | None
) -> list[Any]:
    """The card each of the first "did you mean" options opens when picked (as the lookup cog's
    select callback renders it), or None for one no longer available."""
    out: list[Any] = []
    for _label, slug, _description in options[:PICKED]:
        pages = picked_pages(svc, slug, policy, guild_id)
        out.append([embed_out(e) for e in pages] if pages is not None else None)
    return out


def choices_out(choices: list[Any]) -> list[tuple[str, str]]:
    return [(c.name, str(c.value)) for c in choices]


async def lookup_surfaces(svc: LoreService, policy: Policy, query: str, guild_id: int | None = None) -> dict[str, Any]:
    """Everything a user reaches by typing ``query``: autocomplete of every lookup, the reply of
    every lookup command, the Immortal Nine member lookup, full-text search and the CLI's JSON."""
    out: dict[str, Any] = {}
    for label, kinds in KIND_SETS:
        out[f"complete/{label}"] = choices_out(choices_for(svc.complete(query, policy, guild_id, kinds), query))
        out[f"answer/{label}"] = await planned_out(plan_answer(svc, query, kinds, policy, guild_id))
    out["answer/lore"]["picked"] = picked_out(svc, policy, out["answer/lore"]["options"], guild_id)
    out["complete/immortal-nine"] = choices_out(roster_choices(svc, IMMORTAL_NINE, query, policy, guild_id))
    members = svc.roster_members(IMMORTAL_NINE, policy, guild_id) or frozenset()
    out["answer/immortal-nine"] = await planned_out(
        plan_answer(svc, query, (Kind.CHARACTER,), policy, guild_id, within=members)
    )
    results = await svc.search_text(query, policy, guild_id)
    out["search"] = [embed_out(e) for e in search_pages(results, policy, svc.franchise)]
    answer = svc.ask(query, policy, guild_id)
    out["cli/json"] = answer.to_json()
    out.update(relations_out(svc, policy, query, answer, guild_id))
    return out


def relations_out(svc: LoreService, policy: Policy, query: str, answer: Any, guild_id: int | None) -> dict[str, Any]:
    """/relations: the miss, or at each depth the reply's title and caption and the map's layout
    model (every node, edge, colour group and the trim count: what the picture is drawn from)."""
    if answer.view is None:
        return {"relations/miss": relations_miss(answer, query)}
    out: dict[str, Any] = {}
    for depth in (1, 2):
        graph = relation_graph(svc, answer.view.slug, policy, guild_id, depth)
        out[f"relations/{depth}"] = (
            None
            if graph is None
            else {
                "title": f"Relations: {answer.view.title}",
                "caption": relations_caption(graph),
                "map": dataclasses.asdict(graph),
            }
        )
    return out


#: Quiz sessions drawn per (world, policy), of :data:`lore.quiz.QUESTIONS_MAX` questions each.
QUIZ_SEEDS = 12


async def quiz_out(svc: LoreService, policy: Policy, seeds: int = QUIZ_SEEDS) -> list[Any]:
    """Quiz sessions as members see them (same seed in both worlds): the intro, every question's
    message and button labels, and the reveal after one member answered."""
    sessions: list[Any] = []
    for seed in range(seeds):
        picked = quiz.questions_for(svc, policy, 1, quiz.QUESTIONS_MAX, random.Random(seed))
        shown: list[Any] = [quiz_cog.intro_text(len(picked), quiz.QUESTIONS_MAX, False, policy)]
        if picked:
            run = quiz_cog.Running(
                id="t",
                key=(1, 0),
                guild_id=1,
                starter_id=7,
                private=False,
                policy=policy,
                session=quiz.Session(picked),
                interaction=None,  # type: ignore[arg-type]
            )
            while True:
                run.session.open()
                view = quiz_cog.QuestionView(None, run)  # type: ignore[arg-type]
                labels = [getattr(b, "label", None) for b in view.children]
                view.stop()
                question = quiz_cog.question_text(run, 20)
                run.session.answer(7, seed % questions.OPTIONS)
                shown.append([question, labels, quiz_cog.reveal_text(run, run.session.close())])
                if not run.session.advance():
                    break
        sessions.append(shown)
    return sessions


def pictures_out(svc: LoreService, policy: Policy, *, draw: bool) -> dict[str, Any]:
    """/timeline: the layout model of the whole story up to the policy, and (with ``draw``) the
    bytes of every page Discord would receive."""
    out: dict[str, Any] = {"timeline": dataclasses.asdict(timeline(svc, policy))}
    if draw:
        pages = Painter().draw_timeline(svc, policy, None, 1, svc.franchise.last)
        out["timeline/pages"] = [(p.filename, hashlib.sha256(p.data).hexdigest()) for p in pages]
    return out


async def fixed_surfaces(svc: LoreService, policy: Policy, guild_id: int | None = None) -> dict[str, Any]:
    """What a user reaches without typing a name: empty autocompletes, the roster, every episode
    card, /about."""
    out: dict[str, Any] = {}
    for label, kinds in KIND_SETS:
        out[f"complete/{label}/empty"] = choices_out(choices_for(svc.complete("", policy, guild_id, kinds), ""))
    out["complete/immortal-nine/empty"] = choices_out(roster_choices(svc, IMMORTAL_NINE, "", policy, guild_id))
    roster = svc.roster(IMMORTAL_NINE, policy, guild_id)
    out["roster"] = [embed_out(e) for e in roster_pages(roster, svc.franchise)] if roster else None
    for n in range(1, svc.franchise.last + 1):
        out[f"episode/{n}"] = await planned_out(episode_reply(svc, n, policy, guild_id))
    out["about"] = [embed_out(e) for e in about_pages(svc, policy, guild_id, "test")]
    out["quiz"] = await quiz_out(svc, policy)
    out.update(pictures_out(svc, policy, draw=policy.episode in DRAWN))
    return out


_GUILDS = itertools.count(10_000)


def fresh_guild() -> int:
    """A server nothing has written to yet in this session's worlds: its admins act in
    :func:`admin_surfaces` (with the same id in both worlds) without reading what an earlier
    session wrote, so every session is independent and a failure replays on its own."""
    return next(_GUILDS)


async def _outcome(awaitable: Any) -> Any:
    """What an admin reply is made from: the result, or the sentence of the refusal."""
    try:
        result = await awaitable
    except (LoreError, PackError) as e:
        return [type(e).__name__, str(e), list(getattr(e, "errors", ()))]
    if isinstance(result, ImportReport):
        return [result.created, result.updated, result.unchanged]
    return result


async def admin_surfaces(svc: LoreService, policy: Policy, query: str, name: str, guild_id: int) -> dict[str, Any]:
    """An admin of ``guild_id`` at ``policy`` acting on what ``query`` finds, with ``name`` (drawn
    from every entry's names and slugs, later ones included) as the new alias, entry name, fact,
    relation target and patched slug: every outcome (revision numbers and refusals), the history,
    the server's export and entry count, and then every lookup surface of the server's lore."""
    out: dict[str, Any] = {}
    answer = svc.ask(query, policy, guild_id)
    slug = answer.view.slug if answer.view is not None else None
    out["target"] = slug
    if slug is not None:
        out["alias"] = await _outcome(svc.add_alias(guild_id, slug, name, "admin", policy=policy))
        out["fact"] = await _outcome(svc.add_fact(guild_id, slug, f"Of {name}.", policy.episode, "admin"))
        entry = svc.get(slug, guild_id)
        if entry is not None and policy.reveals(entry.introduced):
            shown = [(a.name, a.episode) for a in entry.aliases if policy.reveals(a.episode)]
            edit = svc.edit_entry(
                guild_id,
                slug,
                policy,
                summary=f"{entry.summary[:1900]} ({name})",
                aliases=[*shown[1:], (name, 0)],
                introduced=entry.introduced,
                author="admin",
                expect=entry,
            )
            out["edit"] = await _outcome(edit)
        removed = await _outcome(svc.remove_entry(guild_id, slug, "admin"))
        out["remove"] = [removed, svc.canon_visible(slug, policy), svc.export(guild_id, "yaml")]
        if isinstance(removed, int):  # and back to the version before the removal
            out["back"] = await _outcome(svc.revert(guild_id, slug, removed - 1, "admin", policy=policy))
        scope, revisions = await svc.history(guild_id, slug)
        out["history"] = [scope == "canon", [(r.number, r.action, r.removed) for r in revisions]]
    new = slugify(name)
    out["taken"] = svc.taken(new, policy, guild_id)
    if not out["taken"]:
        data = {"slug": new, "kind": "concept", "name": name[:100]}
        out["add"] = await _outcome(svc.save_entry(guild_id, data, "admin", "add", expect=None, policy=policy))
    pack = {
        "pack": {"name": "fans"},
        "entries": [
            {
                "slug": "fan-theory",
                "kind": "concept",
                "name": "Fan Theory",
                "relations": [{"type": "related_to", "target": new}],
            }
        ],
        "patches": [{"slug": new, "set": {"summary": f"Patched: {name}"}}],
    }
    out["import"] = await _outcome(
        svc.import_pack(json.dumps(pack), guild_id=guild_id, author="admin", filename="fans.json", policy=policy)
    )
    out["revert"] = await _outcome(svc.revert(guild_id, new, 0, "admin", policy=policy))
    out["export"] = svc.export(guild_id, "yaml")
    out["count"] = svc.own_entry_count(guild_id)
    return out


@dataclasses.dataclass(frozen=True)
class ScheduleSetup:
    """A server's spoiler schedules, set the same way in both worlds by :func:`schedule_surfaces`."""

    anchor: float  # UTC seconds of every schedule's first opening
    every_days: int
    zone: str
    server: bool  # the server has a schedule of its own
    paused: bool  # … and it is paused
    announce: bool
    #: One per channel: its own episode (None: it follows the server's), whether it has a
    #: schedule, and whether that is paused.
    channels: tuple[tuple[int | None, bool, bool], ...] = ()


async def schedule_surfaces(svc: LoreService, policy: Policy, guild_id: int, setup: ScheduleSetup) -> dict[str, Any]:
    """A server at ``policy`` (its setting), with the schedules of ``setup``: what setting each
    schedule answered (or its refusal), /spoilers schedule show, and /spoilers status as a
    channel under ``policy`` reads it."""
    await svc.set_policy(guild_id, episode=policy.episode, mode=policy.mode)
    schedules = svc.schedules
    out: dict[str, Any] = {}

    async def start(channel_id: int, paused: bool) -> Any:
        schedule = Schedule(
            guild_id,
            channel_id,
            setup.anchor,
            setup.every_days,
            setup.zone,
            announce_channel_id=guild_id * 100 if setup.announce else None,
            created_by=7,
        )
        started = await _outcome(schedules.start(schedule))
        if paused and not isinstance(started, list):
            await schedules.pause(guild_id, channel_id)
        return [started.episode, started.replaced] if not isinstance(started, list) else started

    if setup.server:
        out["start/server"] = await start(SERVER, setup.paused)
    for i, (episode, scheduled, paused) in enumerate(setup.channels, start=1):
        channel_id = guild_id * 100 + i
        if episode is not None:
            await svc.set_policy(guild_id, channel_id=channel_id, episode=episode)
        if scheduled:
            out[f"start/{i}"] = await start(channel_id, paused)
    out["schedule show"] = await spoilers_cog.schedule_show_text(svc, schedules, guild_id)
    out["status"] = await spoilers_cog.status_text(svc, schedules, guild_id, policy)
    return out


# -- comparison ------------------------------------------------------------------------------
#: Embed keys whose text Discord renders as markdown (spoiler spans included).
_MARKDOWN_KEYS = {"description", "value"}


def _blank_embed(obj: Any, key: str | None = None) -> Any:
    if isinstance(obj, dict):
        return {k: _blank_embed(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_blank_embed(v, key) for v in obj]
    if isinstance(obj, str) and key in _MARKDOWN_KEYS:
        return blank(obj)
    return obj


def _blank_all(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _blank_all(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_blank_all(v) for v in obj]
    return blank(obj) if isinstance(obj, str) else obj


def comparable(surfaces: dict[str, Any], mode: Mode) -> dict[str, Any]:
    """What must be identical between the worlds under ``mode``."""
    if mode is not Mode.TAG:
        return surfaces
    out: dict[str, Any] = {}
    for name, value in surfaces.items():
        if name.startswith("cli/"):
            out[name] = _blank_all(value)
        elif name.startswith("complete/"):
            out[name] = value  # choices: plain text, no spans rendered
        elif isinstance(value, str):
            out[name] = blank(value)  # message content
        elif isinstance(value, dict) and "embeds" in value:
            out[name] = {
                "embeds": _blank_embed(value["embeds"]),
                "content": blank(value["content"]) if value["content"] else value["content"],
                "options": value["options"],
                "picked": _blank_embed(value.get("picked")),
            }
        else:
            out[name] = _blank_embed(value)
    return out


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two outputs first differ (for a readable failure), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}/{k}: present in only one world"
            d = first_difference(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} items in the real world, {len(b)} in the visible one"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if a != b:
        real, visible = (json.dumps(x, ensure_ascii=False)[:300] for x in (a, b))
        return f"{path}: real {real} != visible {visible}"
    return None


def assert_same(real: dict[str, Any], visible: dict[str, Any], mode: Mode, context: str) -> None:
    d = first_difference(comparable(real, mode), comparable(visible, mode))
    assert d is None, f"{context}: the reply depends on later lore at {d}"


# -- queries ---------------------------------------------------------------------------------
def _hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def query_pool(entries: list[Entry]) -> list[str]:
    """Names, aliases, slugs and Japanese names (katakana and hiragana) of every entry, later ones included."""
    pool: list[str] = []
    for e in entries:
        pool.append(e.slug)
        for name, _ in e.all_names():
            pool.append(name)
            if any(unicodedata.name(c, "").startswith("KATAKANA") for c in name):
                pool.append(_hiragana(name))
    return sorted(set(pool))


TYPO_ALPHABET = string.ascii_lowercase + " -"
