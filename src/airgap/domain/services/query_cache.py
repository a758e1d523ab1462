"""The response network's query cache as the executor sees it (SPEC §8): a fast tier (Redis)
in front of the durable tier that keeps the books (the ``query_cache`` table), and the
maintenance of that table.

Lookup: the fast tier; on a miss there, the table, and a table hit refills the fast tier;
then a miss. Store: both tiers. Invalidate: both tiers. A hit the fast tier serves costs the
table nothing: the fast tier notes it in a ledger, and :func:`flush_hit_counts` (run by the
maintenance, or more often) adds the ledger to the table's counts — what the maintenance
reports as hot queries.

The fast tier's adapter turns its own outages into misses and no-ops, so with Redis down
the table still answers, at the table's speed; an invalidation Redis missed while it was
down makes the adapter empty Redis when it comes back (see the Redis adapter).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from airgap.domain.model.audit import LogLevel, SystemLogEntry
from airgap.domain.model.caching import CachedResult, HotQuery
from airgap.domain.model.operations import Page
from airgap.domain.services.context import ResponseSide
from airgap.ports.cache import DurableQueryCache, FastQueryCache
from airgap.ports.cache_admin import CacheUsage

if TYPE_CHECKING:
    from airgap.ports.cache import QueryCache
    from airgap.ports.cache_admin import QueryCacheInspector


class TieredQueryCache:
    """A :class:`~airgap.ports.cache.QueryCache` over a fast tier and the durable table."""

    def __init__(self, first: FastQueryCache, second: DurableQueryCache) -> None:
        self.first = first
        self.second = second

    def get(self, key: str, now: datetime) -> CachedResult | None:
        entry = self.first.get(key, now)
        if entry is not None:
            return entry
        entry = self.second.get(key, now)
        if entry is not None:
            self.first.put(entry)
        return entry

    def put(self, entry: CachedResult) -> None:
        self.second.put(entry)
        self.first.put(entry)

    def invalidate(self, key: str) -> bool:
        in_table = self.second.invalidate(key)
        in_first = self.first.invalidate(key)
        return in_table or in_first

    def invalidate_index(self, index: str) -> int:
        # Every entry is stored in both tiers; the larger count is the number of entries.
        return max(self.second.invalidate_index(index), self.first.invalidate_index(index))

    def clear(self) -> int:
        return max(self.second.clear(), self.first.clear())

    # What operators see is the table: it holds every entry and the counts.

    def entries(
        self, now: datetime, *, index: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[CachedResult]:
        return self.second.entries(now, index=index, limit=limit, offset=offset)

    def peek(self, key: str, now: datetime) -> CachedResult | None:
        return self.second.peek(key, now)

    def usage(self, now: datetime) -> CacheUsage:
        return self.second.usage(now)


def flush_hit_counts(cache: TieredQueryCache) -> int:
    """Add the hits the fast tier served since the last flush to the table's counts;
    returns how many entries got hits."""
    return cache.second.add_hits(cache.first.drain_hits())


@attrs.frozen
class CacheMaintenance:
    """What one maintenance run did: hit counts taken over, expired rows deleted, and the
    hottest queries."""

    ran_at: datetime
    entries_hit: int
    expired_deleted: int
    hot_queries: tuple[HotQuery, ...]


def maintain_query_cache(
    side: ResponseSide, cache: TieredQueryCache | DurableQueryCache, *, hot_limit: int = 20
) -> CacheMaintenance:
    """The hourly cache maintenance: bring the table's hit counts up to date (given the
    tiered cache; given the table alone, the hits Redis served are not counted), delete
    expired rows, and report the hot queries (also recorded in the system log)."""
    now = side.clock.now()
    if isinstance(cache, TieredQueryCache):
        table, hit = cache.second, flush_hit_counts(cache)
    else:
        table, hit = cache, 0
    deleted = table.delete_expired(now)
    hot = tuple(table.hot_queries(now, hot_limit))
    report = CacheMaintenance(ran_at=now, entries_hit=hit, expired_deleted=deleted, hot_queries=hot)
    with side.uow() as uow:
        uow.system_logs.record(
            SystemLogEntry(
                level=LogLevel.INFO,
                component="cache",
                message=(
                    f"cache maintenance: {deleted} expired entries deleted, {len(hot)} hot queries"
                ),
                created_at=now,
                details={
                    "entries_hit": hit,
                    "expired_deleted": deleted,
                    "hot_queries": [
                        {"key": q.key, "index": q.index, "hit_count": q.hit_count} for q in hot
                    ],
                },
            )
        )
        uow.commit()
    return report


if TYPE_CHECKING:  # mypy checks that the tiered cache is a cache, and what operators read

    def _conforms(cache: TieredQueryCache) -> tuple[QueryCache, QueryCacheInspector]:
        return cache, cache
