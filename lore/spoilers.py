"""Spoiler policy: what a viewer has watched (episode) and how later material is shown (mode)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from lore.markup import escape
from lore.markup import spoiler as wrap
from lore.model import EPISODE_CEILING

if TYPE_CHECKING:
    from lore.franchise import Franchise


class Mode(StrEnum):
    HIDE = "hide"  # later material is left out, as if it did not exist
    TAG = "tag"  # as hide, plus one ||spoiler|| block of later material per reply, always there
    SHOW = "show"  # everything is shown plainly


class PolicySource(StrEnum):
    USER = "your progress"
    CHANNEL = "channel"
    SERVER = "server"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Policy:
    episode: int = 0
    mode: Mode = Mode.TAG
    source: PolicySource = PolicySource.DEFAULT

    def __post_init__(self) -> None:
        # The franchise's own bound is checked where an episode comes in (``Franchise.check_episode``).
        if not 0 <= self.episode <= EPISODE_CEILING:
            raise ValueError(f"episode must be between 0 and {EPISODE_CEILING}")

    def reveals(self, episode: int) -> bool:
        """True when something revealed at ``episode`` may be shown plainly."""
        return episode <= self.episode or self.mode is Mode.SHOW

    def holds_back(self, last_episode: int) -> bool:
        """Whether this policy leaves anything out of a franchise ending at ``last_episode`` (a
        property of the policy and the episode list, not of the lore)."""
        return self.mode is not Mode.SHOW and self.episode < last_episode

    def reach(self, last_episode: int) -> int:
        """The last episode shown plainly: the policy's own, or the finale (``last_episode``) under ``show``."""
        return last_episode if self.mode is Mode.SHOW else self.episode

    def footer(self, franchise: Franchise | None = None) -> str:
        """``Spoilers: up to episode 5 · tag`` (``episode 20 (S2E8)`` in a ``franchise`` with seasons)."""
        where = franchise.label(self.episode) if franchise is not None else f"episode {self.episode}"
        return f"Spoilers: up to {where} · {self.mode.value}"


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class Setting:
    """A stored, possibly partial, setting: a channel override may set only the mode."""

    episode: int | None = None
    mode: Mode | None = None

    @property
    def empty(self) -> bool:
        return self.episode is None and self.mode is None


def resolve_policy(
    *,
    server: Setting | None = None,
    channel: Setting | None = None,
    user_progress: int | None = None,
    private: bool = False,
) -> Policy:
    """The policy in force: a user's own progress for private replies; else the channel's
    override; else the server's setting; else the default (episode 0, mode ``tag``).

    Episode and mode resolve independently, so a channel may override only one of them. A
    private reply takes its episode from the user's progress (when set) and keeps the mode in
    force where it was asked.
    """
    episode, ep_source = DEFAULT_POLICY.episode, PolicySource.DEFAULT
    mode, mode_source = DEFAULT_POLICY.mode, PolicySource.DEFAULT
    for setting, source in ((server, PolicySource.SERVER), (channel, PolicySource.CHANNEL)):
        if setting is None:
            continue
        if setting.episode is not None:
            episode, ep_source = setting.episode, source
        if setting.mode is not None:
            mode, mode_source = setting.mode, source
    if private and user_progress is not None:
        episode, ep_source = user_progress, PolicySource.USER
        if mode is Mode.SHOW:  # the viewer asked to be kept to their progress: never plainly past it
            mode = Mode.TAG
    source = ep_source if ep_source is not PolicySource.DEFAULT else mode_source
    return Policy(episode=episode, mode=mode, source=source)


def spoiler(text: str) -> str:
    """Wrap plain ``text`` in Discord spoiler tags, escaping its markup so the span cannot be broken."""
    return wrap(escape(text))
