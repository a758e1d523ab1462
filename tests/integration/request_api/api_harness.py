"""The request network's API on real PostgreSQL and Redis, for tests: a container whose
settings name the test database and Redis, a clock the test can move, cheap argon2, users
made directly in the database, and a live uvicorn server when a test needs real sockets."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import argon2
import attrs
import httpx
import uvicorn
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from airgap.adapters.memory.tasks import MemoryTaskQueue
from airgap.adapters.security.passwords import Argon2PasswordHasher
from airgap.domain.model.batching import Network
from airgap.domain.model.users import ProfileType, Role, User
from airgap.entrypoints.bootstrap.containers import RequestNetwork
from airgap.entrypoints.bootstrap.settings import Settings

PASSWORD = "correct horse battery staple"
API = "/api/v1"
MATCH = {"index": "products", "query": {"match": {"name": "kettle"}}, "size": 5}


class ShiftableClock:
    """Real time plus an offset a test can grow (tokens expire, windows slide)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)


def cheap_hasher() -> Argon2PasswordHasher:
    """Real argon2id, with parameters cheap enough for a test suite."""
    return Argon2PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


def build_container(
    database_url: str, redis_url: str, data_dir: Path, clock: ShiftableClock
) -> tuple[RequestNetwork, MemoryTaskQueue]:
    settings = Settings(
        network=Network.REQUEST,
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-" + "x" * 40,
        cors_origins=("https://panel.example",),
        log_level="info",
    )
    tasks = MemoryTaskQueue()
    container = RequestNetwork(settings=settings, tasks=tasks)
    container.transfer.clock.override(providers.Object(clock))
    container.hasher.override(providers.Object(cheap_hasher()))
    return container, tasks


@attrs.frozen
class Account:
    id: uuid.UUID
    username: str
    password: str = PASSWORD


@attrs.define
class Api:
    """The app, a test client on it, and what a test needs to make accounts and sign in."""

    app: Litestar
    client: TestClient[Litestar]
    container: RequestNetwork
    tasks: MemoryTaskQueue
    clock: ShiftableClock

    def make_user(
        self,
        username: str | None = None,
        *,
        role: Role = Role.USER,
        profile: ProfileType = ProfileType.BASIC,
        password: str = PASSWORD,
        **changes: Any,
    ) -> Account:
        # Unique, so tests sharing a database never collide; use ``Account.username``.
        name = f"{username or 'user'}-{uuid.uuid4().hex[:8]}"
        user = User.create(
            id=uuid.uuid4(),
            username=name,
            email=f"{name}@example.org",
            hashed_password=self.container.hasher().hash(password),
            profile_type=profile,
            role=role,
            now=self.clock.now(),
        )
        for key, value in changes.items():
            setattr(user, key, value)
        with self.container.store().unit_of_work() as uow:
            uow.users.add(user)
            uow.commit()
        return Account(user.id, name, password)

    def user(self, user_id: uuid.UUID) -> User:
        with self.container.store().unit_of_work() as uow:
            found = uow.users.get(user_id)
        assert found is not None
        return found

    def tokens(self, account: Account) -> dict[str, Any]:
        answer = self.client.post(
            f"{API}/auth/login", json={"username": account.username, "password": account.password}
        )
        assert answer.status_code == 200, answer.text
        tokens: dict[str, Any] = answer.json()
        return tokens

    def headers(self, account: Account) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens(account)['access_token']}"}

    def submit(self, headers: dict[str, str], **body: Any) -> httpx.Response:
        payload = {"query_type": "match", "query_params": MATCH, **body}
        return self.client.post(f"{API}/requests", json=payload, headers=headers)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(app: Litestar) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1, in a thread; yields its URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def answer(
    api: Api,
    request_id: uuid.UUID | str,
    *,
    status: str = "completed",
    hits: int = 2,
    error: str | None = None,
) -> None:
    """Make ``request_id`` exported and answered, as an imported result batch would."""
    from airgap.domain.model.requests import Response

    rid = uuid.UUID(str(request_id))
    now = api.clock.now()
    result = {
        "hits": {
            "total": {"value": hits, "relation": "eq"},
            "hits": [
                {"_id": str(n), "_score": 1.0, "_source": {"name": f"kettle {n}"}}
                for n in range(hits)
            ],
        },
        "took": 3,
    }
    with api.container.store().unit_of_work() as uow:
        request = uow.requests.get(rid)
        assert request is not None
        if request.status.value == "pending":
            request.mark_exported(uuid.uuid4(), now)
        if status == "completed":
            request.complete(now)
        else:
            request.fail(error or "failed", now)
        uow.requests.save(request)
        uow.responses.add(
            Response(
                request_id=rid,
                status=status,
                result_data=result if status == "completed" else None,
                result_count=hits if status == "completed" else None,
                execution_time_ms=7,
                received_at=now,
                error=error,
            )
        )
        uow.commit()


def mark_exported(api: Api, request_id: uuid.UUID | str) -> None:
    with api.container.store().unit_of_work() as uow:
        request = uow.requests.get(uuid.UUID(str(request_id)))
        assert request is not None
        request.mark_exported(uuid.uuid4(), api.clock.now())
        uow.requests.save(request)
        uow.commit()


def error_of(answer: httpx.Response) -> dict[str, Any]:
    """The error body, after checking its shape."""
    body = answer.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert {"code", "message", "request_id"} <= set(error), error
    assert set(error) <= {"code", "message", "request_id", "details"}, error
    assert error["request_id"] == answer.headers["X-Request-ID"]
    assert "Traceback" not in answer.text
    return error
