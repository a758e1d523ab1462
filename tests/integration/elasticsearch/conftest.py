"""Fixtures for the Elasticsearch adapter tests: a fake node on 127.0.0.1 and a backend
pointed at it, with back-off sleeps recorded instead of slept."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from airgap.adapters.elasticsearch import ElasticsearchSearchBackend, ElasticsearchSettings
from integration.elasticsearch.fake_cluster import FakeCluster


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    fake = FakeCluster()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


BackendFactory = Callable[..., ElasticsearchSearchBackend]


@pytest.fixture
def make_backend(sleeps: list[float]) -> Iterator[BackendFactory]:
    made: list[ElasticsearchSearchBackend] = []

    def make(url: str, **settings: object) -> ElasticsearchSearchBackend:
        backend = ElasticsearchSearchBackend(
            ElasticsearchSettings(url=url, **settings),  # type: ignore[arg-type]
            ["products", "logs-*"],
            sleep=sleeps.append,
            jitter=lambda: 1.0,
        )
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def backend(cluster: FakeCluster, make_backend: BackendFactory) -> ElasticsearchSearchBackend:
    return make_backend(cluster.url)


@pytest.fixture
def refused_url() -> str:
    """A local URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
