"""The request network API, built by ``create_app`` on a container whose settings point at
a PostgreSQL database (migrated to head) and the test Redis; nothing is skipped.

``api`` is shared by the tests of a module (one database, one app): each test makes its own
accounts, and every account's requests, rate limits and keys are its own, so tests do not
see each other. ``fresh`` is a database and app of the test's own, for tests that count
everything (statistics, metrics, the audit trail, the batches of the whole network).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from api_harness import Api, ShiftableClock, build_container
from litestar.testing import TestClient

from airgap.entrypoints.http.request_network.app import create_app
from support.databases import fresh_database


@contextmanager
def running_api(redis_url: str, data_dir: Path) -> Iterator[Api]:
    clock = ShiftableClock()
    with fresh_database("request") as url:
        container, tasks = build_container(url, redis_url, data_dir, clock)
        app = create_app(container)
        try:
            with TestClient(app) as client:
                yield Api(app, client, container, tasks, clock)
        finally:
            container.shutdown_resources()


@pytest.fixture(scope="module")
def api(redis_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running_api(redis_server_url, tmp_path_factory.mktemp("api")) as shared:
        yield shared


@pytest.fixture
def fresh(redis_server_url: str, tmp_path: Path) -> Iterator[Api]:
    with running_api(redis_server_url, tmp_path) as own:
        yield own
