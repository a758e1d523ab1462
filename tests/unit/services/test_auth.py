"""Signing in with passwords, tokens and API keys."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from airgap.adapters.memory.security import MemoryTokenIssuer
from airgap.domain.model.errors import AuthenticationFailed, NotFound, ValidationFailed
from airgap.domain.model.passwords import PasswordPolicy
from airgap.domain.services.auth import API_KEY_PREFIX, Authenticator
from airgap.entrypoints.bootstrap.memory import MemorySystem

PASSWORD = "correct horse battery"


@pytest.fixture
def auth(system: MemorySystem) -> Authenticator:
    return Authenticator(
        uow=system.request_store.unit_of_work,
        clock=system.clock,
        ids=system.request.ids,
        hasher=system.hasher,
        tokens=MemoryTokenIssuer(),
    )


def deactivate_locally(system: MemorySystem, user_id: uuid.UUID) -> None:
    with system.request_store.unit_of_work() as uow:
        user = uow.users.get(user_id)
        assert user is not None
        user.locally_deactivated = True
        uow.users.save(user)
        uow.commit()


def test_login_issues_a_token_pair_and_records_the_login(
    system: MemorySystem, user: uuid.UUID, auth: Authenticator
) -> None:
    pair = auth.login("alice", PASSWORD)

    assert auth.from_access_token(pair.access_token).user.id == user
    assert pair.token_type == "bearer" and pair.expires_in == 3600
    with system.request_store.unit_of_work() as uow:
        stored = uow.users.get(user)
    assert stored is not None and stored.last_login == system.clock.now()


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong password!"), ("nobody", PASSWORD)]
)
def test_wrong_credentials_are_refused_alike(
    user: uuid.UUID, auth: Authenticator, username: str, password: str
) -> None:
    with pytest.raises(AuthenticationFailed, match="invalid username or password"):
        auth.login(username, password)


def test_refresh_rotates_and_the_old_refresh_token_is_dead(
    user: uuid.UUID, auth: Authenticator
) -> None:
    first = auth.login("alice", PASSWORD)
    second = auth.refresh(first.refresh_token)

    assert auth.from_access_token(second.access_token).user.id == user
    with pytest.raises(AuthenticationFailed):
        auth.refresh(first.refresh_token)
    with pytest.raises(AuthenticationFailed):
        auth.refresh(second.access_token)  # an access token cannot refresh


def test_logout_revokes_the_refresh_token(user: uuid.UUID, auth: Authenticator) -> None:
    pair = auth.login("alice", PASSWORD)
    auth.logout(pair.refresh_token)
    with pytest.raises(AuthenticationFailed):
        auth.refresh(pair.refresh_token)


def test_an_expired_access_token_is_refused(
    system: MemorySystem, user: uuid.UUID, auth: Authenticator
) -> None:
    pair = auth.login("alice", PASSWORD)
    system.clock.advance(timedelta(hours=1))
    with pytest.raises(AuthenticationFailed, match="expired"):
        auth.from_access_token(pair.access_token)


def test_a_stopped_account_is_refused_at_once_even_with_an_old_token(
    system: MemorySystem, user: uuid.UUID, auth: Authenticator
) -> None:
    pair = auth.login("alice", PASSWORD)
    key = auth.create_api_key(user, "script")
    deactivate_locally(system, user)

    with pytest.raises(AuthenticationFailed):
        auth.from_access_token(pair.access_token)
    with pytest.raises(AuthenticationFailed):
        auth.from_api_key(key.secret)
    with pytest.raises(AuthenticationFailed):
        auth.login("alice", PASSWORD)


def test_api_keys_are_shown_once_stored_hashed_and_can_be_revoked(
    system: MemorySystem, user: uuid.UUID, auth: Authenticator
) -> None:
    created = auth.create_api_key(user, "ci", frozenset({"requests:read"}))

    assert created.secret.startswith(API_KEY_PREFIX)
    assert created.key.prefix == created.secret[: len(created.key.prefix)]
    assert created.secret not in created.key.key_hash
    principal = auth.from_api_key(created.secret)
    assert principal.user.id == user
    assert principal.allows("requests:read") and not principal.allows("requests:write")
    (listed,) = auth.api_keys_of(user)
    assert listed.last_used_at == system.clock.now()

    auth.revoke_api_key(user, created.key.id)
    with pytest.raises(AuthenticationFailed):
        auth.from_api_key(created.secret)


def test_expired_and_foreign_api_keys(
    system: MemorySystem, user: uuid.UUID, auth: Authenticator
) -> None:
    created = auth.create_api_key(user, "short", expires_at=system.clock.now() + timedelta(days=1))
    system.clock.advance(timedelta(days=1))
    with pytest.raises(AuthenticationFailed):
        auth.from_api_key(created.secret)
    with pytest.raises(NotFound):
        auth.revoke_api_key(uuid.uuid4(), created.key.id)
    with pytest.raises(AuthenticationFailed):
        auth.from_api_key("ak_live_" + "x" * 43)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", "different characters"),
        ("Password123!", "too common"),
        ("alice-is-great-1", "username"),
    ],
)
def test_weak_passwords_are_refused_with_the_rule_they_break(password: str, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        PasswordPolicy().check(password, username="alice")


def test_a_strong_password_passes() -> None:
    PasswordPolicy().check("tumble-weed-orbit-7", username="alice")
