"""Contract of the QueryCache port, written against the port only.

To check another adapter, add its name to the ``params`` of the ``cache`` fixture and a
branch that builds it, empty, with the default :class:`CachePolicy`. The clock starts at the
real current time (to the second) rather than a fixed date: ``put`` takes no ``now``, so an
adapter with server-side expiry (Redis ``EXPIREAT``) can only go by the wall clock, and
entries stamped years ago would vanish at once. Everything after that is driven by the
``now`` the tests pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from builders import Make, state

from airgap.adapters.memory.cache import MemoryQueryCache
from airgap.adapters.memory.clock import FakeClock
from airgap.adapters.postgres.query_cache import PostgresQueryCache
from airgap.adapters.redis.query_cache import RedisQueryCache
from airgap.domain.model.caching import CachePolicy
from airgap.domain.services.query_cache import TieredQueryCache
from airgap.ports.cache import QueryCache
from support.databases import postgres_response_store

POLICY = CachePolicy()
TICK = timedelta(microseconds=1)


@pytest.fixture(params=["memory", "redis", "postgres", "tiered"])
def cache(request: pytest.FixtureRequest) -> Iterator[QueryCache]:
    """One empty cache per adapter under test, following the default cache policy."""
    if request.param == "memory":
        yield MemoryQueryCache(POLICY)
    elif request.param == "redis":
        client = request.getfixturevalue("redis_client")
        yield RedisQueryCache(client, POLICY, prefix=f"test:{uuid.uuid4()}")
    elif request.param == "postgres":
        with postgres_response_store() as store:
            yield PostgresQueryCache(store.engine, POLICY)
    elif request.param == "tiered":
        client = request.getfixturevalue("redis_client")
        with postgres_response_store() as store:
            yield TieredQueryCache(
                RedisQueryCache(client, POLICY, prefix=f"test:{uuid.uuid4()}"),
                PostgresQueryCache(store.engine, POLICY),
            )
    else:  # pragma: no cover - a param without a builder is a mistake in this file
        raise ValueError(f"no query cache builder for {request.param!r}")


@pytest.fixture
def make() -> Make:
    return Make(FakeClock(datetime.now(UTC).replace(microsecond=0)))


def test_an_unknown_key_misses(cache: QueryCache, make: Make) -> None:
    assert cache.get("q:unknown", make.now) is None


def test_a_stored_entry_comes_back_with_its_hit_counted(cache: QueryCache, make: Make) -> None:
    entry = make.cached("q:kettle", has_aggregations=True)
    cache.put(entry)
    hit = cache.get("q:kettle", make.later(1))
    assert hit is not None
    expected = state(entry) | {"hit_count": 1, "last_hit_at": make.later(1)}
    assert {k: v for k, v in state(hit).items() if k != "expires_at"} == {
        k: v for k, v in expected.items() if k != "expires_at"
    }
    assert hit.expires_at >= entry.expires_at


def test_hits_are_counted_in_the_cache_not_in_the_copy_returned(
    cache: QueryCache, make: Make
) -> None:
    cache.put(make.cached("q:kettle"))
    counts = []
    for second in range(1, 4):
        hit = cache.get("q:kettle", make.later(second))
        assert hit is not None
        counts.append(hit.hit_count)
        hit.hit_count = 1000  # a caller's copy; the cache keeps its own count
    assert counts == [1, 2, 3]


def test_an_entry_expires_at_its_expiry_time(cache: QueryCache, make: Make) -> None:
    expiring = make.cached("q:gone")
    cache.put(expiring)
    assert cache.get("q:gone", expiring.expires_at) is None

    alive = make.cached("q:alive")
    cache.put(alive)
    assert cache.get("q:alive", alive.expires_at - TICK) is not None


def test_the_expiry_a_hit_reports_is_the_one_kept(cache: QueryCache, make: Make) -> None:
    cache.put(make.cached("q:kettle"))
    hit = cache.get("q:kettle", make.later(60))
    assert hit is not None
    latest = cache.get("q:kettle", hit.expires_at - TICK)
    assert latest is not None
    assert cache.get("q:kettle", latest.expires_at) is None


def test_a_hot_entry_lives_for_the_hot_ttl(cache: QueryCache, make: Make) -> None:
    cache.put(make.cached("q:hot", ttl=POLICY.normal_ttl))
    last = make.now
    for second in range(1, POLICY.hot_threshold + 1):
        last = make.later(second)
        assert cache.get("q:hot", last) is not None
    assert cache.get("q:hot", last + POLICY.hot_ttl - TICK) is not None


def test_hits_never_keep_an_entry_alive_past_its_expiry(cache: QueryCache, make: Make) -> None:
    popular = make.cached("q:popular")
    cache.put(popular)
    for minute in range(1, 5):
        assert cache.get("q:popular", make.later(60 * minute)) is not None
    assert cache.get("q:popular", popular.expires_at) is None

    cache.put(make.cached("q:hot"))
    hot = None
    for second in range(1, POLICY.hot_threshold + 1):
        hot = cache.get("q:hot", make.later(second))
    assert hot is not None
    hot_until = hot.expires_at
    assert hot_until == make.later(POLICY.hot_threshold) + POLICY.hot_ttl
    assert cache.get("q:hot", hot_until - TICK) is not None  # a later hit extends nothing
    assert cache.get("q:hot", hot_until) is None


def test_put_replaces_an_entry_with_the_same_key(cache: QueryCache, make: Make) -> None:
    cache.put(make.cached("q:kettle"))
    cache.get("q:kettle", make.later(1))
    newer = make.cached("q:kettle", index="orders")
    newer.result_count = 7
    cache.put(newer)
    hit = cache.get("q:kettle", make.later(2))
    assert hit is not None
    assert (hit.index, hit.result_count, hit.hit_count) == ("orders", 7, 1)


def test_invalidate_removes_one_entry(cache: QueryCache, make: Make) -> None:
    cache.put(make.cached("q:kettle"))
    cache.put(make.cached("q:toaster"))
    assert cache.invalidate("q:kettle") is True
    assert cache.invalidate("q:kettle") is False
    assert cache.invalidate("q:unknown") is False
    assert cache.get("q:kettle", make.now) is None
    assert cache.get("q:toaster", make.now) is not None


def test_invalidate_index_removes_that_index_and_counts(cache: QueryCache, make: Make) -> None:
    for key, index in [("q:1", "products"), ("q:2", "orders"), ("q:3", "products")]:
        cache.put(make.cached(key, index=index))
    assert cache.invalidate_index("products") == 2
    assert cache.invalidate_index("products") == 0
    assert cache.invalidate_index("unknown") == 0
    assert cache.get("q:1", make.now) is None
    assert cache.get("q:3", make.now) is None
    assert cache.get("q:2", make.now) is not None


def test_clear_removes_everything_and_counts(cache: QueryCache, make: Make) -> None:
    for n in range(3):
        cache.put(make.cached(f"q:{n}", index="products" if n else "orders"))
    assert cache.clear() == 3
    assert cache.clear() == 0
    assert all(cache.get(f"q:{n}", make.now) is None for n in range(3))
