"""The response network's container builds the real query cache (Redis first, then the
table) and the configured export guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from airgap.adapters.memory.tasks import MemoryTaskQueue
from airgap.adapters.postgres.query_cache import PostgresQueryCache
from airgap.adapters.redis.query_cache import RedisQueryCache
from airgap.domain.model.batching import Network
from airgap.domain.model.caching import CachedResult
from airgap.domain.model.export_guard import IndexGuard
from airgap.domain.services.query_cache import TieredQueryCache
from airgap.entrypoints.bootstrap.containers import ResponseNetwork
from airgap.entrypoints.bootstrap.settings import Settings, SettingsError


def settings(tmp_path: Path, database: str, redis_url: str, guard: Path) -> Settings:
    return Settings(
        network=Network.RESPONSE,
        data_dir=tmp_path,
        database_url=database,
        redis_url=redis_url,
        export_guard=guard,
    )


def test_the_container_wires_the_tiered_cache_and_the_export_guard(
    tmp_path: Path,
    response_database_url: str,
    redis_server_url: str,
) -> None:
    guard = tmp_path / "guard.json"
    guard.write_text('{"indices": {"products": {"drop_fields": ["internal_notes"]}}}')
    container = ResponseNetwork(
        settings=settings(tmp_path, response_database_url, redis_server_url, guard),
        tasks=MemoryTaskQueue(),
    )
    try:
        side = container.side()
        cache = side.cache
        assert isinstance(cache, TieredQueryCache)
        assert isinstance(cache.first, RedisQueryCache)
        assert isinstance(cache.second, PostgresQueryCache)
        assert container.cache_table() is cache.second
        assert side.export_guard.for_index("products") == IndexGuard(
            drop_fields=("internal_notes",)
        )
        now = datetime.now(UTC)
        cache.put(
            CachedResult("q:wired", "products", {"hits": {}}, 0, 1, now, now + timedelta(minutes=5))
        )
        hit = cache.get("q:wired", now)
        assert hit is not None and hit.hit_count == 1
        assert cache.clear() == 1
    finally:
        container.shutdown_resources()


def test_a_bad_guard_file_stops_the_container_with_one_line(
    tmp_path: Path,
    response_database_url: str,
    redis_server_url: str,
) -> None:
    guard = tmp_path / "guard.json"
    guard.write_text('{"indices": {"products": {"max_hits": -5}}}')
    container = ResponseNetwork(
        settings=settings(tmp_path, response_database_url, redis_server_url, guard),
        tasks=MemoryTaskQueue(),
    )
    try:
        with pytest.raises(SettingsError, match=r"indices\.products\.max_hits: must be at least 0"):
            container.side()
    finally:
        container.shutdown_resources()
