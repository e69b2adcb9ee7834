"""Episode options as the pack's episode list defines them.

A command declares which of its integer options are episodes (:func:`episode_option`) and words
their descriptions with ``{first}`` and ``{last}``; when its cog loads, :func:`bind_episodes` gives
those options the franchise's range (``1..24`` for a pack of two seasons of twelve) before the
tree is synced. Where an episode is typed as text (a form, the command line), users
may write ``15`` or, for a franchise with seasons, ``s2e3`` (:meth:`Franchise.parse_episode`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from discord import app_commands
from discord.ext import commands

from lore import Franchise

F = TypeVar("F", bound=Callable[..., Any])
_ATTR = "__lore_episode_options__"


def episode_option(**firsts: int) -> Callable[[F], F]:
    """Mark options of a command as episodes: ``@episode_option(number=1)`` (the first episode
    the option accepts: 1 for an episode, 0 for "episodes watched")."""

    def mark(func: F) -> F:
        setattr(func, _ATTR, {**getattr(func, _ATTR, {}), **firsts})
        return func

    return mark


def _commands(cog: commands.Cog) -> Iterator[app_commands.Command[Any, ..., Any]]:
    seen: set[int] = set()
    roots: list[Any] = list(cog.walk_app_commands())
    if cog.app_command is not None:
        roots += list(cog.app_command.walk_commands())
    for cmd in roots:
        if isinstance(cmd, app_commands.Command) and id(cmd) not in seen:
            seen.add(id(cmd))
            yield cmd


def bind_episodes(cog: commands.Cog, franchise: Franchise) -> None:
    """Give the cog's episode options the franchise's range and wording (this cog's copies only:
    another bot in the process, with another pack, keeps its own)."""
    for cmd in _commands(cog):
        firsts: dict[str, int] = getattr(cmd.callback, _ATTR, {})
        for name, first in firsts.items():
            param = cmd._params[name]
            description = str(param.description).format(first=first, last=franchise.last)
            cmd._params[name] = dataclasses.replace(
                param, min_value=first, max_value=franchise.last, description=description
            )


def franchise_of(bot: commands.Bot) -> Franchise:
    """The franchise of the bot's open lore (cogs load after the lore is open)."""
    lore = getattr(bot, "lore", None)
    franchise = getattr(lore, "franchise", None)
    if not isinstance(franchise, Franchise):
        raise RuntimeError("the lore must be open before the cogs load")
    return franchise


async def add_cog(bot: commands.Bot, cog: commands.Cog) -> None:
    """Add ``cog`` with its episode options bound to the bot's franchise."""
    bind_episodes(cog, franchise_of(bot))
    await bot.add_cog(cog)
