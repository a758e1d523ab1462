"""The response network's API on real servers: a fresh PostgreSQL database per test (the
migrated response schema), the shared test Redis (heartbeats under a per-test prefix), the
embedded search engine with a small sample index, and the filesystem inbox/outbox under a
temporary directory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import argon2
import attrs
import pytest
import redis
from dependency_injector import providers
from litestar.testing import TestClient

from airgap.adapters.memory.cache import MemoryQueryCache
from airgap.adapters.memory.tasks import MemoryTaskQueue
from airgap.adapters.redis.heartbeats import RedisWorkerHeartbeats
from airgap.adapters.security.passwords import Argon2PasswordHasher
from airgap.adapters.tantivy.backend import TantivySearchBackend
from airgap.adapters.tantivy.index import write_index
from airgap.adapters.tantivy.sample import generate_products, products_mapping
from airgap.domain.model.batching import Network
from airgap.domain.model.users import ProfileType, Role, User
from airgap.domain.services.admin_audit import Actor
from airgap.domain.services.user_admin import NewAccount
from airgap.entrypoints.bootstrap.containers import ResponseNetwork
from airgap.entrypoints.bootstrap.settings import Settings
from airgap.entrypoints.http.response_network import create_app
from support.databases import (  # noqa: F401 - fixtures, registered by being imported
    empty_database_url,
    request_database_url,
    response_database_url,
)

PASSWORD = "correct horse battery staple"
SECRET = "response-network-test-secret-0123456789abcdef"
SAMPLE_DOCUMENTS = 200


@pytest.fixture(scope="session")
def search_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ``products`` index, built once."""
    directory = tmp_path_factory.mktemp("search")
    write_index(directory, "products", products_mapping(), generate_products(SAMPLE_DOCUMENTS))
    return directory


def cheap_argon2() -> Argon2PasswordHasher:
    """Real argon2, with costs low enough for many sign-ins in a test run (a hash carries its
    parameters, so any verifier reads it)."""
    return Argon2PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))


@attrs.define
class ResponseApi:
    """The app, its container, and the people in it."""

    client: TestClient  # type: ignore[type-arg]
    container: ResponseNetwork
    tasks: MemoryTaskQueue
    admin: User
    operator: User
    user: User
    tokens: dict[str, str] = attrs.field(factory=dict)

    def token(self, username: str, password: str = PASSWORD) -> str:
        if username not in self.tokens:
            answer = self.client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            assert answer.status_code == 200, answer.text
            self.tokens[username] = answer.json()["access_token"]
        return self.tokens[username]

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    @property
    def as_admin(self) -> dict[str, str]:
        return self.auth("admin")

    @property
    def as_operator(self) -> dict[str, str]:
        return self.auth("operator")


def response_settings(data_dir: Path, database_url: str, redis_url: str) -> Settings:
    return Settings(
        network=Network.RESPONSE,
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=SECRET,
    )


def build_container(
    settings: Settings, search_data: Path, tasks: MemoryTaskQueue
) -> ResponseNetwork:
    settings.outbox.mkdir(parents=True, exist_ok=True)
    settings.inbox.mkdir(parents=True, exist_ok=True)
    container = ResponseNetwork(settings=settings, tasks=tasks, cache=MemoryQueryCache())
    container.hasher.override(providers.Singleton(cheap_argon2))
    container.search.override(providers.Object(TantivySearchBackend.open(search_data)))
    container.heartbeats.override(
        providers.Singleton(
            RedisWorkerHeartbeats, container.redis, prefix=f"test:workers:{uuid.uuid4().hex}"
        )
    )
    return container


@pytest.fixture
def api(
    tmp_path: Path,
    response_database_url: str,  # noqa: F811
    redis_server_url: str,
    search_data: Path,
) -> Iterator[ResponseApi]:
    settings = response_settings(tmp_path, response_database_url, redis_server_url)
    tasks = MemoryTaskQueue()
    container = build_container(settings, search_data, tasks)
    admin_use_cases = container.user_admin()
    root = Actor.command_line("test")

    def make(username: str, role: Role, profile: ProfileType = ProfileType.BASIC) -> User:
        return admin_use_cases.create(
            NewAccount(username, f"{username}@example.org", PASSWORD, profile, role), root
        )

    people = (
        make("admin", Role.ADMIN, ProfileType.ADMIN),
        make("operator", Role.OPERATOR),
        make("alice", Role.USER),
    )
    tasks.drain()
    try:
        with TestClient(app=create_app(container)) as client:
            yield ResponseApi(client, container, tasks, *people)
    finally:
        container.shutdown_resources()


@pytest.fixture
def plain_redis(redis_server_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server_url)
    try:
        yield client
    finally:
        client.close()
