"""The visible world: the lore as it would be if nothing after episode E existed.

This is the definition the spoiler property is stated against: under a policy (E, ``hide``),
every reply must be exactly the reply computed from :func:`visible_entries` of the lore at E;
under ``tag``, the same outside spoiler spans. An item is revealed at the episode it carries (an
alias, fact, attribute or status), a relation at the later of its own episode and its target's
introduction, an entry at ``introduced``, and an episode's titles at the episode before it (see
:func:`lore.model.episode_reveals`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lore.franchise import Franchise
from lore.model import Entry, EpisodeList, Pack


def title_episode(entry: Entry) -> int | None:
    """The episode that reveals an episode entry's titles (None for other entries)."""
    if entry.episode is None:
        return None
    return max(entry.introduced, entry.episode.number - 1)


def visible_entry(entry: Entry, episode: int, introduced: dict[str, int] | None = None) -> Entry | None:
    """``entry`` with every item revealed after ``episode`` removed; None if it is introduced later.

    ``introduced`` maps the slugs of the world's entries to their introduction, for relations
    (a relation to an entry the world does not have is dropped, as the renderer drops it).
    """
    if entry.introduced > episode:
        return None
    data = entry.model_dump()
    data["aliases"] = [a for a in data["aliases"] if max(a["episode"], entry.introduced) <= episode]
    data["facts"] = [f for f in data["facts"] if f["episode"] <= episode]
    data["attributes"] = [a for a in data["attributes"] if a["episode"] <= episode]
    targets = introduced or {}
    data["relations"] = [
        r for r in data["relations"] if r["target"] in targets and max(r["episode"], targets[r["target"]]) <= episode
    ]
    data["later_summaries"] = [s for s in data["later_summaries"] if s["episode"] <= episode]
    data["reveal_phrases"] = [
        p.model_dump()
        for p in entry.reveal_phrases
        if p.episode <= episode and all(r in targets and targets[r] <= episode for r in p.refs())
    ]
    statuses = [st for st in entry.statuses() if st.episode <= episode]
    data["status"] = statuses[0].model_dump() if statuses else None
    data["later_statuses"] = [st.model_dump() for st in statuses[1:]]
    if entry.episode is not None:
        info = data["episode"]
        info["cast"] = [
            m
            for m in info["cast"]
            if m["character"] in targets and max(info["number"], targets[m["character"]], m["episode"]) <= episode
        ]
        at = title_episode(entry)
        if at is not None and at > episode:
            info.update(title=f"Episode {info['number']}", title_ja=None, alt_titles=[])
    return Entry.model_validate(data)


def visible_entries(entries: Iterable[Entry], episode: int) -> list[Entry]:
    """The visible world of a list of entries at ``episode``, in the same order."""
    entries = list(entries)
    introduced = {e.slug: e.introduced for e in entries}
    out = []
    for entry in entries:
        seen = visible_entry(entry, episode, introduced)
        if seen is not None:
            out.append(seen)
    return out


def visible_pack(pack: Pack, episode: int) -> Pack:
    """The visible world of a whole pack at ``episode``: the same franchise (its metadata, with
    the episode list the whole pack has, declared or not), only the later lore left out."""
    meta = pack.pack
    if meta.episodes is None:  # counted from the whole pack: the list is the franchise's, not lore
        meta = meta.model_copy(update={"episodes": EpisodeList(count=Franchise.of(meta, pack).last)})
    return Pack(pack=meta, entries=visible_entries(pack.entries, episode))


def write_visible_pack(pack: Pack, episode: int, path: Path) -> Path:
    """Write the visible world of ``pack`` at ``episode`` to ``path`` as a JSON pack (for a
    service to open it as its canon); returns ``path``."""
    from lore.packs import dump_pack

    path.write_text(dump_pack(visible_pack(pack, episode), "json"), encoding="utf-8")
    return path
