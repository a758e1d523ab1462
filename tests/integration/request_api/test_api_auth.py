"""Signing in and out, the token lifecycle, and API keys -- on real PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from api_harness import API, PASSWORD, Api, error_of

from airgap.domain.model.users import Role


def test_login_with_json_returns_a_bearer_pair_and_records_the_login(api: Api) -> None:
    alice = api.make_user("alice")
    before = api.clock.now()

    answer = api.client.post(
        f"{API}/auth/login", json={"username": alice.username, "password": PASSWORD}
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"] and body["refresh_token"]
    last_login = api.user(alice.id).last_login
    assert last_login is not None and last_login >= before - timedelta(seconds=1)


def test_login_with_an_oauth2_password_form(api: Api) -> None:
    bob = api.make_user("bob")

    answer = api.client.post(
        f"{API}/auth/login",
        data={"grant_type": "password", "username": bob.username, "password": PASSWORD},
    )

    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    me = api.client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == bob.username


@pytest.mark.parametrize(("known", "password"), [(True, "wrong password!!"), (False, PASSWORD)])
def test_wrong_credentials_are_refused_alike(api: Api, known: bool, password: str) -> None:
    carol = api.make_user("carol")
    username = carol.username if known else f"nobody-{uuid.uuid4().hex}"

    answer = api.client.post(f"{API}/auth/login", json={"username": username, "password": password})

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    error = error_of(answer)
    assert error["code"] == "unauthenticated"
    assert error["message"] == "invalid username or password"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"username": "dave"}, ""),
        ({"username": "", "password": PASSWORD}, "username"),
        ({"username": "dave", "password": PASSWORD, "remember": True}, ""),
        ([], ""),
    ],
)
def test_malformed_login_bodies_are_validation_errors(api: Api, body: object, path: str) -> None:
    answer = api.client.post(f"{API}/auth/login", json=body)

    assert answer.status_code == 422, answer.text
    error = error_of(answer)
    assert error["code"] == "validation_error"
    assert error["details"]["path"] == path


def test_login_refuses_other_body_types_and_grants(api: Api) -> None:
    text = api.client.post(
        f"{API}/auth/login", content=b"alice:pw", headers={"Content-Type": "text/plain"}
    )
    grant = api.client.post(
        f"{API}/auth/login",
        data={"grant_type": "client_credentials", "username": "x", "password": "y"},
    )
    broken = api.client.post(
        f"{API}/auth/login", content=b"{oops", headers={"Content-Type": "application/json"}
    )

    assert text.status_code == 415 and error_of(text)["code"] == "unsupported_media_type"
    assert grant.status_code == 422 and error_of(grant)["code"] == "validation_error"
    assert broken.status_code == 400 and error_of(broken)["code"] == "bad_request"


def test_a_locally_deactivated_user_cannot_sign_in(api: Api) -> None:
    erin = api.make_user("erin", locally_deactivated=True)

    answer = api.client.post(
        f"{API}/auth/login", json={"username": erin.username, "password": PASSWORD}
    )

    assert answer.status_code == 401


def test_an_expired_access_token_is_refused(api: Api) -> None:
    frank = api.make_user("frank")
    headers = api.headers(frank)
    assert api.client.get(f"{API}/users/me", headers=headers).status_code == 200

    api.clock.advance(3600 + 1)
    answer = api.client.get(f"{API}/users/me", headers=headers)

    assert answer.status_code == 401
    assert error_of(answer)["message"] == "token expired"


def test_refresh_rotates_and_each_refresh_token_works_once(api: Api) -> None:
    gina = api.make_user("gina")
    first = api.tokens(gina)

    rotated = api.client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    replayed = api.client.post(
        f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )

    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert replayed.status_code == 401 and error_of(replayed)["message"] == "token revoked"
    headers = {"Authorization": f"Bearer {second['access_token']}"}
    assert api.client.get(f"{API}/users/me", headers=headers).status_code == 200
    again = api.client.post(f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert again.status_code == 200


def test_an_access_token_is_not_a_refresh_token(api: Api) -> None:
    tokens = api.tokens(api.make_user())

    answer = api.client.post(f"{API}/auth/refresh", json={"refresh_token": tokens["access_token"]})

    assert answer.status_code == 401
    assert error_of(answer)["message"] == "a refresh token is required"


def test_refresh_needs_a_body(api: Api) -> None:
    answer = api.client.post(f"{API}/auth/refresh", json={})

    assert answer.status_code == 422
    assert error_of(answer)["details"]["path"] == ""


def test_logout_revokes_the_refresh_token_and_the_access_token_sent(api: Api) -> None:
    hank = api.make_user("hank")
    tokens = api.tokens(hank)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}

    out = api.client.post(
        f"{API}/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )

    assert out.status_code == 204
    refreshed = api.client.post(
        f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401
    assert api.client.get(f"{API}/users/me", headers=headers).status_code == 401


def test_a_deactivated_user_is_refused_at_once_with_an_old_token(api: Api) -> None:
    admin = api.headers(api.make_user(role=Role.ADMIN))
    ivy = api.make_user("ivy")
    headers = api.headers(ivy)
    key = api.client.post(f"{API}/api-keys", json={"name": "script"}, headers=headers).json()
    assert api.client.get(f"{API}/users/me", headers=headers).status_code == 200

    stop = api.client.post(f"{API}/admin/users/{ivy.id}/deactivate", headers=admin)

    assert stop.status_code == 200 and stop.json()["locally_deactivated"] is True
    assert api.client.get(f"{API}/users/me", headers=headers).status_code == 401
    by_key = api.client.get(f"{API}/users/me", headers={"X-API-Key": key["key"]})
    assert by_key.status_code == 401
    refresh = api.tokens  # a new sign-in is refused too
    with pytest.raises(AssertionError):
        refresh(ivy)
    api.client.post(f"{API}/admin/users/{ivy.id}/activate", headers=admin)
    assert api.client.get(f"{API}/users/me", headers=headers).status_code == 200


def test_a_user_deactivated_by_the_response_network_is_refused(api: Api) -> None:
    jack = api.make_user("jack")
    headers = api.headers(jack)
    with api.container.store().unit_of_work() as uow:
        user = uow.users.get(jack.id)
        assert user is not None
        user.is_active = False  # as a users snapshot would set it
        uow.users.save(user)
        uow.commit()

    assert api.client.get(f"{API}/users/me", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not-a-jwt", "Basic YWxpY2U6cHc=", "Token abc", "bearer  "],
)
def test_malformed_credentials_are_refused(api: Api, authorization: str) -> None:
    answer = api.client.get(f"{API}/users/me", headers={"Authorization": authorization})

    assert answer.status_code == 401
    assert error_of(answer)["code"] == "unauthenticated"


def test_no_credentials_is_401(api: Api) -> None:
    answer = api.client.get(f"{API}/requests")

    assert answer.status_code == 401
    assert "Bearer" in error_of(answer)["message"]


def test_a_token_from_another_secret_is_refused(api: Api) -> None:
    import jwt

    forged = jwt.encode(
        {
            "sub": str(uuid.uuid4()),
            "role": "admin",
            "kind": "access",
            "jti": "x",
            "iat": 0,
            "exp": 9999999999,
            "iss": "airgap-request-network",
        },
        "another secret that is long enough to sign with",
        algorithm="HS256",
    )

    answer = api.client.get(f"{API}/admin/stats", headers={"Authorization": f"Bearer {forged}"})

    assert answer.status_code == 401


# --- API keys ---------------------------------------------------------------------------


def test_api_keys_are_shown_once_listed_by_prefix_used_and_revoked(api: Api) -> None:
    kim = api.make_user("kim")
    headers = api.headers(kim)

    created = api.client.post(
        f"{API}/api-keys",
        json={"name": "nightly", "scopes": ["requests:read", "requests:write"]},
        headers=headers,
    )

    assert created.status_code == 201, created.text
    body = created.json()
    secret, key = body["key"], body["api_key"]
    assert secret.startswith("ak_live_") and secret.startswith(key["prefix"])
    assert key["scopes"] == ["requests:read", "requests:write"]
    listed = api.client.get(f"{API}/api-keys", headers=headers).json()
    assert listed["total"] == 1 and "key" not in listed["items"][0]
    assert api.submit({"X-API-Key": secret}).status_code == 202
    used = api.client.get(f"{API}/api-keys", headers=headers).json()["items"][0]
    assert used["last_used_at"] is not None

    revoked = api.client.delete(f"{API}/api-keys/{key['id']}", headers=headers)

    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    assert api.submit({"X-API-Key": secret}).status_code == 401


def test_an_api_key_is_limited_to_its_scopes(api: Api) -> None:
    headers = api.headers(api.make_user())
    secret = api.client.post(
        f"{API}/api-keys", json={"name": "reader", "scopes": ["requests:read"]}, headers=headers
    ).json()["key"]
    key = {"X-API-Key": secret}

    assert api.client.get(f"{API}/requests", headers=key).status_code == 200
    refused = api.submit(key)
    assert refused.status_code == 403
    assert "requests:write" in error_of(refused)["message"]
    assert api.client.get(f"{API}/api-keys", headers=key).status_code == 403
    assert api.client.post(f"{API}/api-keys", json={"name": "x"}, headers=key).status_code == 403


def test_an_expired_api_key_is_refused(api: Api) -> None:
    headers = api.headers(api.make_user())
    expires = (api.clock.now() + timedelta(minutes=5)).isoformat()
    secret = api.client.post(
        f"{API}/api-keys", json={"name": "brief", "expires_at": expires}, headers=headers
    ).json()["key"]
    assert api.client.get(f"{API}/users/me", headers={"X-API-Key": secret}).status_code == 200

    api.clock.advance(301)

    assert api.client.get(f"{API}/users/me", headers={"X-API-Key": secret}).status_code == 401


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, ""),
        ({"name": ""}, "name"),
        ({"name": "x", "scopes": ["everything"]}, "scopes[0]"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "expires_at": "2020-01-01T00:00:00"}, "expires_at"),
    ],
)
def test_invalid_api_key_requests_are_validation_errors(
    api: Api, body: dict[str, object], path: str
) -> None:
    headers = api.headers(api.make_user())

    answer = api.client.post(f"{API}/api-keys", json=body, headers=headers)

    assert answer.status_code == 422, answer.text
    assert error_of(answer)["details"]["path"] == path


def test_an_api_key_cannot_expire_in_the_past(api: Api) -> None:
    headers = api.headers(api.make_user())
    past = (api.clock.now() - timedelta(days=1)).isoformat()

    answer = api.client.post(
        f"{API}/api-keys", json={"name": "late", "expires_at": past}, headers=headers
    )

    assert answer.status_code == 422
    assert error_of(answer)["message"] == "expires_at must be in the future"


def test_another_users_api_key_is_not_found(api: Api) -> None:
    owner = api.headers(api.make_user())
    other = api.headers(api.make_user())
    key_id = api.client.post(f"{API}/api-keys", json={"name": "mine"}, headers=owner).json()[
        "api_key"
    ]["id"]

    answer = api.client.delete(f"{API}/api-keys/{key_id}", headers=other)

    assert answer.status_code == 404 and error_of(answer)["code"] == "not_found"
    assert api.client.get(f"{API}/api-keys", headers=owner).json()["items"][0]["is_active"]


def test_api_key_routes_need_credentials(api: Api) -> None:
    assert api.client.get(f"{API}/api-keys").status_code == 401
    assert api.client.post(f"{API}/api-keys", json={"name": "x"}).status_code == 401
    assert api.client.delete(f"{API}/api-keys/{uuid.uuid4()}").status_code == 401


def test_logout_validates_its_body_and_refuses_unknown_tokens(api: Api) -> None:
    missing = api.client.post(f"{API}/auth/logout", json={})
    forged = api.client.post(f"{API}/auth/logout", json={"refresh_token": "not-a-token"})

    assert missing.status_code == 422 and error_of(missing)["code"] == "validation_error"
    assert forged.status_code == 401 and error_of(forged)["code"] == "unauthenticated"


def test_a_read_only_key_cannot_manage_keys_or_passwords(api: Api) -> None:
    headers = api.headers(api.make_user())
    owner_key = api.client.post(f"{API}/api-keys", json={"name": "k"}, headers=headers).json()
    reader = api.client.post(
        f"{API}/api-keys", json={"name": "r", "scopes": ["requests:read"]}, headers=headers
    ).json()["key"]
    key = {"X-API-Key": reader}

    revoke = api.client.delete(f"{API}/api-keys/{owner_key['api_key']['id']}", headers=key)
    change = api.client.post(
        f"{API}/users/me/change-password",
        json={"current_password": PASSWORD, "new_password": "another long passphrase 9"},
        headers=key,
    )

    assert revoke.status_code == 403 and change.status_code == 403


def test_listing_api_keys_validates_the_page(api: Api) -> None:
    headers = api.headers(api.make_user())

    answer = api.client.get(f"{API}/api-keys?limit=0", headers=headers)

    assert answer.status_code == 422 and error_of(answer)["details"]["path"] == "limit"
