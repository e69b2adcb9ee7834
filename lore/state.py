"""What a lore service holds in memory, and the views over it that every part of the service reads.

The store; every scope's documents and name index (:class:`~lore.scope.Scope`) and the layered
index a guild looks things up in (its own scope over the canon's); the canon pack's metadata and
the franchise it defines; the spoiler settings in force (:class:`~lore.settings.Settings`). The
service's parts (loading, reading, targets, authoring, imports) are mixins over this state: each
one's methods are the service's own.
"""

from __future__ import annotations

from lore.errors import LoreError
from lore.franchise import EpisodeError, Franchise
from lore.model import Entry, PackMeta
from lore.resolve import LayeredIndex
from lore.scope import Scope, parse_entry
from lore.settings import Settings
from lore.spoilers import Policy
from lore.store import CANON, Store, guild_scope


class LoreState:
    """The state the service's parts share, and the views over it they all read."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._scopes: dict[str, Scope] = {}
        self._layered: dict[int | None, LayeredIndex] = {}
        self.canon_meta: PackMeta = PackMeta(name="canon")
        self.franchise: Franchise = Franchise.of(self.canon_meta)
        self._settings = Settings(store, self._check_episode)

    def _scope(self, scope: str) -> Scope:
        sc = self._scopes.get(scope)
        if sc is None:
            sc = self._scopes[scope] = Scope(())
        return sc

    def index_for(self, guild_id: int | None) -> LayeredIndex:
        ix = self._layered.get(guild_id)
        if ix is None:
            canon = self._scopes[CANON]
            if guild_id is None or guild_scope(guild_id) not in self._scopes:
                ix = LayeredIndex([(canon.index, frozenset())])
            else:
                g = self._scopes[guild_scope(guild_id)]
                ix = LayeredIndex([(g.index, frozenset()), (canon.index, frozenset(g.docs))])
            self._layered[guild_id] = ix
        return ix

    def get(self, slug: str, guild_id: int | None = None) -> Entry | None:
        """The entry a guild sees under ``slug`` (its override, else the canon), regardless of policy."""
        if guild_id is not None:
            g = self._scopes.get(guild_scope(guild_id))
            if g is not None and slug in g.docs:
                doc = g.docs[slug]
                return parse_entry(doc) if doc is not None else None
        doc = self._scopes[CANON].docs.get(slug)
        return parse_entry(doc) if doc else None

    def entries(self, guild_id: int | None = None) -> list[Entry]:
        ix = self.index_for(guild_id)
        out = []
        for index, exclude in ix.layers:
            for slug in index.slugs:
                if slug not in exclude:
                    entry = self.get(slug, guild_id)
                    if entry is not None:
                        out.append(entry)
        return out

    def scope_version(self, guild_id: int | None = None) -> tuple[int, int]:
        """Changes whenever the lore a guild sees changes (its own scope's or the canon's)."""
        own = self._scopes.get(guild_scope(guild_id)) if guild_id is not None else None
        return (self._scopes[CANON].generation, own.generation if own is not None else 0)

    @staticmethod
    def scope_of(guild_id: int | None) -> str:
        return CANON if guild_id is None else guild_scope(guild_id)

    def _known_slugs(self, guild_id: int | None, policy: Policy | None = None) -> set[str]:
        """Slugs of the entries a guild sees (with ``policy``: only those introduced within it)."""
        ix = self.index_for(guild_id)
        slugs = {s for index, exclude in ix.layers for s in index.slugs if s not in exclude}
        if policy is None:
            return slugs
        return {s for s in slugs if (rec := ix.find(s)) is not None and policy.reveals(rec[3])}

    def _patchable(self, policy: Policy | None) -> set[str]:
        """Canon entries a server's pack may patch: those the channel sees (all without ``policy``)."""
        canon = self._scopes[CANON].index
        return {s for s in canon.slugs if policy is None or policy.reveals(canon.record(canon.by_slug[s])[3])}

    def scope_counts(self) -> dict[str, int]:
        """Entries held by each scope (``canon``, ``guild:<id>``), for the operator's metrics."""
        return {name: sum(1 for d in sc.docs.values() if d is not None) for name, sc in self._scopes.items()}

    def own_entry_count(self, guild_id: int | None) -> int:
        """How many entries the scope itself holds (a guild's own entries and its edits of canon ones)."""
        scope = self._scope(self.scope_of(guild_id))
        return sum(1 for doc in scope.docs.values() if doc is not None) + sum(
            1 for slug in scope.patches if slug not in scope.docs
        )

    def _check_episode(self, episode: int) -> None:
        try:
            self.franchise.check_episode(episode)
        except EpisodeError as e:
            raise LoreError(f"{str(e).removesuffix('.')}; nothing was changed.") from None

    @property
    def canon_version(self) -> int:
        return self.canon_meta.version

    def canon_visible(self, slug: str, policy: Policy | None = None) -> bool:
        """Whether the canon has ``slug`` for a channel under ``policy`` (a later canon entry is,
        for that channel, as if the canon did not have it)."""
        entry = self.get(slug)
        return entry is not None and (policy is None or policy.reveals(entry.introduced))
