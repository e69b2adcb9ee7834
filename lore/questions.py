"""Multiple-choice quiz questions generated from the visible world (:mod:`lore.quizworld`).

The question, its four options and the line shown when the answer is revealed all come from that
world: a quiz at episode 3 is the quiz a world holding only the first three episodes would give,
distractors included.

A question is never ambiguous: an option is wrong only when the visible world says so (no
distractor is also a right answer, counting identities the viewer already knows). Options are
shuffled uniformly; a draw never asks about the same piece of lore twice.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from lore.markup import escape
from lore.model import Kind, LifeState
from lore.normalize import normalize as _normalize
from lore.quizworld import VisibleEntry, World

OPTIONS = 4
#: An option is a button label: Discord allows 80 characters.
MAX_OPTION = 76  # room for the "A. " before it
#: A quoted fact stays well within a message (question, reveal and results share 2000 characters).
MAX_FACT = 300


normalize = lru_cache(maxsize=1 << 16)(_normalize)


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
class Spec:
    """A question before its distractors are drawn: the right option, and every option that is
    certainly wrong in the visible world."""

    key: str
    topic: str
    prompt: str
    right: str
    wrong: tuple[str, ...]
    explanation: str


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


def _fits(text: str) -> bool:
    return 0 < len(text) <= MAX_OPTION


#: Kinds a question may be about (the series and episode entries have their own questions).
_SUBJECTS = {Kind.CHARACTER, Kind.FACTION, Kind.CONCEPT, Kind.LOCATION}


def _relation_specs(w: World) -> Iterable[Spec]:
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
            yield Spec(
                key=f"rel:{e.slug}:{label}:{r.target}",
                topic="affiliation" if label in _AFFILIATION else "relation",
                prompt=_RELATION_PROMPTS[label].format(x=escape(e.name)),
                right=target.name,
                wrong=w.names(pool),
                explanation=f"**{escape(e.name)}** — {escape(r.text)}.",
            )


def _members_specs(w: World) -> Iterable[Spec]:
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
            yield Spec(
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


def _voice_specs(w: World) -> Iterable[Spec]:
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
            yield Spec(
                key=f"voice:{e.slug}:{label}",
                topic="voice",
                prompt=f"Who voices **{escape(e.name)}** ({escape(lang)})?",
                right=actor,
                wrong=tuple(sorted(actors.values())),
                explanation=line,
            )
            excluded = w.expand(same_actor)
            others = [o.slug for o, v in rows if o.slug not in excluded]
            yield Spec(
                key=f"voice:{e.slug}:{label}",
                topic="voice",
                prompt=f"Which character does **{escape(actor)}** voice ({escape(lang)})?",
                right=e.name,
                wrong=w.names(set(others)),
                explanation=line,
            )


def _episode_label(n: int) -> str:
    return f"Episode {n}"


def _first_appearance_specs(w: World) -> Iterable[Spec]:
    episodes = list(range(1, w.episode + 1))
    if len(episodes) < OPTIONS:
        return
    for e in w.entries:
        if e.view.kind is not Kind.CHARACTER or e.view.introduced < 1:
            continue
        yield Spec(
            key=f"first:{e.slug}",
            topic="first appearance",
            prompt=f"In which episode does **{escape(e.name)}** first appear?",
            right=_episode_label(e.view.introduced),
            wrong=tuple(_episode_label(n) for n in episodes if n != e.view.introduced),
            explanation=f"**{escape(e.name)}** first appears in episode {e.view.introduced}.",
        )


def _title_specs(w: World) -> Iterable[Spec]:
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
        yield Spec(
            key=f"title:{n}",
            topic="episode title",
            prompt=f"What is the title of episode **{n}**?",
            right=title,
            wrong=tuple(t for m, t in titles.items() if m != n and normalize(t) != normalize(title)),
            explanation=line,
        )
        yield Spec(
            key=f"title:{n}",
            topic="episode title",
            prompt=f"Which episode is titled “{escape(title)}”?",
            right=_episode_label(n),
            wrong=tuple(_episode_label(m) for m, t in titles.items() if normalize(t) != normalize(title)),
            explanation=line,
        )
        if title_ja:
            yield Spec(
                key=f"title-ja:{n}",
                topic="episode title",
                prompt=f"Which episode has the Japanese title “{escape(title_ja)}”?",
                right=_episode_label(n),
                wrong=tuple(_episode_label(m) for m, _, ja in shown if m != n and ja != title_ja),
                explanation=line,
            )


def _status_specs(w: World) -> Iterable[Spec]:
    chars = w.of_kind(Kind.CHARACTER)
    dead = [c for c in chars if c.state is LifeState.DECEASED]
    alive = [c for c in chars if c.state is LifeState.ALIVE]

    def excluding(group: list[VisibleEntry], other: list[VisibleEntry]) -> tuple[str, ...]:
        mates = w.expand(c.slug for c in other)
        return w.names({c.slug for c in group if c.slug not in mates})

    for group, other, word in ((dead, alive, "has died"), (alive, dead, "is alive")):
        for c in group:
            status = c.view.status.text if c.view.status else ("deceased" if group is dead else "alive")
            yield Spec(
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


def _fact_specs(w: World) -> Iterable[Spec]:
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
        yield Spec(
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


def specs(entries: Sequence[VisibleEntry], episode: int) -> list[Spec]:
    """Every question the visible world supports (right option and enough distinct wrong ones)."""
    w = World(entries, episode)
    out: list[Spec] = []
    seen: set[tuple[str, str]] = set()
    for gen in _GENERATORS:
        for s in gen(w):
            wrong = tuple(dict.fromkeys(x for x in s.wrong if _fits(x) and normalize(x) != normalize(s.right)))
            if not _fits(s.right) or len(wrong) < OPTIONS - 1 or (s.key, s.prompt) in seen:
                continue
            seen.add((s.key, s.prompt))
            out.append(Spec(s.key, s.topic, s.prompt, s.right, wrong, s.explanation))
    return out


def build_question(spec: Spec, rng: random.Random) -> Question:
    wrong = rng.sample(sorted(spec.wrong), OPTIONS - 1)
    options = [spec.right, *wrong]
    rng.shuffle(options)
    return Question(spec.key, spec.topic, spec.prompt, tuple(options), options.index(spec.right), spec.explanation)


def draw_from(pool: Sequence[Spec], count: int, rng: random.Random) -> list[Question]:
    """Up to ``count`` questions, topics interleaved, never two about the same piece of lore."""
    by_topic: dict[str, list[Spec]] = defaultdict(list)
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
