"""The query cache on the response network (Redis first, then a table)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from airgap.domain.model.caching import CachedResult, HitsServed, HotQuery
from airgap.ports.cache_admin import QueryCacheInspector


class QueryCache(Protocol):
    """Stores search answers by cache key; expiry follows the domain's cache policy."""

    def get(self, key: str, now: datetime) -> CachedResult | None:
        """A fresh entry (its hit is counted), or None."""
        ...

    def put(self, entry: CachedResult) -> None: ...

    def invalidate(self, key: str) -> bool: ...

    def invalidate_index(self, index: str) -> int: ...

    def clear(self) -> int: ...


class FastQueryCache(QueryCache, Protocol):
    """The tier in front (Redis): it answers hits on its own and keeps a ledger of the hits
    it served, which the table behind it takes over from time to time."""

    def drain_hits(self) -> Mapping[str, HitsServed]:
        """The hits served since the last drain, by key, and forget them (atomically: a hit
        is reported by exactly one drain)."""
        ...


class DurableQueryCache(QueryCache, QueryCacheInspector, Protocol):
    """The tier that keeps the books (the ``query_cache`` table): it takes over the hit
    counts of the tier in front, is swept of expired entries, and is what operators
    browse."""

    def add_hits(self, hits: Mapping[str, HitsServed]) -> int:
        """Add hits served elsewhere to the entries' counts (and their latest hit time);
        returns how many entries were still there to count them."""
        ...

    def delete_expired(self, now: datetime) -> int:
        """Remove entries that expired at or before ``now``; returns how many."""
        ...

    def hot_queries(self, now: datetime, limit: int = 20) -> Sequence[HotQuery]:
        """Fresh entries with the most hits first (ties: the most recently hit)."""
        ...
