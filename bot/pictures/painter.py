"""Pictures as a well-behaved service: drawn off the event loop, with a time limit, cached.

The cache is keyed by everything a picture depends on — the version of the guild's lore (its own
scope's and the canon's), the entry, the depth or the range, and the policy — so a repeat is free
and an edit is never answered with a stale picture. It is bounded in entries and in bytes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from lore import Policy, RelationGraph, event_candidates, last_episode, relation_graph, timeline

if TYPE_CHECKING:
    from lore import LoreService

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds a picture may take before the user gets a sentence instead.
TIME_LIMIT = 10.0
CACHE_ENTRIES = 256
CACHE_BYTES = 32 * 1024 * 1024


def _who(version: tuple[int, int], guild_id: int | None) -> int | None:
    """Servers without lore of their own see the canon: they share its pictures."""
    return guild_id if version[1] else None


class PictureError(Exception):
    """A picture could not be drawn; the message is a sentence for the user."""


@dataclass(frozen=True, slots=True)
class Picture:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class RelationMap:
    picture: Picture
    graph: RelationGraph


class _Cache:
    def __init__(self, entries: int, size: int):
        self.entries, self.size = entries, size
        self._items: OrderedDict[tuple[object, ...], tuple[object, int]] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[object, ...]) -> object | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: tuple[object, ...], value: object, size: int) -> None:
        if key in self._items:
            self._bytes -= self._items.pop(key)[1]
        self._items[key] = (value, size)
        self._bytes += size
        while self._items and (len(self._items) > self.entries or self._bytes > self.size):
            self._bytes -= self._items.popitem(last=False)[1][1]

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes


class Painter:
    def __init__(self, *, time_limit: float = TIME_LIMIT, entries: int = CACHE_ENTRIES, size: int = CACHE_BYTES):
        self.time_limit = time_limit
        self.cache = _Cache(entries, size)
        self._candidates = _Cache(16, 1 << 62)
        # one drawing thread: pictures queue behind each other instead of taking both cores
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lorebot-pictures")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, what: str, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, fn), self.time_limit)
        except TimeoutError:
            log.warning("drawing %s took over %g s; gave up", what, self.time_limit)
            raise PictureError(
                f"Drawing this picture took too long (over {self.time_limit:g} s). "
                "Try again in a moment, or ask for less (depth:1, or a shorter range of episodes)."
            ) from None
        except PictureError:
            raise
        except Exception as exc:
            log.exception("drawing %s failed", what)
            raise PictureError("I could not draw this picture. The error was logged; please try again.") from exc
        finally:
            log.debug("drew %s in %.1f ms", what, (time.perf_counter() - started) * 1000)

    # -- /relations ----------------------------------------------------------------------------
    def relations_key(
        self, lore: LoreService, slug: str, policy: Policy, guild_id: int | None, depth: int
    ) -> tuple[object, ...]:
        version = lore.scope_version(guild_id)
        return ("relations", version, _who(version, guild_id), slug, depth, policy.episode, policy.mode)

    def draw_relations(
        self, lore: LoreService, slug: str, policy: Policy, guild_id: int | None, depth: int
    ) -> RelationMap | None:
        """Build and draw a map now, in this thread (the benchmark and tests call it directly)."""
        graph = relation_graph(lore, slug, policy, guild_id, depth)
        if graph is None:
            return None
        from bot.pictures import relations as relations_draw  # Pillow loads with the first picture

        data = relations_draw.draw(graph, policy.footer(lore.franchise))
        return RelationMap(Picture(f"relations-{slug}.png", data), graph)

    async def relations(
        self, lore: LoreService, slug: str, policy: Policy, guild_id: int | None, depth: int
    ) -> RelationMap | None:
        key = self.relations_key(lore, slug, policy, guild_id, depth)
        found = self.cache.get(key)
        if found is not None:
            return found if isinstance(found, RelationMap) else None
        result = await self._run(f"the map of {slug}", lambda: self.draw_relations(lore, slug, policy, guild_id, depth))
        self.cache.put(key, result if result is not None else False, len(result.picture.data) if result else 64)
        return result

    # -- /timeline -----------------------------------------------------------------------------
    def draw_timeline(
        self, lore: LoreService, policy: Policy, guild_id: int | None, first: int, last: int
    ) -> list[Picture]:
        version = lore.scope_version(guild_id)
        candidates = self._candidates.get((version, guild_id))
        if not isinstance(candidates, list):
            candidates = event_candidates(lore, guild_id)
            self._candidates.put((version, guild_id), candidates, 1)
        tl = timeline(lore, policy, guild_id, first, last, candidates=candidates)
        series = lore.franchise.series  # the heading names the series, as the viewer sees it
        entry = lore.get(series, guild_id) if series else None
        view = lore.render(entry, policy, guild_id) if entry is not None else None
        heading = f"{view.title} — timeline" if view is not None else "Timeline"
        from bot.pictures import timeline as timeline_draw  # Pillow loads with the first picture

        pages = timeline_draw.draw(tl, policy.footer(lore.franchise), lore.franchise, heading)
        if not pages:
            return []
        span = f"{tl.first}-{tl.last}" if tl.first != tl.last else f"{tl.first}"
        if len(pages) == 1:
            return [Picture(f"timeline-ep{span}.png", pages[0])]
        return [Picture(f"timeline-ep{span}-{i}.png", data) for i, data in enumerate(pages, 1)]

    def timeline_key(
        self, lore: LoreService, policy: Policy, guild_id: int | None, first: int, last: int
    ) -> tuple[object, ...]:
        version = lore.scope_version(guild_id)
        return ("timeline", version, _who(version, guild_id), first, last, policy.episode, policy.mode)

    async def timeline(
        self, lore: LoreService, policy: Policy, guild_id: int | None, first: int = 1, last: int | None = None
    ) -> list[Picture]:
        reach = last_episode(lore, policy)
        last = reach if last is None else min(last, reach)
        key = self.timeline_key(lore, policy, guild_id, first, last)
        found = self.cache.get(key)
        if isinstance(found, list):
            return found
        pages = await self._run("the timeline", lambda: self.draw_timeline(lore, policy, guild_id, first, last))
        self.cache.put(key, pages, sum(len(p.data) for p in pages) + 64)
        return pages

    async def warm_up(self) -> None:
        """Load the fonts and the layout library before the first picture is asked for."""
        from bot.pictures import fonts

        def load() -> None:
            for size in (12, 13, 14, 15, 18, 19, 22, 24):
                fonts.font(size)
                fonts.font(size, True)
            import networkx  # noqa: F401

        await self._run("the fonts", load)
