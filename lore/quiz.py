"""Multiple-choice quiz questions generated from the lore a viewer may see.

Every question is built from the *visible world*: the entries as :func:`lore.render.render_entry`
renders them under ``hide`` at the viewer's episode, so that only plain items are used (no spoiler
span, no entry introduced later, no later alias, relation, status or attribute). The question, its
four options and the line shown when the answer is revealed all come from that world: a quiz at
episode 3 is the quiz a world holding only the first three episodes would give, distractors
included. Nothing here decides visibility; it only reads what the renderer kept.

A question is never ambiguous: an option is wrong only when the visible world says so (no
distractor is also a right answer, counting identities the viewer already knows). Options are
shuffled uniformly; a session never asks about the same piece of lore twice.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

from lore.model import Entry, Kind, LifeState
from lore.normalize import normalize as _normalize
from lore.render import EntryView
from lore.spoilers import Mode, Policy

if TYPE_CHECKING:
    from lore.service import LoreService

OPTIONS = 4
#: An option is a button label: Discord allows 80 characters.
MAX_OPTION = 76  # room for the "A. " before it
#: A quoted fact stays well within a message (question, reveal and results share 2000 characters).
MAX_FACT = 300
QUESTIONS_MAX = 20

normalize = lru_cache(maxsize=1 << 16)(_normalize)

_MARKDOWN = re.compile(r"([\\*_~`|>\[\]<@])")


def escape(text: str) -> str:
    """``text`` shown literally in Discord markdown (names and facts are not formatting)."""
    return _MARKDOWN.sub(r"\\\1", text)


@dataclass(frozen=True, slots=True)
class Question:
    """One multiple-choice question. ``prompt`` and ``explanation`` are final markdown; options are
    plain text (button labels). ``key`` names the piece of lore asked about."""

    key: str
    topic: str
    prompt: str
    options: tuple[str, ...]
    answer: int
    explanation: str

    @property
    def right(self) -> str:
        return self.options[self.answer]


@dataclass(frozen=True, slots=True)
class _Spec:
    """A question before its distractors are drawn: the right option, and every option that is
    certainly wrong in the visible world."""

    key: str
    topic: str
    prompt: str
    right: str
    wrong: tuple[str, ...]
    explanation: str


@dataclass(slots=True)
class VisibleEntry:
    """An entry as the renderer lets the viewer see it (plain items only), plus its structured
    status when the renderer shows the status."""

    view: EntryView
    state: LifeState | None

    @property
    def slug(self) -> str:
        return self.view.slug or ""

    @property
    def name(self) -> str:
        return self.view.title


def quiz_policy(policy: Policy, last_episode: int) -> Policy:
    """The policy questions are drawn under: only what the viewer sees plainly. Under ``tag`` a
    spoiler span is not "seen", so it is left out as under ``hide``; ``show`` shows everything
    (up to ``last_episode``, the franchise's finale)."""
    return Policy(episode=policy.reach(last_episode), mode=Mode.HIDE, source=policy.source)


def visible_entries(rendered: Iterable[tuple[Entry, EntryView | None]]) -> list[VisibleEntry]:
    """The visible world from entries rendered under :func:`quiz_policy` (sorted by slug)."""
    out = []
    for entry, view in rendered:
        if view is None or not view.slug:
            continue
        state = entry.status.state if (entry.status is not None and view.status is not None) else None
        out.append(VisibleEntry(view, state))
    out.sort(key=lambda v: v.slug)
    return out


# -- relations ---------------------------------------------------------------------------------
#: Relation label -> (question template, topic). ``{x}`` is the subject's name (bold).
_RELATION_PROMPTS: dict[str, str] = {
    "member of": "Which of these is **{x}** a member of?",
    "works for": "Who or what does **{x}** work for?",
    "leads": "What does **{x}** lead?",
    "part of": "What is **{x}** part of?",
    "sibling of": "Who is a sibling of **{x}**?",
    "parent of": "Who is a child of **{x}**?",
    "child of": "Who is a parent of **{x}**?",
    "allied with": "Who is **{x}** allied with?",
    "killed": "Who was killed by **{x}**?",
    "killed by": "Who killed **{x}**?",
    "created": "Which of these did **{x}** create?",
    "created by": "Who or what created **{x}**?",
    "opposes": "Which of these does **{x}** oppose?",
    "distrusts": "Which of these does **{x}** distrust?",
    "governs": "Which of these does **{x}** govern?",
    "fought": "Which of these has **{x}** fought?",
    "located in": "Where is **{x}**?",
    "same person as": "Who is **{x}** really?",
}
_AFFILIATION = {"member of", "works for", "leads", "part of"}
#: What belonging to a group carries over to the groups it belongs to.
_GROUPING = {"part of", "member of"}
#: The label of the same relation seen from its target ("A killed B" is "B killed by A").
_INVERSE = {
    "killed": "killed by",
    "killed by": "killed",
    "parent of": "child of",
    "child of": "parent of",
    "created": "created by",
    "created by": "created",
    "sibling of": "sibling of",
    "allied with": "allied with",
    "fought": "fought",
    "same person as": "same person as",
    "opposes": "opposes",
}


class _World:
    def __init__(self, entries: Sequence[VisibleEntry], episode: int):
        self.entries = list(entries)
        self.episode = episode
        self.by_slug = {e.slug: e for e in self.entries}
        # (subject, label) -> targets, and identity groups, from plain relations only
        self.rel: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.same: dict[str, set[str]] = defaultdict(set)
        for e in self.entries:
            for r in e.view.relations:
                if r.target is None or r.label is None or r.target not in self.by_slug:
                    continue
                self.rel[(e.slug, r.label)].add(r.target)
                inverse = _INVERSE.get(r.label)
                if inverse:
                    self.rel[(r.target, inverse)].add(e.slug)
                if r.label == "same person as":
                    self.same[e.slug].add(r.target)
                    self.same[r.target].add(e.slug)

    def closure(self, slugs: Iterable[str], labels: set[str]) -> set[str]:
        """``slugs`` and everything they are (transitively) ``labels`` of: what is part of Ochrona
        is also in what Ochrona is part of; what is in Canal City is also on Mars."""
        seen, todo = set(slugs), list(slugs)
        while todo:
            s = todo.pop()
            for lab in labels:
                for t in self.rel.get((s, lab), ()):
                    if t not in seen:
                        seen.add(t)
                        todo.append(t)
        return seen

    def people(self, slug: str) -> set[str]:
        """``slug`` and every entry the viewer knows to be the same person."""
        seen, todo = {slug}, [slug]
        while todo:
            for other in self.same.get(todo.pop(), ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return seen

    def expand(self, slugs: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for s in slugs:
            out |= self.people(s)
        return out

    def of_kind(self, kind: Kind) -> list[VisibleEntry]:
        return [e for e in self.entries if e.view.kind is kind]

    def names(self, slugs: Iterable[str]) -> tuple[str, ...]:
        return tuple(self.by_slug[s].name for s in sorted(slugs) if s in self.by_slug)


def _fits(text: str) -> bool:
    return 0 < len(text) <= MAX_OPTION


#: Kinds a question may be about (the series and episode entries have their own questions).
_SUBJECTS = {Kind.CHARACTER, Kind.FACTION, Kind.CONCEPT, Kind.LOCATION}


def _relation_specs(w: _World) -> Iterable[_Spec]:
    for e in w.entries:
        if e.view.kind not in _SUBJECTS:
            continue
        for r in e.view.relations:
            if r.target is None or r.label not in _RELATION_PROMPTS or r.target not in w.by_slug:
                continue
            target = w.by_slug[r.target]
            label = r.label
            labels = _AFFILIATION if label in _AFFILIATION else {label}
            right_set: set[str] = set()
            for lab in labels:
                right_set |= w.rel.get((e.slug, lab), set())
            if label in _AFFILIATION:
                right_set = w.closure(right_set, _GROUPING)
            elif label == "located in":
                right_set = w.closure(right_set, {"located in"})
            excluded = w.expand(right_set) | w.people(e.slug)
            pool = [o.slug for o in w.of_kind(target.view.kind) if o.slug not in excluded]
            yield _Spec(
                key=f"rel:{e.slug}:{label}:{r.target}",
                topic="affiliation" if label in _AFFILIATION else "relation",
                prompt=_RELATION_PROMPTS[label].format(x=escape(e.name)),
                right=target.name,
                wrong=w.names(pool),
                explanation=f"**{escape(e.name)}** — {escape(r.text)}.",
            )


def _members_specs(w: _World) -> Iterable[_Spec]:
    """ "Which of these is a member of F?" for every group with a visible member."""
    for f in w.entries:
        if f.view.kind is not Kind.FACTION:
            continue
        members = {s for (s, lab), ts in w.rel.items() if lab == "member of" and f.slug in ts}
        affiliated = {
            s
            for (s, lab), ts in w.rel.items()
            if lab in _AFFILIATION and f.slug in w.closure(w.rel.get((s, lab), set()), _GROUPING)
        }
        excluded = w.expand(affiliated)
        chars = [c.slug for c in w.of_kind(Kind.CHARACTER) if c.slug not in excluded]
        for m in sorted(members):
            if w.by_slug[m].view.kind is not Kind.CHARACTER:
                continue
            yield _Spec(
                key=f"rel:{m}:member of:{f.slug}",
                topic="affiliation",
                prompt=f"Which of these characters is a member of **{escape(f.name)}**?",
                right=w.by_slug[m].name,
                wrong=w.names(chars),
                explanation=f"**{escape(w.by_slug[m].name)}** is a member of {escape(f.name)}.",
            )


def _voice_key(value: str) -> str:
    """ "Kenjiro Tsuda (津田健次郎)" and "Kenjiro Tsuda" are one actor."""
    return normalize(value.split(" (", 1)[0])


def _voice_specs(w: _World) -> Iterable[_Spec]:
    voiced: dict[str, list[tuple[VisibleEntry, str]]] = defaultdict(list)  # label -> (entry, actor)
    for e in w.entries:
        for a in e.view.attributes:
            if a.label and a.label.startswith("Voice ("):
                voiced[a.label].append((e, a.text))
    for label, rows in sorted(voiced.items()):
        lang = label[len("Voice (") :].rstrip(")")
        for e, actor in rows:
            mine = w.people(e.slug)
            actor_key = _voice_key(actor)
            same_actor = {o.slug for o, v in rows if _voice_key(v) == actor_key}
            own_actors = {_voice_key(v) for o, v in rows if o.slug in mine}
            actors: dict[str, str] = {}
            for _other, v in rows:
                k = _voice_key(v)
                if k not in own_actors and k not in actors:
                    actors[k] = v
            line = f"**{escape(e.name)}** is voiced by {escape(actor)} ({escape(lang)})."
            yield _Spec(
                key=f"voice:{e.slug}:{label}",
                topic="voice",
                prompt=f"Who voices **{escape(e.name)}** ({escape(lang)})?",
                right=actor,
                wrong=tuple(sorted(actors.values())),
                explanation=line,
            )
            excluded = w.expand(same_actor)
            others = [o.slug for o, v in rows if o.slug not in excluded]
            yield _Spec(
                key=f"voice:{e.slug}:{label}",
                topic="voice",
                prompt=f"Which character does **{escape(actor)}** voice ({escape(lang)})?",
                right=e.name,
                wrong=w.names(set(others)),
                explanation=line,
            )


def _episode_label(n: int) -> str:
    return f"Episode {n}"


def _first_appearance_specs(w: _World) -> Iterable[_Spec]:
    episodes = list(range(1, w.episode + 1))
    if len(episodes) < OPTIONS:
        return
    for e in w.entries:
        if e.view.kind is not Kind.CHARACTER or e.view.introduced < 1:
            continue
        yield _Spec(
            key=f"first:{e.slug}",
            topic="first appearance",
            prompt=f"In which episode does **{escape(e.name)}** first appear?",
            right=_episode_label(e.view.introduced),
            wrong=tuple(_episode_label(n) for n in episodes if n != e.view.introduced),
            explanation=f"**{escape(e.name)}** first appears in episode {e.view.introduced}.",
        )


def _title_specs(w: _World) -> Iterable[_Spec]:
    shown = []
    for e in w.entries:
        ep = e.view.episode
        # only episodes already watched: a quiz is about what the group has seen
        if e.view.kind is Kind.EPISODE and ep and ep.get("title") and 0 < int(ep.get("number") or 0) <= w.episode:
            shown.append((int(ep["number"]), str(ep["title"]), ep.get("title_ja")))
    shown.sort()
    titles = {n: t for n, t, _ in shown}
    for n, title, title_ja in shown:
        line = f"Episode {n} is “{escape(title)}”" + (f" ({escape(title_ja)})." if title_ja else ".")
        yield _Spec(
            key=f"title:{n}",
            topic="episode title",
            prompt=f"What is the title of episode **{n}**?",
            right=title,
            wrong=tuple(t for m, t in titles.items() if m != n and normalize(t) != normalize(title)),
            explanation=line,
        )
        yield _Spec(
            key=f"title:{n}",
            topic="episode title",
            prompt=f"Which episode is titled “{escape(title)}”?",
            right=_episode_label(n),
            wrong=tuple(_episode_label(m) for m, t in titles.items() if normalize(t) != normalize(title)),
            explanation=line,
        )
        if title_ja:
            yield _Spec(
                key=f"title-ja:{n}",
                topic="episode title",
                prompt=f"Which episode has the Japanese title “{escape(title_ja)}”?",
                right=_episode_label(n),
                wrong=tuple(_episode_label(m) for m, _, ja in shown if m != n and ja != title_ja),
                explanation=line,
            )


def _status_specs(w: _World) -> Iterable[_Spec]:
    chars = w.of_kind(Kind.CHARACTER)
    dead = [c for c in chars if c.state is LifeState.DECEASED]
    alive = [c for c in chars if c.state is LifeState.ALIVE]

    def excluding(group: list[VisibleEntry], other: list[VisibleEntry]) -> tuple[str, ...]:
        mates = w.expand(c.slug for c in other)
        return w.names({c.slug for c in group if c.slug not in mates})

    for group, other, word in ((dead, alive, "has died"), (alive, dead, "is alive")):
        for c in group:
            status = c.view.status.text if c.view.status else ("deceased" if group is dead else "alive")
            yield _Spec(
                key=f"status:{c.slug}",
                topic="status",
                prompt=f"Which of these characters {word}?",
                right=c.name,
                wrong=excluding(other, [c]),
                explanation=f"**{escape(c.name)}**: {status}.",  # the rendered status is Markdown already
            )


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    parts = sorted({n for n in names if len(n) >= 2}, key=len, reverse=True)
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in parts) + r")(?:'s|’s)?(?!\w)", re.IGNORECASE)


_BLANK = "\u2060blank\u2060"  # stands for the subject's name until the fact is escaped
_KIND_WORD = {
    Kind.CHARACTER: "character",
    Kind.FACTION: "group",
    Kind.CONCEPT: "concept",
    Kind.LOCATION: "place",
}


def _fact_specs(w: _World) -> Iterable[_Spec]:
    """ "Which character is this about?" over a fact with the subject's names blanked out."""
    texts: dict[str, set[str]] = defaultdict(set)  # blanked fact -> subjects
    candidates = []
    for e in w.entries:
        if e.view.kind not in _KIND_WORD:
            continue
        own = [e.view.title] + [a.text for a in e.view.aliases]
        for mate in w.people(e.slug) - {e.slug}:
            mv = w.by_slug[mate].view
            own += [mv.title] + [a.text for a in mv.aliases]
        pattern = _name_pattern(own)
        for i, fact in enumerate(e.view.facts):
            if len(fact.text) > MAX_FACT:
                continue
            blanked = pattern.sub(_BLANK, fact.text) if pattern else fact.text
            texts[normalize(blanked)].add(e.slug)
            candidates.append((e, i, fact.text, blanked))
    keys: dict[str, list[str]] = {}
    for o in w.entries:
        names = [o.view.title, *(a.text for a in o.view.aliases)]
        keys[o.slug] = [k for k in map(normalize, names) if k]
    for e, i, text, blanked in candidates:
        subjects = texts[normalize(blanked)]
        if len(subjects) > 1:
            continue  # the same words are said of more than one entry
        folded = f" {normalize(blanked)} "
        mates = w.people(e.slug)
        pool = []
        for o in w.of_kind(e.view.kind):
            if o.slug in mates:
                continue
            if any(f" {n} " in folded for n in keys[o.slug]):
                continue  # an option named in the fact itself would confuse
            pool.append(o.slug)
        word = _KIND_WORD[e.view.kind]
        yield _Spec(
            key=f"fact:{e.slug}:{i}",
            topic="fact",
            prompt=f"Which {word} is this about?\n> " + escape(blanked).replace(_BLANK, "\\_\\_\\_\\_"),
            right=e.name,
            wrong=w.names(pool),
            explanation=f"**{escape(e.name)}**: {escape(text)}",
        )


_GENERATORS = (
    _relation_specs,
    _members_specs,
    _voice_specs,
    _first_appearance_specs,
    _title_specs,
    _status_specs,
    _fact_specs,
)


def specs(entries: Sequence[VisibleEntry], episode: int) -> list[_Spec]:
    """Every question the visible world supports (right option and enough distinct wrong ones)."""
    w = _World(entries, episode)
    out: list[_Spec] = []
    seen: set[tuple[str, str]] = set()
    for gen in _GENERATORS:
        for s in gen(w):
            wrong = tuple(dict.fromkeys(x for x in s.wrong if _fits(x) and normalize(x) != normalize(s.right)))
            if not _fits(s.right) or len(wrong) < OPTIONS - 1 or (s.key, s.prompt) in seen:
                continue
            seen.add((s.key, s.prompt))
            out.append(_Spec(s.key, s.topic, s.prompt, s.right, wrong, s.explanation))
    return out


def build_question(spec: _Spec, rng: random.Random) -> Question:
    wrong = rng.sample(sorted(spec.wrong), OPTIONS - 1)
    options = [spec.right, *wrong]
    rng.shuffle(options)
    return Question(spec.key, spec.topic, spec.prompt, tuple(options), options.index(spec.right), spec.explanation)


def draw(entries: Sequence[VisibleEntry], episode: int, count: int, rng: random.Random) -> list[Question]:
    """Up to ``count`` questions, topics interleaved, never two about the same piece of lore."""
    return draw_from(specs(entries, episode), count, rng)


def draw_from(pool: Sequence[_Spec], count: int, rng: random.Random) -> list[Question]:
    by_topic: dict[str, list[_Spec]] = defaultdict(list)
    for s in pool:
        by_topic[s.topic].append(s)
    topics = sorted(by_topic)
    rng.shuffle(topics)
    for t in topics:
        rng.shuffle(by_topic[t])
    out: list[Question] = []
    used: set[str] = set()
    while len(out) < count and any(by_topic.values()):
        for t in topics:
            queue = by_topic[t]
            while queue and queue[-1].key in used:
                queue.pop()
            if not queue or len(out) >= count:
                continue
            s = queue.pop()
            used.add(s.key)
            out.append(build_question(s, rng))
    return out


def world_for(service: LoreService, policy: Policy, guild_id: int | None) -> tuple[list[VisibleEntry], int]:
    """The visible world of a guild's lore under ``policy`` (and the episode it stops at)."""
    p = quiz_policy(policy, service.franchise.last)
    rendered = ((e, service.render(e, p, guild_id)) for e in service.entries(guild_id))
    return visible_entries(rendered), p.episode


#: (service, guild, episode) -> (the index the specs were built from, the specs): a guild's lore
#: changes only with a write, and every write gives the guild a new index.
_SPECS: dict[tuple[int, int | None, int], tuple[object, list[_Spec]]] = {}
_SPECS_MAX = 512


def specs_for(service: LoreService, policy: Policy, guild_id: int | None) -> list[_Spec]:
    p = quiz_policy(policy, service.franchise.last)
    index = service.index_for(guild_id)
    key = (id(service), guild_id, p.episode)
    hit = _SPECS.get(key)
    if hit is not None and hit[0] is index:
        return hit[1]
    entries, episode = world_for(service, policy, guild_id)
    built = specs(entries, episode)
    if len(_SPECS) >= _SPECS_MAX:
        _SPECS.clear()
    _SPECS[key] = (index, built)
    return built


def questions_for(
    service: LoreService, policy: Policy, guild_id: int | None, count: int, rng: random.Random
) -> list[Question]:
    """A session's questions: what :func:`draw` gives over the visible world under ``policy``."""
    return draw_from(specs_for(service, policy, guild_id), max(1, min(count, QUESTIONS_MAX)), rng)


# -- a session's rules ---------------------------------------------------------------------------
class Outcome(StrEnum):
    ACCEPTED = "accepted"
    ALREADY = "already answered"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Reveal:
    """A closed question: who answered, who was right (in the order they answered)."""

    number: int  # 1-based
    question: Question
    right: list[int]
    answered: list[int]
    newcomers: set[int]  # members whose first answer of the session this was

    def answers(self) -> list[tuple[int, bool, bool]]:
        """(user, right?, first answer of the session?) for every member who answered."""
        right = set(self.right)
        return [(u, u in right, u in self.newcomers) for u in self.answered]


class Session:
    """One quiz: its questions in order, one answer per member per question, the running tally."""

    def __init__(self, questions: Sequence[Question]):
        if not questions:
            raise ValueError("a session needs at least one question")
        self.questions = list(questions)
        self.index = 0
        self.is_open = False
        self._answers: dict[int, int] = {}
        self.players: set[int] = set()
        self.tally: dict[int, int] = {}
        self._order: dict[int, int] = {}  # user -> when they reached their tally (ties: first there first)
        self._clock = 0

    @property
    def current(self) -> Question:
        return self.questions[self.index]

    @property
    def number(self) -> int:
        return self.index + 1

    def open(self) -> Question:
        self._answers = {}
        self.is_open = True
        return self.current

    def answer(self, user_id: int, option: int) -> Outcome:
        if not self.is_open or not 0 <= option < len(self.current.options):
            return Outcome.CLOSED
        if user_id in self._answers:
            return Outcome.ALREADY
        self._answers[user_id] = option
        return Outcome.ACCEPTED

    def close(self) -> Reveal:
        self.is_open = False
        answered = list(self._answers)
        right = [u for u, opt in self._answers.items() if opt == self.current.answer]
        newcomers = {u for u in answered if u not in self.players}
        self.players.update(answered)
        for u in right:
            self._clock += 1
            self.tally[u] = self.tally.get(u, 0) + 1
            self._order[u] = self._clock
        for u in answered:
            self.tally.setdefault(u, 0)
            self._order.setdefault(u, 10**9 + u % 10**9)
        return Reveal(self.number, self.current, right, answered, newcomers)

    def advance(self) -> bool:
        """Move to the next question; False when there is none."""
        if self.index + 1 >= len(self.questions):
            return False
        self.index += 1
        return True

    def standings(self) -> list[tuple[int, int]]:
        """(user, right answers) for every player, best first; ties by who got there first."""
        return sorted(self.tally.items(), key=lambda kv: (-kv[1], self._order.get(kv[0], 0), kv[0]))
