"""Users, the source of truth: an account created through this API appears on the request
network after one users batch is carried (filesystem outbox → carrier → inbox) and imported,
can sign in there, and its deactivation here locks it out there after the next crossing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airgap.adapters.filesystem.carrier import FilesystemCarrier
from airgap.adapters.memory.tasks import MemoryTaskQueue
from airgap.domain.model.batching import Network
from airgap.domain.model.errors import AuthenticationFailed
from airgap.domain.services import request_transfer
from airgap.domain.services.user_admin import USERS_EXPORT_TASK
from airgap.domain.services.users import export_users
from airgap.entrypoints.bootstrap.containers import RequestNetwork
from airgap.entrypoints.bootstrap.settings import Settings
from integration.response_api.conftest import PASSWORD, SECRET, ResponseApi


@pytest.fixture
def request_network(
    api: ResponseApi, request_database_url: str, redis_server_url: str
) -> Iterator[RequestNetwork]:
    settings = Settings(
        network=Network.REQUEST,
        data_dir=api.container.settings().data_dir,
        database_url=request_database_url,
        redis_url=redis_server_url,
        secret_key=SECRET[::-1],  # the request network signs its own tokens
    )
    settings.inbox.mkdir(parents=True, exist_ok=True)
    settings.outbox.mkdir(parents=True, exist_ok=True)
    container = RequestNetwork(settings=settings, tasks=MemoryTaskQueue())
    try:
        yield container
    finally:
        container.shutdown_resources()


def cross(api: ResponseApi, request_network: RequestNetwork) -> None:
    """What the worker asked for (``users.export``), the carrier and the importer do."""
    assert (USERS_EXPORT_TASK, {}) in api.tasks.drain()
    manifests = export_users(api.container.side())
    assert manifests, "a change must produce a users batch"
    outbox: Path = api.container.settings().outbox
    inbox: Path = request_network.settings().inbox
    report = FilesystemCarrier(outbox, inbox).carry()
    assert report.batches == len(manifests)
    imported = request_transfer.import_batches(request_network.side())
    assert [b.status.value for b in imported] == ["completed"] * len(manifests)


def test_a_user_created_here_signs_in_there_until_deactivated_here(
    api: ResponseApi, request_network: RequestNetwork
) -> None:
    created = api.client.post(
        "/api/v1/users",
        json={
            "username": "carol",
            "email": "carol@example.org",
            "password": PASSWORD,
            "profile_type": "premium",
        },
        headers=api.as_admin,
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/api/v1/users/{created.json()['id']}"
    authenticator = request_network.authenticator()
    with pytest.raises(AuthenticationFailed):
        authenticator.login("carol", PASSWORD)  # nothing has crossed yet

    cross(api, request_network)
    pair = authenticator.login("carol", PASSWORD)
    principal = authenticator.from_access_token(pair.access_token)
    assert principal.user.username == "carol" and principal.user.priority == 7

    user_id = created.json()["id"]
    answer = api.client.post(f"/api/v1/users/{user_id}/deactivate", headers=api.as_admin)
    assert answer.status_code == 200 and answer.json()["is_active"] is False
    # Until the next crossing the request network still knows the old version...
    assert authenticator.from_access_token(pair.access_token).user.is_active
    cross(api, request_network)
    # ...after it, the account is locked out there: new sign-ins and old tokens alike.
    with pytest.raises(AuthenticationFailed):
        authenticator.login("carol", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        authenticator.from_access_token(pair.access_token)

    logs = api.client.get(
        "/api/v1/logs?component=audit&sort=created_at", headers=api.as_operator
    ).json()["items"]
    actions = [e["details"]["action"] for e in logs]
    assert actions[-2:] == ["user.create", "user.deactivate"]
    assert logs[-1]["details"]["actor"] == "admin"


def test_a_password_reset_here_is_the_password_there(
    api: ResponseApi, request_network: RequestNetwork
) -> None:
    reset = api.client.post(f"/api/v1/users/{api.user.id}/reset-password", headers=api.as_admin)
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    assert temporary and reset.json()["user"]["version"] == 2
    cross(api, request_network)
    authenticator = request_network.authenticator()
    assert authenticator.login("alice", temporary).access_token
    with pytest.raises(AuthenticationFailed):
        authenticator.login("alice", PASSWORD)


def test_a_password_reset_here_ends_the_sessions_there(
    api: ResponseApi, request_network: RequestNetwork
) -> None:
    """The whole wiring: the request network's importer ends, in its Redis deny list, the
    sessions opened with a password the response network has since reset."""
    renamed = api.client.put(
        f"/api/v1/users/{api.user.id}", json={"full_name": "Alice A."}, headers=api.as_admin
    )
    assert renamed.status_code == 200, renamed.text
    cross(api, request_network)
    authenticator = request_network.authenticator()
    before = authenticator.login("alice", PASSWORD)

    reset = api.client.post(f"/api/v1/users/{api.user.id}/reset-password", headers=api.as_admin)
    assert reset.status_code == 200, reset.text
    cross(api, request_network)

    with pytest.raises(AuthenticationFailed):
        authenticator.from_access_token(before.access_token)
    with pytest.raises(AuthenticationFailed):
        authenticator.refresh(before.refresh_token)
    after = authenticator.login("alice", reset.json()["temporary_password"])
    assert authenticator.from_access_token(after.access_token).user.id == api.user.id
