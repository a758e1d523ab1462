"""Every endpoint of the response network's API: it answers its role, refuses a caller
without credentials (401), refuses operators where admins act (403), and refuses bad input
(422) — with the shared JSON error shape, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from integration.response_api.conftest import PASSWORD, ResponseApi
from integration.response_api.world import MATCH, World, build_world

READ, ACT, STAFF, PUBLIC = "read", "act", "staff", "public"


@attrs.frozen
class Endpoint:
    method: str
    path: Callable[[World, ResponseApi], str]
    access: str
    body: Callable[[World, ResponseApi], Any] | None = None
    bad: Callable[[World, ResponseApi], tuple[str, Any]] | None = None  # (path, body)
    ok: int = 200

    def __str__(self) -> str:
        return f"{self.method} {self.path.__name__}"


def fixed(path: str) -> Callable[[World, ResponseApi], str]:
    return lambda _w, _a: path


ENDPOINTS = {
    "login": Endpoint(
        "POST",
        fixed("/api/v1/auth/login"),
        PUBLIC,
        body=lambda w, a: {"username": "admin", "password": PASSWORD},
        bad=lambda w, a: ("/api/v1/auth/login", {"username": ""}),
    ),
    "me": Endpoint("GET", fixed("/api/v1/auth/me"), STAFF),
    "api-keys list": Endpoint("GET", fixed("/api/v1/api-keys"), STAFF),
    "api-keys create": Endpoint(
        "POST",
        fixed("/api/v1/api-keys"),
        STAFF,
        body=lambda w, a: {"name": "ci", "scopes": ["read"]},
        bad=lambda w, a: ("/api/v1/api-keys", {"name": "x", "scopes": ["root"]}),
        ok=201,
    ),
    "stats queue": Endpoint("GET", fixed("/api/v1/stats/queue"), READ),
    "stats workers": Endpoint("GET", fixed("/api/v1/stats/workers"), READ),
    "stats search": Endpoint("GET", fixed("/api/v1/stats/search"), READ),
    "stats cache": Endpoint("GET", fixed("/api/v1/stats/cache"), READ),
    "stats transfer": Endpoint("GET", fixed("/api/v1/stats/transfer"), READ),
    "incoming list": Endpoint(
        "GET",
        fixed("/api/v1/incoming-requests?status=failed"),
        READ,
        bad=lambda w, a: ("/api/v1/incoming-requests?status=lost", None),
    ),
    "incoming get": Endpoint(
        "GET",
        lambda w, a: f"/api/v1/incoming-requests/{w.answered.id}",
        READ,
        bad=lambda w, a: ("/api/v1/incoming-requests/not-a-uuid", None),
    ),
    "incoming retry": Endpoint(
        "POST",
        lambda w, a: f"/api/v1/incoming-requests/{w.failed.id}/retry",
        ACT,
        bad=lambda w, a: ("/api/v1/incoming-requests/1/retry", None),
    ),
    "results list": Endpoint(
        "GET",
        fixed("/api/v1/results?cache_hit=false&sort=-execution_time_ms"),
        READ,
        bad=lambda w, a: ("/api/v1/results?sort=password", None),
    ),
    "results get": Endpoint(
        "GET",
        lambda w, a: f"/api/v1/results/{w.result_id}",
        READ,
        bad=lambda w, a: ("/api/v1/results/xyz", None),
    ),
    "cache list": Endpoint(
        "GET",
        fixed("/api/v1/cache?index=products"),
        READ,
        bad=lambda w, a: ("/api/v1/cache?limit=0", None),
    ),
    "cache delete one": Endpoint(
        "DELETE",
        lambda w, a: f"/api/v1/cache/{w.cache_key}",
        ACT,
        ok=204,
        bad=lambda w, a: ("/api/v1/cache/bad%20key", None),
    ),
    "cache delete index": Endpoint(
        "DELETE",
        fixed("/api/v1/cache?index=products"),
        ACT,
        bad=lambda w, a: ("/api/v1/cache?index=", None),
    ),
    "cache warm": Endpoint(
        "POST",
        fixed("/api/v1/cache/warm"),
        ACT,
        body=lambda w, a: {"query_type": "match", "query_params": MATCH},
        bad=lambda w, a: (
            "/api/v1/cache/warm",
            {"query_type": "match", "query_params": {"index": "products", "script": 1}},
        ),
    ),
    "batches list": Endpoint(
        "GET",
        fixed("/api/v1/batches?direction=export"),
        READ,
        bad=lambda w, a: ("/api/v1/batches?direction=sideways", None),
    ),
    "batches get": Endpoint(
        "GET",
        lambda w, a: f"/api/v1/batches/{w.import_batch}",
        READ,
        bad=lambda w, a: ("/api/v1/batches/12", None),
    ),
    "batches re-export": Endpoint(
        "POST",
        lambda w, a: f"/api/v1/batches/{w.responses_batch}/re-export",
        ACT,
        ok=202,
        bad=lambda w, a: ("/api/v1/batches/zz/re-export", None),
    ),
    "dead letters list": Endpoint(
        "GET",
        fixed("/api/v1/dead-letters?retried=false"),
        READ,
        bad=lambda w, a: ("/api/v1/dead-letters?retried=maybe", None),
    ),
    "dead letters retry": Endpoint(
        "POST",
        lambda w, a: f"/api/v1/dead-letters/{w.letter.id}/retry",
        ACT,
        bad=lambda w, a: ("/api/v1/dead-letters/0/retry", None),
    ),
    "dead letters delete": Endpoint(
        "DELETE",
        lambda w, a: f"/api/v1/dead-letters/{w.letter.id}",
        ACT,
        ok=204,
        bad=lambda w, a: ("/api/v1/dead-letters/0", None),
    ),
    "logs": Endpoint(
        "GET",
        fixed("/api/v1/logs?component=audit&level=info"),
        READ,
        bad=lambda w, a: ("/api/v1/logs?level=loud", None),
    ),
    "users list": Endpoint(
        "GET",
        fixed("/api/v1/users?search=al&role=user"),
        READ,
        bad=lambda w, a: ("/api/v1/users?role=system", None),
    ),
    "users create": Endpoint(
        "POST",
        fixed("/api/v1/users"),
        ACT,
        ok=201,
        body=lambda w, a: {
            "username": "bob",
            "email": "bob@example.org",
            "password": PASSWORD,
            "profile_type": "premium",
        },
        bad=lambda w, a: (
            "/api/v1/users",
            {"username": "bob", "email": "bob@example.org", "password": "short"},
        ),
    ),
    "users get": Endpoint(
        "GET",
        lambda w, a: f"/api/v1/users/{a.user.id}",
        READ,
        bad=lambda w, a: ("/api/v1/users/me-not", None),
    ),
    "users update": Endpoint(
        "PUT",
        lambda w, a: f"/api/v1/users/{a.user.id}",
        ACT,
        body=lambda w, a: {"priority": 3, "rate_limits": {"per_minute": 5}},
        bad=lambda w, a: (f"/api/v1/users/{a.user.id}", {"priority": 11}),
    ),
    "users deactivate": Endpoint(
        "POST",
        lambda w, a: f"/api/v1/users/{a.user.id}/deactivate",
        ACT,
        bad=lambda w, a: ("/api/v1/users/x/deactivate", None),
    ),
    "users activate": Endpoint(
        "POST",
        lambda w, a: f"/api/v1/users/{a.user.id}/activate",
        ACT,
        bad=lambda w, a: ("/api/v1/users/x/activate", None),
    ),
    "users reset password": Endpoint(
        "POST",
        lambda w, a: f"/api/v1/users/{a.user.id}/reset-password",
        ACT,
        bad=lambda w, a: (f"/api/v1/users/{a.user.id}/reset-password", {"password": "weak"}),
    ),
    "health": Endpoint("GET", fixed("/health"), PUBLIC),
    "health ready": Endpoint("GET", fixed("/health/ready"), PUBLIC),
    "health detailed": Endpoint("GET", fixed("/health/detailed"), READ),
    "metrics": Endpoint("GET", fixed("/metrics"), PUBLIC),
    "schema": Endpoint("GET", fixed("/schema/openapi.json"), PUBLIC),
}


@pytest.fixture
def world(api: ResponseApi) -> World:
    return build_world(api.container)


def call(api: ResponseApi, method: str, path: str, body: Any = None, headers: Any = None) -> Any:
    return api.client.request(method, path, json=body, headers=headers or {})


def assert_error(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message"] and error["request_id"]
    assert "Traceback" not in answer.text


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_succeeds_for_the_role_it_serves(api: ResponseApi, world: World, name: str) -> None:
    endpoint = ENDPOINTS[name]
    headers = (
        {}
        if endpoint.access == PUBLIC
        else (api.as_operator if endpoint.access in (READ, STAFF) else api.as_admin)
    )
    body = endpoint.body(world, api) if endpoint.body else None
    answer = call(api, endpoint.method, endpoint.path(world, api), body, headers)
    assert answer.status_code == endpoint.ok, answer.text


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.access != PUBLIC])
def test_refuses_a_caller_without_credentials(api: ResponseApi, world: World, name: str) -> None:
    endpoint = ENDPOINTS[name]
    body = endpoint.body(world, api) if endpoint.body else None
    answer = call(api, endpoint.method, endpoint.path(world, api), body)
    assert_error(answer, 401, "unauthenticated")
    forged = {"Authorization": "Bearer not.a.token"}
    assert_error(
        call(api, endpoint.method, endpoint.path(world, api), body, forged), 401, "unauthenticated"
    )


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.access == ACT])
def test_refuses_operators_where_admins_act(api: ResponseApi, world: World, name: str) -> None:
    endpoint = ENDPOINTS[name]
    body = endpoint.body(world, api) if endpoint.body else None
    answer = call(api, endpoint.method, endpoint.path(world, api), body, api.as_operator)
    assert_error(answer, 403, "forbidden")


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.bad is not None])
def test_refuses_bad_input(api: ResponseApi, world: World, name: str) -> None:
    endpoint = ENDPOINTS[name]
    assert endpoint.bad is not None
    path, body = endpoint.bad(world, api)
    headers = api.as_admin if endpoint.access != PUBLIC else {}
    answer = call(api, endpoint.method, path, body, headers)
    if answer.status_code == 404:  # a malformed id in the path matches no route
        assert_error(answer, 404, "not_found")
    else:
        assert_error(answer, 422, answer.json()["error"]["code"])
        assert answer.json()["error"]["code"] in ("validation_error", "query_policy_violation")


def test_accounts_of_role_user_cannot_sign_in_here(api: ResponseApi) -> None:
    answer = api.client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert_error(answer, 401, "unauthenticated")


def test_login_takes_an_oauth2_form_and_refresh_rotates(api: ResponseApi) -> None:
    answer = api.client.post(
        "/api/v1/auth/login",
        data={"username": "operator", "password": PASSWORD, "grant_type": "password"},
    )
    assert answer.status_code == 200, answer.text
    pair = answer.json()
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 3600
    again = api.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200
    reused = api.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_error(reused, 401, "unauthenticated")
    out = api.client.post(
        "/api/v1/auth/logout", json={"refresh_token": again.json()["refresh_token"]}
    )
    assert out.status_code == 204
    assert_error(
        api.client.post("/api/v1/auth/login", content=b"{not json"), 422, "validation_error"
    )


def test_api_keys_act_within_their_scopes(api: ResponseApi) -> None:
    created = api.client.post(
        "/api/v1/api-keys", json={"name": "reader", "scopes": ["read"]}, headers=api.as_admin
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("ak_live_")
    key = {"X-API-Key": secret}
    assert api.client.get("/api/v1/stats/queue", headers=key).status_code == 200
    assert_error(
        api.client.post(
            "/api/v1/users",
            json={"username": "zed", "email": "zed@example.org", "password": PASSWORD},
            headers=key,
        ),
        403,
        "forbidden",
    )
    # A narrowed key cannot mint a wider one.
    assert_error(
        api.client.post("/api/v1/api-keys", json={"name": "more"}, headers=key), 403, "forbidden"
    )
    key_id = created.json()["key"]["id"]
    assert api.client.delete(f"/api/v1/api-keys/{key_id}", headers=api.as_admin).status_code == 204
    assert_error(api.client.get("/api/v1/stats/queue", headers=key), 401, "unauthenticated")
