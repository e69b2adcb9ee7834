"""The lore data model: entries, aliases, facts, relations, and the pack that carries them.

Every piece of lore carries the episode that reveals it (0 = known before episode 1), so the
spoiler renderer can decide, item by item, what a viewer at episode N may see.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

#: The most episodes a franchise may have. A pack's own episode list (``pack.episodes``) bounds its
#: episode numbers; this only keeps any number within what every store and array holds.
EPISODE_CEILING = 9999

Episode = Annotated[int, Field(ge=0, le=EPISODE_CEILING)]
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Kind(StrEnum):
    CHARACTER = "character"
    FACTION = "faction"
    CONCEPT = "concept"
    LOCATION = "location"
    EPISODE = "episode"
    SERIES = "series"


class RelationType(StrEnum):
    MEMBER_OF = "member_of"
    LEADS = "leads"
    SIBLING_OF = "sibling_of"
    PARENT_OF = "parent_of"
    CHILD_OF = "child_of"
    WORKS_FOR = "works_for"
    CREATED_BY = "created_by"
    CREATED = "created"
    OPPOSES = "opposes"
    ALLIED_WITH = "allied_with"
    GOVERNS = "governs"
    DISTRUSTS = "distrusts"
    FOUGHT = "fought"
    KILLED = "killed"
    KILLED_BY = "killed_by"
    PART_OF = "part_of"
    LOCATED_IN = "located_in"
    IDENTITY_OF = "identity_of"
    RELATED_TO = "related_to"

    @property
    def label(self) -> str:
        return RELATION_LABELS[self]


RELATION_LABELS: dict[RelationType, str] = {
    RelationType.MEMBER_OF: "member of",
    RelationType.LEADS: "leads",
    RelationType.SIBLING_OF: "sibling of",
    RelationType.PARENT_OF: "parent of",
    RelationType.CHILD_OF: "child of",
    RelationType.WORKS_FOR: "works for",
    RelationType.CREATED_BY: "created by",
    RelationType.CREATED: "created",
    RelationType.OPPOSES: "opposes",
    RelationType.ALLIED_WITH: "allied with",
    RelationType.GOVERNS: "governs",
    RelationType.DISTRUSTS: "distrusts",
    RelationType.FOUGHT: "fought",
    RelationType.KILLED: "killed",
    RelationType.KILLED_BY: "killed by",
    RelationType.PART_OF: "part of",
    RelationType.LOCATED_IN: "located in",
    RelationType.IDENTITY_OF: "same person as",
    RelationType.RELATED_TO: "related to",
}


class LifeState(StrEnum):
    ALIVE = "alive"
    DECEASED = "deceased"
    UNKNOWN = "unknown"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


NonEmpty = Annotated[str, Field(min_length=1, max_length=2000)]
Short = Annotated[str, Field(min_length=1, max_length=200)]


def _slug_rule(message: str) -> AfterValidator:
    """The check that a string is a slug (lower-case letters, digits and single hyphens)."""

    def check(v: str) -> str:
        if not SLUG_RE.match(v):
            raise ValueError(message)
        return v

    return AfterValidator(check)


#: An entry's own slug (an entry, or a server's patch of one).
Slug = Annotated[Short, _slug_rule("must be lower-case letters, digits and single hyphens")]
#: A slug naming another entry (a relation's target, a cast member, a roster's group).
SlugRef = Annotated[Short, _slug_rule("must be an entry slug (lower-case letters, digits and single hyphens)")]
#: Discord carries an entry's slug as an autocomplete choice's and a select option's value: 100 at most.
#: New packs and edits are held to it (``lore.packs``, ``LoreService``); stored entries still load.
MAX_SLUG = 100


class Alias(_Strict):
    """Another name for an entry. ``episode`` is when the alias itself becomes known:
    "Jill" as a name of Flash Silvia is a twist of episode 7."""

    name: Short
    episode: Episode = 0
    source: str | None = None
    #: Set when the same alias deliberately names more than one entry (e.g. "Junghardt").
    shared: bool = False


class Fact(_Strict):
    text: NonEmpty
    episode: Episode = 0
    source: Short


class Attribute(_Strict):
    """A labelled fact shown as its own field (colour, power, voice actor, studio...)."""

    label: Annotated[str, Field(min_length=1, max_length=60)]
    value: Annotated[str, Field(min_length=1, max_length=900)]
    episode: Episode = 0
    source: Short


class Relation(_Strict):
    type: RelationType
    target: SlugRef
    episode: Episode = 0
    note: str | None = Field(default=None, max_length=200)
    source: str | None = None


class Status(_Strict):
    """A character's status as the show reveals it. ``episode`` is when it is revealed."""

    state: LifeState = LifeState.UNKNOWN
    episode: Episode = 0
    note: str | None = Field(default=None, max_length=300)
    source: str | None = None


class LaterSummary(_Strict):
    """A summary that replaces the previous one from ``episode`` on (e.g. after a reveal).
    Like every summary it must be safe at its own episode."""

    text: Annotated[str, Field(min_length=1, max_length=2000)]
    episode: Episode
    source: str | None = None


#: A reveal phrase's items: ``{slug}`` for an entry, else a word (alternatives joined by "|").
_PHRASE_ITEM_RE = re.compile(r"^(?:\{[a-z0-9]+(?:-[a-z0-9]+)*\}|[^\s{}|]+(?:\|[^\s{}|]+)*)$")


class RevealPhrase(_Strict):
    """Words that give a twist away, as fans write them, for the spoiler check
    (:mod:`lore.spoilercheck`): ``"{jill} is|was {flash-silvia}"``. Items are separated by spaces;
    ``{slug}`` stands for any name of that entry known before ``episode``; a word may list
    alternatives joined by ``|``. Never shown to anyone: it only lets the check recognise the twist
    of ``episode`` in a message. Each restates a fact of the pack revealed at ``episode``."""

    text: Short
    episode: Episode
    source: str | None = None

    @field_validator("text")
    @classmethod
    def _items(cls, v: str) -> str:
        items = v.split()
        if len(items) < 2:
            raise ValueError("a reveal phrase needs at least two items (words or {entry-slug})")
        for item in items:
            if not _PHRASE_ITEM_RE.match(item):
                raise ValueError(f"{item!r} is neither a word (alternatives joined by '|') nor an {{entry-slug}}")
        return " ".join(items)

    def refs(self) -> list[str]:
        """The slugs the phrase refers to."""
        return [item[1:-1] for item in self.text.split() if item.startswith("{")]


class CastMember(_Strict):
    """Someone who appears in an episode, as a source states it. ``first`` marks the character's
    first appearance. Shown from the later of the episode itself, the character's introduction and
    ``episode`` (when the appearance is only recognised later, e.g. a masked figure)."""

    character: SlugRef
    first: bool = False
    episode: Episode = 0
    note: str | None = Field(default=None, max_length=100)
    source: str | None = None


class EpisodeInfo(_Strict):
    number: Annotated[int, Field(ge=1, le=EPISODE_CEILING)]
    title: Short
    title_ja: str | None = None
    alt_titles: list[Short] = Field(default_factory=list)
    air_date: date | None = None
    #: True when the date is computed from the weekly slot rather than attested by a source.
    air_date_computed: bool = False
    #: Who appears in the episode, where a source states it (never guessed).
    cast: list[CastMember] = Field(default_factory=list)


class Entry(_Strict):
    slug: Slug
    kind: Kind
    name: Short
    #: The episode in which the entry itself becomes known (0 = pre-release material).
    introduced: Episode = 0
    summary: Annotated[str, Field(max_length=2000)] = ""
    #: Summaries that replace ``summary`` from their episode on, in episode order.
    later_summaries: list[LaterSummary] = Field(default_factory=list)
    aliases: list[Alias] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    attributes: list[Attribute] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    status: Status | None = None
    #: Statuses that replace ``status`` from their episode on, in episode order.
    later_statuses: list[Status] = Field(default_factory=list)
    episode: EpisodeInfo | None = None
    image: str | None = None
    #: Phrases that give this entry's twists away (used by the spoiler check only, never shown).
    reveal_phrases: list[RevealPhrase] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _episode_reveals(cls, data: Any) -> Any:
        return episode_reveals(data)

    @model_validator(mode="after")
    def _kind_specific(self) -> Entry:
        if self.kind is Kind.EPISODE and self.episode is None:
            raise ValueError("an episode entry needs an 'episode' block (number, title, air_date)")
        if self.kind is not Kind.EPISODE and self.episode is not None:
            raise ValueError("only episode entries have an 'episode' block")
        if (self.status is not None or self.later_statuses) and self.kind is not Kind.CHARACTER:
            raise ValueError("only characters have a status")
        if self.later_statuses and self.status is None:
            raise ValueError("later_statuses replace a 'status': give the first one as 'status'")
        return self

    def summary_at(self, episode: int) -> str:
        """The summary a viewer at ``episode`` reads: the latest one revealed by then."""
        text = self.summary
        for later in self.later_summaries:
            if later.episode <= episode:
                text = later.text
        return text

    def statuses(self) -> list[Status]:
        """The status and the ones replacing it, in episode order."""
        return ([self.status] if self.status is not None else []) + list(self.later_statuses)

    def final_status(self) -> Status | None:
        """The status as of the end of the series."""
        return self.later_statuses[-1] if self.later_statuses else self.status

    def all_names(self) -> list[tuple[str, int]]:
        """The entry's name and aliases with the episode each becomes known."""
        return [(self.name, self.introduced)] + [(a.name, max(a.episode, self.introduced)) for a in self.aliases]


def _plain(x: Any) -> dict[str, Any]:
    return x.model_dump() if isinstance(x, BaseModel) else dict(x)


def episode_reveals(data: Any) -> Any:
    """The reveal rule of an episode entry, applied whenever one is built or loaded.

    Episode N's number, air date and broadcast slot are known before the series; its title is
    known from the preview at the end of episode N-1; everything else (its synopsis, staff,
    relations) with the episode itself. So the entry's name is the neutral "Episode N", its titles
    are aliases revealed at N-1 (the Japanese title stays in the episode block, gated the same way),
    and nothing in it is revealed before the episode allows. The rule
    is idempotent: an entry already in this form is left as it is.
    """
    if not isinstance(data, dict) or data.get("kind") not in (Kind.EPISODE, "episode"):
        return data
    info = data.get("episode")
    if info is None:
        return data
    info = _plain(info)
    number = info.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= EPISODE_CEILING:
        return data  # the field validators say what is wrong
    data = dict(data)
    introduced = data.get("introduced", 0)
    introduced = introduced if isinstance(introduced, int) else 0
    title_at = max(introduced, number - 1)
    content_at = max(introduced, number)
    neutral = f"Episode {number}"
    aliases = [_plain(a) for a in data.get("aliases") or ()]
    titles = [data.get("name"), info.get("title"), *(info.get("alt_titles") or ())]
    known = {neutral.casefold()} | {str(a.get("name", "")).casefold() for a in aliases}
    for title in titles:
        if isinstance(title, str) and title.strip() and title.strip().casefold() not in known:
            known.add(title.strip().casefold())
            # a title may also name a concept ("Code Eve"): such a claim is deliberate
            aliases.append({"name": title.strip(), "episode": title_at, "shared": True})
    for a in aliases:
        a["episode"] = max(a.get("episode", 0) if isinstance(a.get("episode", 0), int) else 0, title_at)
    data["name"] = neutral
    data["aliases"] = aliases

    def raise_to(items: Any, floor: Any) -> list[dict[str, Any]]:
        out = []
        for x in items or ():
            d = _plain(x)
            ep = d.get("episode", 0)
            d["episode"] = max(ep if isinstance(ep, int) else 0, floor(d))
            out.append(d)
        return out

    data["facts"] = raise_to(data.get("facts"), lambda d: content_at)
    data["relations"] = raise_to(data.get("relations"), lambda d: content_at)
    data["attributes"] = raise_to(
        data.get("attributes"),
        lambda d: (
            introduced
            if str(d.get("label", "")).casefold() in SCHEDULE_LABELS
            else title_at
            if "title" in str(d.get("label", "")).casefold()
            else content_at
        ),
    )
    return data


#: Attributes of an episode that are part of the broadcast schedule, known before the series.
SCHEDULE_LABELS = frozenset({"broadcast", "air date", "aired"})


class Source(_Strict):
    id: Short
    title: str | None = None
    url: str | None = None


def _colour(v: Any) -> Any:
    """A colour as a pack writes it: ``"#6C3483"``, ``"6c3483"`` or a number (YAML's ``0x6C3483``)."""
    if isinstance(v, str):
        text = v.strip().removeprefix("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", text):
            raise ValueError("must be a colour such as '#6C3483'")
        return int(text, 16)
    return v


Colour = Annotated[int, BeforeValidator(_colour), Field(ge=0, le=0xFFFFFF, strict=True)]
#: A slash command's name as Discord accepts it (lower case).
COMMAND_NAME_RE = r"^[-_a-z0-9]{1,32}$"


class Season(_Strict):
    """A season (or arc, or part) of the episode list: its episodes follow the previous season's."""

    episodes: Annotated[int, Field(ge=1, le=EPISODE_CEILING)]
    #: How replies name it ("Season 2", "The Desert Arc"); default "Season N".
    label: Short | None = None


class EpisodeList(_Strict):
    """The franchise's episodes, numbered 1..count across all seasons. A policy's episode is a
    position in this list (0 = before the first); with seasons, users may also type ``s2e3``."""

    count: Annotated[int, Field(ge=1, le=EPISODE_CEILING)]
    seasons: list[Season] = Field(default_factory=list)

    @model_validator(mode="after")
    def _seasons_add_up(self) -> EpisodeList:
        total = sum(s.episodes for s in self.seasons)
        if self.seasons and total != self.count:
            raise ValueError(f"the seasons hold {total} episodes in all, but count is {self.count}")
        return self


class FeaturedRoster(_Strict):
    """A roster the bot offers as a command of its own (``/immortal-nine``): the members of ``group``."""

    command: Annotated[str, Field(pattern=COMMAND_NAME_RE)]
    description: Annotated[str, Field(min_length=1, max_length=100)]
    group: SlugRef
    #: The group as a sentence names it ("The Immortal Nine"), e.g. when a server removed it.
    title: Short
    #: The description of the command's ``member`` option.
    member: Annotated[str, Field(min_length=1, max_length=100)] = "One member (leave empty for the roster)"


class BotCard(_Strict):
    """How the bot presents itself for this franchise (``/help``'s title, ``/about``)."""

    name: Annotated[str, Field(min_length=1, max_length=200)] = "Lore bot"
    #: Where the lore comes from, in a sentence or two (``/about``).
    about: Annotated[str, Field(max_length=900)] = ""


class Colours(_Strict):
    """Embed and picture colours: by kind, and by entry (a faction's card, and its members' cards)."""

    kinds: dict[Kind, Colour] = Field(default_factory=dict)
    entries: dict[str, Colour] = Field(default_factory=dict)


class PackMeta(_Strict):
    name: Short = "lore"
    version: Annotated[int, Field(ge=1)] = 1
    title: str | None = None
    description: str | None = None
    sources: list[Source] = Field(default_factory=list)
    # -- the franchise (read from the canon pack; a server's own pack cannot change it) --------
    #: The episode list; without it, a pack has as many episodes as the highest it names.
    episodes: EpisodeList | None = None
    #: The entry of the series itself (``/about`` shows its card).
    series: Short | None = None
    bot: BotCard = Field(default_factory=BotCard)
    colours: Colours = Field(default_factory=Colours)
    rosters: list[FeaturedRoster] = Field(default_factory=list)


#: The fields of an entry a patch replaces whole (see :class:`EntryPatch`).
PATCH_FIELDS = frozenset({"kind", "name", "introduced", "summary", "image", "episode"})
#: An item of a canon entry as a patch addresses it: a digest of the item (see :mod:`lore.patches`).
ItemKey = Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")]
Item = TypeVar("Item", Alias, Fact, Attribute, Relation, LaterSummary, Status, RevealPhrase)


class ListPatch(_Strict, Generic[Item]):
    """A server's changes to one list of a canon entry: canon items it dropped, canon items it
    replaced (in place), items it added (after the canon's), each canon item named by its key."""

    remove: list[ItemKey] = Field(default_factory=list)
    change: dict[ItemKey, Item] = Field(default_factory=dict)
    add: list[Item] = Field(default_factory=list)
    #: The order of the items, when the server's differs from the canon's (keys of the items as
    #: they are after the patch; items not listed, e.g. new canon ones, come after these).
    order: list[ItemKey] | None = None


class EntryPatch(_Strict):
    """A server's edit of a canon entry, kept as what the server changed rather than a copy:
    the server sees the canon entry with this patch applied, so a newer canon reaches it (new canon
    items appear; the ones it changed or removed stay changed or removed)."""

    slug: Slug
    #: Fields replaced whole: kind, name, introduced, summary, image, episode.
    set: dict[str, Any] = Field(default_factory=dict)
    aliases: ListPatch[Alias] = Field(default_factory=ListPatch[Alias])
    facts: ListPatch[Fact] = Field(default_factory=ListPatch[Fact])
    attributes: ListPatch[Attribute] = Field(default_factory=ListPatch[Attribute])
    relations: ListPatch[Relation] = Field(default_factory=ListPatch[Relation])
    later_summaries: ListPatch[LaterSummary] = Field(default_factory=ListPatch[LaterSummary])
    #: The status and the later statuses, as one list in episode order.
    statuses: ListPatch[Status] = Field(default_factory=ListPatch[Status])
    reveal_phrases: ListPatch[RevealPhrase] = Field(default_factory=ListPatch[RevealPhrase])

    @field_validator("set")
    @classmethod
    def _fields(cls, v: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(v) - PATCH_FIELDS)
        if unknown:
            raise ValueError(f"a patch sets only {', '.join(sorted(PATCH_FIELDS))} (not {', '.join(unknown)})")
        return v


class Pack(_Strict):
    pack: PackMeta = Field(default_factory=PackMeta)
    entries: list[Entry] = Field(default_factory=list)
    #: A server's edits of canon entries (a server's export; the canon has none).
    patches: list[EntryPatch] = Field(default_factory=list)
    #: Slugs of entries a server removed from its lore (a server's export; the canon has none).
    removed: list[Short] = Field(default_factory=list)

    @field_validator("removed")
    @classmethod
    def _slugs(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if not SLUG_RE.match(s)]
        if bad:
            raise ValueError(f"must be entry slugs (not {bad[0]!r})")
        return v
