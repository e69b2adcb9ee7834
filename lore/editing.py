"""The rules of an admin's edit form: a new entry's slug, the episode and alias fields as typed,
which aliases the form may show, and the data of a new entry."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from lore.errors import LoreError
from lore.franchise import EpisodeError, Franchise
from lore.markup import shorten
from lore.model import Alias, Entry, Kind
from lore.spoilers import Policy

#: Kinds a server can add through the form (episodes and the series need fields the form does not ask for).
FORM_KINDS = tuple(k for k in Kind if k not in (Kind.SERIES, Kind.EPISODE))
#: Why a new entry cannot be saved under its name.
ENTRY_EXISTS = "An entry with that name already exists: use `/lore-admin edit`."
_ALIAS_LINE = re.compile(r"^(?P<name>.+?)\s*(?:@\s*(?P<ep>\d{1,4}|s\d{1,4}\s*e\d{1,4}))?\s*$", re.IGNORECASE)


def slugify(name: str) -> str:
    """The slug of a new entry called ``name``: ASCII words joined by hyphens (a digest when none)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:80].strip("-")
    return slug or "entry-" + hashlib.sha1(name.encode()).hexdigest()[:8]


def parse_episode(franchise: Franchise, text: str, what: str = "episode") -> int:
    """The form's "introduced in episode" field (empty: 0): ``15``, or ``s2e3`` for a franchise
    with seasons."""
    try:
        return franchise.parse_episode(text.strip() or "0", what=what)
    except EpisodeError as e:
        raise LoreError(f"{str(e).removesuffix('.')}; nothing was changed.") from None


def parse_aliases(franchise: Franchise, text: str) -> list[dict[str, Any]]:
    """One alias per line, optionally ``Name @ episode`` for an alias that is itself a reveal."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _ALIAS_LINE.match(line)
        assert m is not None  # the pattern matches any non-empty line
        name, ep = m.group("name").strip(), m.group("ep")
        episode = parse_episode(franchise, ep, "alias episode") if ep is not None else 0
        out.append({"name": shorten(name, 200), "episode": episode})
    return out


def format_aliases(aliases: list[Alias]) -> str:
    """Aliases as the form's field shows them (what :func:`parse_aliases` reads back)."""
    return "\n".join(a.name if a.episode == 0 else f"{a.name} @ {a.episode}" for a in aliases)


def shown_aliases(base: Entry, policy: Policy) -> list[Alias]:
    """The aliases a form opened under ``policy`` shows (the later ones would spoil the admin too:
    the service keeps them as they are when the form is saved)."""
    return [a for a in base.aliases if policy.reveals(a.episode)]


def new_entry(kind: Kind, name: str, summary: str, aliases: list[dict[str, Any]], introduced: int) -> dict[str, Any]:
    """The data of a new entry saved from the form: nothing of it revealed before its introduction."""
    return {
        "slug": slugify(name),
        "kind": kind.value,
        "name": name,
        "summary": summary,
        "introduced": introduced,
        "aliases": [{**a, "episode": max(a["episode"], introduced)} for a in aliases],
    }
