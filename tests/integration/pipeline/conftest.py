"""The pipeline on real servers: PostgreSQL (a fresh migrated database per network and
test), Redis (the session's server) and a temporary data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from support.databases import fresh_database
from support.workers import Networks, Running, make_networks, running_on_stub_brokers


@pytest.fixture
def networks(
    tmp_path: Path, redis_server_url: str, redis_client: redis.Redis
) -> Iterator[Networks]:
    with fresh_database("request") as request_url, fresh_database("response") as response_url:
        made = make_networks(tmp_path / "data", request_url, response_url, redis_server_url)
        try:
            yield made
        finally:  # the queues of this test's own namespaces, on a Redis others may share
            for key in redis_client.scan_iter(match=f"airgap-test-{made.tag}-*", count=1000):
                redis_client.delete(key)


@pytest.fixture
def running(networks: Networks) -> Iterator[Running]:
    """Both pipelines on StubBrokers with a worker each; the response network's actor
    ``queries.execute`` runs the queries itself (no executor threads)."""
    with running_on_stub_brokers(networks) as both:
        yield both
