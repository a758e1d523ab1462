"""The tiered query cache over two in-memory tiers, and the cache maintenance use case. (The
port contract runs on it with Redis and PostgreSQL too: tests/contracts/test_cache_contract.py;
the real tiers' failure modes: tests/integration/query_cache.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from airgap.adapters.memory.cache import MemoryQueryCache
from airgap.domain.model.caching import CachedResult, CachePolicy
from airgap.domain.services.query_cache import (
    TieredQueryCache,
    flush_hit_counts,
    maintain_query_cache,
)
from airgap.entrypoints.bootstrap.memory import MemorySystem

POLICY = CachePolicy()


def entry(system: MemorySystem, key: str, *, ttl: timedelta = POLICY.normal_ttl) -> CachedResult:
    now = system.clock.now()
    return CachedResult(
        key=key,
        index="products",
        result_data={"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}},
        result_count=0,
        took_ms=1,
        stored_at=now,
        expires_at=now + ttl,
    )


@pytest.fixture
def tiers() -> tuple[MemoryQueryCache, MemoryQueryCache, TieredQueryCache]:
    first, second = MemoryQueryCache(POLICY), MemoryQueryCache(POLICY)
    return first, second, TieredQueryCache(first, second)


def test_a_store_goes_to_both_tiers_and_hits_reach_the_table_when_flushed(
    system: MemorySystem, tiers: tuple[MemoryQueryCache, MemoryQueryCache, TieredQueryCache]
) -> None:
    _first, second, cache = tiers
    cache.put(entry(system, "q:1"))
    now = system.clock.now()
    for n in range(3):
        hit = cache.get("q:1", now + timedelta(seconds=n))
        assert hit is not None and hit.hit_count == n + 1
    assert second.peek("q:1", now).hit_count == 0  # type: ignore[union-attr]  (served by first)

    assert flush_hit_counts(cache) == 1
    row = second.peek("q:1", now)
    assert row is not None and (row.hit_count, row.last_hit_at) == (3, now + timedelta(seconds=2))
    assert flush_hit_counts(cache) == 0  # each hit is taken over once


def test_a_table_hit_refills_the_fast_tier(
    system: MemorySystem, tiers: tuple[MemoryQueryCache, MemoryQueryCache, TieredQueryCache]
) -> None:
    first, second, cache = tiers
    second.put(entry(system, "q:1"))
    assert cache.get("q:1", system.clock.now()) is not None
    refilled = first.peek("q:1", system.clock.now())
    assert refilled is not None and refilled.hit_count == 1


def test_invalidation_reaches_both_tiers(
    system: MemorySystem, tiers: tuple[MemoryQueryCache, MemoryQueryCache, TieredQueryCache]
) -> None:
    first, second, cache = tiers
    for key in ("q:1", "q:2", "q:3"):
        cache.put(entry(system, key))
    assert cache.invalidate("q:1") is True
    assert cache.invalidate_index("products") == 2
    cache.put(entry(system, "q:4"))
    assert cache.clear() == 1
    now = system.clock.now()
    assert [t.usage(now).entries for t in (first, second)] == [0, 0]


def test_maintenance_counts_hits_sweeps_expired_rows_and_reports_hot_queries(
    system: MemorySystem, tiers: tuple[MemoryQueryCache, MemoryQueryCache, TieredQueryCache]
) -> None:
    _first, second, cache = tiers
    second.put(entry(system, "q:old", ttl=timedelta(minutes=1)))
    for key in ("q:warm", "q:hot", "q:cold"):
        cache.put(entry(system, key))
    for _ in range(3):
        cache.get("q:hot", system.clock.now())
    cache.get("q:warm", system.clock.now())
    system.clock.advance(timedelta(minutes=2))

    report = maintain_query_cache(system.response, cache, hot_limit=5)

    assert (report.entries_hit, report.expired_deleted) == (2, 1)
    assert [(q.key, q.hit_count) for q in report.hot_queries] == [("q:hot", 3), ("q:warm", 1)]
    with system.response_store.unit_of_work() as uow:
        (logged,) = [e for e in uow.system_logs.entries() if e.component == "cache"]
    assert logged.details["expired_deleted"] == 1
    assert logged.details["hot_queries"][0] == {"key": "q:hot", "index": "products", "hit_count": 3}


def test_maintenance_on_the_table_alone(system: MemorySystem) -> None:
    table = MemoryQueryCache(POLICY)
    table.put(entry(system, "q:1"))
    table.get("q:1", system.clock.now())
    report = maintain_query_cache(system.response, table)
    assert (report.entries_hit, report.expired_deleted) == (0, 0)
    assert [q.key for q in report.hot_queries] == ["q:1"]
