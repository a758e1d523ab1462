"""The caller's own account: ``/users/me`` and changing the password."""

from __future__ import annotations

import pytest
from api_harness import API, PASSWORD, Account, Api, error_of

from airgap.domain.model.users import Role

NEW_PASSWORD = "a much better passphrase 7"


def test_me_shows_the_account_for_every_role(api: Api) -> None:
    for role in Role:
        account = api.make_user(role=role)
        me = api.client.get(f"{API}/users/me", headers=api.headers(account))
        assert me.status_code == 200
        body = me.json()
        assert body["id"] == str(account.id) and body["role"] == role.value
        assert "hashed_password" not in body
        assert body["rate_limits"] == {"per_minute": 10, "per_hour": 100, "per_day": 500}


def test_me_needs_credentials(api: Api) -> None:
    assert api.client.get(f"{API}/users/me").status_code == 401
    assert api.client.put(f"{API}/users/me", json={}).status_code == 401
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert api.client.post(f"{API}/users/me/change-password", json=change).status_code == 401


def test_update_name_and_email_locally(api: Api) -> None:
    account = api.make_user("lena")
    headers = api.headers(account)
    version = api.user(account.id).version

    updated = api.client.put(
        f"{API}/users/me",
        json={"full_name": "  Lena L  ", "email": "lena@new.example"},
        headers=headers,
    )
    cleared = api.client.put(f"{API}/users/me", json={"full_name": ""}, headers=headers)

    assert updated.status_code == 200, updated.text
    assert updated.json()["full_name"] == "Lena L"
    assert updated.json()["email"] == "lena@new.example"
    assert cleared.json()["full_name"] is None and cleared.json()["email"] == "lena@new.example"
    assert api.user(account.id).version == version


@pytest.mark.parametrize(
    ("body", "path"),
    [({"email": "not-an-address"}, ""), ({"email": 5}, "email"), ({"nickname": "x"}, "")],
)
def test_invalid_profile_updates_are_refused(api: Api, body: dict[str, object], path: str) -> None:
    headers = api.headers(api.make_user())

    answer = api.client.put(f"{API}/users/me", json=body, headers=headers)

    assert answer.status_code == 422, answer.text
    error = error_of(answer)
    assert error["code"] == "validation_error"
    assert error.get("details", {}).get("path", "") == path


def test_taking_someone_elses_email_is_a_conflict(api: Api) -> None:
    mia = api.make_user("mia")
    headers = api.headers(api.make_user())

    answer = api.client.put(
        f"{API}/users/me", json={"email": f"{mia.username}@example.org"}, headers=headers
    )

    assert answer.status_code == 409 and error_of(answer)["code"] == "conflict"


def _change(api: Api, account: Account, current: str, new: str) -> int:
    return api.client.post(
        f"{API}/users/me/change-password",
        json={"current_password": current, "new_password": new},
        headers=api.headers(account),
    ).status_code


def test_change_password_needs_the_current_one_and_a_strong_new_one(api: Api) -> None:
    account = api.make_user("nora")

    assert _change(api, account, "wrong current pw", NEW_PASSWORD) == 422
    assert _change(api, account, PASSWORD, "short") == 422
    assert _change(api, account, PASSWORD, "password1234") == 422
    assert _change(api, account, PASSWORD, f"my name is {account.username}!") == 422
    assert _change(api, account, PASSWORD, PASSWORD) == 422
    assert _change(api, account, PASSWORD, NEW_PASSWORD) == 204

    old = api.client.post(
        f"{API}/auth/login", json={"username": account.username, "password": PASSWORD}
    )
    new = api.client.post(
        f"{API}/auth/login", json={"username": account.username, "password": NEW_PASSWORD}
    )
    assert old.status_code == 401 and new.status_code == 200


def test_changing_the_password_ends_every_session(api: Api) -> None:
    """A stolen session does not outlive a password change: access and refresh tokens
    issued before it are refused, the caller's own included; signing in again works."""
    account = api.make_user("olga")
    elsewhere = api.tokens(account)  # another device, or a thief
    here = api.tokens(account)
    bearer = {"Authorization": f"Bearer {here['access_token']}"}
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}

    changed = api.client.post(f"{API}/users/me/change-password", json=change, headers=bearer)
    assert changed.status_code == 204

    for tokens in (elsewhere, here):
        old_access = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = api.client.get(f"{API}/users/me", headers=old_access)
        assert me.status_code == 401 and error_of(me)["code"] == "unauthenticated"
        refreshed = api.client.post(
            f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 401
    login = api.client.post(
        f"{API}/auth/login", json={"username": account.username, "password": NEW_PASSWORD}
    )
    assert login.status_code == 200
    fresh = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert api.client.get(f"{API}/users/me", headers=fresh).status_code == 200
    again = api.client.post(
        f"{API}/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    assert again.status_code == 200


def test_change_password_reports_which_rule_failed(api: Api) -> None:
    headers = api.headers(api.make_user())

    answer = api.client.post(
        f"{API}/users/me/change-password",
        json={"current_password": PASSWORD, "new_password": "aaaaaaaaaaaaaa"},
        headers=headers,
    )

    assert answer.status_code == 422
    assert "different characters" in error_of(answer)["message"]


def test_a_local_password_survives_a_snapshot_of_the_same_version(api: Api) -> None:
    """The response network's next snapshot of an unchanged account leaves the local
    password alone; its next change to the account replaces it (see services/profile.py)."""
    from airgap.domain.model.records import UserRecord
    from airgap.domain.services.request_transfer import apply_user_record

    account = api.make_user("olga")
    user = api.user(account.id)
    sent_hash = user.hashed_password
    assert _change(api, account, PASSWORD, NEW_PASSWORD) == 204

    def snapshot(version: int) -> UserRecord:
        return UserRecord(
            user_id=user.id,
            username=user.username,
            email=user.email,
            hashed_password=sent_hash,
            profile_type=user.profile_type.value,
            rate_limit_per_minute=10,
            rate_limit_per_hour=100,
            rate_limit_per_day=500,
            priority=user.priority,
            role=user.role.value,
            is_active=True,
            version=version,
            snapshot_version=version,
            full_name=None,
        )

    def apply(version: int) -> None:
        with api.container.store().unit_of_work() as uow:
            apply_user_record(uow, snapshot(version), api.clock.now())
            uow.commit()

    apply(user.version)  # the same version again: the local change stays
    assert (
        api.client.post(
            f"{API}/auth/login", json={"username": account.username, "password": NEW_PASSWORD}
        ).status_code
        == 200
    )
    apply(user.version + 1)  # a change on the response network: its password wins
    assert (
        api.client.post(
            f"{API}/auth/login", json={"username": account.username, "password": PASSWORD}
        ).status_code
        == 200
    )


def test_change_password_validates_its_body(api: Api) -> None:
    headers = api.headers(api.make_user())

    answer = api.client.post(
        f"{API}/users/me/change-password", json={"new_password": NEW_PASSWORD}, headers=headers
    )

    assert answer.status_code == 422


def test_an_api_key_without_account_scopes_cannot_touch_the_account(api: Api) -> None:
    headers = api.headers(api.make_user())
    secret = api.client.post(
        f"{API}/api-keys", json={"name": "r", "scopes": ["requests:read"]}, headers=headers
    ).json()["key"]

    answer = api.client.put(f"{API}/users/me", json={}, headers={"X-API-Key": secret})

    assert answer.status_code == 403
    assert api.client.get(f"{API}/users/me", headers={"X-API-Key": secret}).status_code == 403
