"""What every route shares: the error shape, request ids, JSON logs, CORS, health, metrics
and the OpenAPI document."""

from __future__ import annotations

import json
import uuid

import pytest
from api_harness import API, Api, error_of
from litestar import get
from litestar.testing import TestClient

from airgap.domain.model.users import Role
from airgap.entrypoints.http.common.app import build_app
from airgap.entrypoints.http.common.auth import PUBLIC
from airgap.entrypoints.http.common.metrics import Metrics


def test_unknown_routes_and_methods_answer_in_the_error_shape(api: Api) -> None:
    missing = api.client.get("/api/v1/nothing-here")
    wrong_method = api.client.patch(f"{API}/requests")

    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert error_of(wrong_method)["code"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]


def test_a_body_too_large_is_refused(api: Api) -> None:
    headers = api.headers(api.make_user())
    huge = {"query_type": "match", "query_params": {"index": "products", "pad": "x" * 3_000_000}}

    answer = api.client.post(f"{API}/requests", json=huge, headers=headers)

    assert answer.status_code == 413 and error_of(answer)["code"] == "payload_too_large"


def test_request_ids_are_echoed_or_made(api: Api) -> None:
    given = api.client.get("/health", headers={"X-Request-ID": "trace-0042"})
    hostile = api.client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    made = api.client.get("/health")

    assert given.headers["X-Request-ID"] == "trace-0042"
    assert hostile.headers["X-Request-ID"] != "bad id\twith spaces"
    assert len(made.headers["X-Request-ID"]) == 32
    error = api.client.get(f"{API}/requests", headers={"X-Request-ID": "trace-0043"})
    assert error_of(error)["request_id"] == "trace-0043"


def test_logs_are_json_lines_with_request_and_user_ids(
    api: Api, capfd: pytest.CaptureFixture[str]
) -> None:
    account = api.make_user()
    headers = {**api.headers(account), "X-Request-ID": "trace-logs-1"}
    capfd.readouterr()

    api.client.get(f"{API}/requests", headers=headers)

    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line]
    access = [line for line in lines if line.get("request_id") == "trace-logs-1"]
    assert access, lines
    entry = access[-1]
    assert entry["event"] == "request" and entry["status"] == 200
    assert entry["route"] == "/api/v1/requests" and entry["user_id"] == str(account.id)
    assert entry["level"] == "info" and entry["timestamp"].endswith("Z")


def test_unexpected_failures_are_500_without_a_traceback(
    redis_server_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    @get("/boom", opt={PUBLIC: True}, sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("connection string postgresql://secret@db")

    app = build_app(
        title="t",
        description="d",
        route_handlers=[boom],
        authenticate=lambda _bearer, _key: (_ for _ in ()).throw(AssertionError()),
        probes=list,
        metrics=Metrics(),
    )
    with TestClient(app) as client:
        answer = client.get("/boom", headers={"X-Request-ID": "trace-500"})

    assert answer.status_code == 500
    error = error_of(answer)
    assert error == {
        "code": "internal",
        "message": "internal error; the request id is logged",
        "request_id": "trace-500",
    }
    assert "secret" not in answer.text
    logged = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line]
    failure = next(line for line in logged if line.get("event") == "unhandled error")
    assert failure["request_id"] == "trace-500" and "RuntimeError" in failure["exception"]


def test_cors_allows_the_configured_origin_only(api: Api) -> None:
    preflight = {
        "Origin": "https://panel.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }
    allowed = api.client.options(f"{API}/requests", headers=preflight)
    other = api.client.options(
        f"{API}/requests", headers={**preflight, "Origin": "https://evil.example"}
    )
    simple = api.client.get("/health", headers={"Origin": "https://panel.example"})

    assert allowed.status_code in (200, 204)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://panel.example"
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "X-RateLimit-Remaining" in simple.headers["Access-Control-Expose-Headers"]


def test_liveness_and_readiness_are_public(api: Api) -> None:
    live = api.client.get("/health")
    ready = api.client.get("/health/ready")

    assert live.status_code == 200 and live.json()["status"] == "ok"
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert set(checks) == {"database", "redis"}
    assert all(c["status"] == "ok" and c["latency_ms"] >= 0 for c in checks.values())


def test_readiness_fails_when_redis_is_gone(api: Api) -> None:
    import redis as redis_client
    from dependency_injector import providers

    api.container.redis.override(
        providers.Object(redis_client.Redis(host="127.0.0.1", port=1, socket_timeout=0.5))
    )
    try:
        ready = api.client.get("/health/ready")
    finally:
        api.container.redis.reset_override()

    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["status"] == "error" and body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["status"] == "ok"


def test_detailed_health_is_for_monitoring_roles(fresh: Api) -> None:
    api = fresh
    user = api.headers(api.make_user())
    operator = api.headers(api.make_user(role=Role.OPERATOR))
    api.submit(user)

    assert api.client.get("/health/detailed").status_code == 401
    assert api.client.get("/health/detailed", headers=user).status_code == 403
    detailed = api.client.get("/health/detailed", headers=operator)

    assert detailed.status_code == 200, detailed.text
    body = detailed.json()
    assert body["status"] == "ok" and body["version"]
    assert set(body["checks"]) == {"database", "redis"}
    assert body["details"]["requests"] == {"pending": 1, "exported": 0}
    outbox = body["details"]["disk"]["outbox"]
    assert outbox["free_bytes"] > 0 and 0 <= outbox["used_percent"] <= 100


def test_metrics_count_routes_statuses_and_the_networks_own_figures(fresh: Api) -> None:
    api = fresh
    headers = api.headers(api.make_user())
    for _ in range(10):
        api.submit(headers)
    api.submit(headers)  # 429
    api.client.get(f"{API}/requests/{uuid.uuid4()}", headers=headers)  # 404

    text = api.client.get("/metrics").text

    assert (
        'airgap_http_requests_total{method="POST",route="/api/v1/requests",status="202"} 10.0'
        in text
    )
    assert (
        'airgap_http_request_errors_total{method="POST",route="/api/v1/requests",status="429"}'
        " 1.0" in text
    )
    assert 'route="/api/v1/requests/{request_id}",status="404"' in text
    assert "airgap_http_request_duration_seconds_bucket" in text
    assert "airgap_rate_limit_rejections_total 1.0" in text
    assert 'airgap_requests_submitted_total{answered_from_store="false",query_type="match"}' in text
    assert "airgap_active_users 1.0" in text
    assert 'airgap_requests{status="pending"} 10.0' in text
    assert 'airgap_logins_total{outcome="signed_in"} 1.0' in text


def test_the_openapi_document_describes_security_tags_and_errors(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()

    assert schema["info"]["title"] == "airgap request network API"
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearer"]["description"],
    }
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"
    assert schemes["oauth2"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/login"
    assert {t["name"] for t in schema["tags"]} >= {"auth", "account", "requests", "admin"}
    paths = schema["paths"]
    submit = paths["/api/v1/requests"]["post"]
    assert submit["security"] == [{"bearer": []}, {"apiKey": []}]
    assert {"202", "401", "403", "422", "429"} <= set(submit["responses"])
    error_ref = submit["responses"]["429"]["content"]["application/json"]["schema"]["$ref"]
    assert error_ref.endswith("/ErrorBody")
    login = paths["/api/v1/auth/login"]["post"]
    assert "security" not in login
    assert set(login["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    for path, operations in paths.items():
        for method, operation in operations.items():
            if path.startswith("/api/v1/") and not path.startswith("/api/v1/auth/"):
                assert operation.get("security"), (method, path)
    assert api.client.get("/schema").status_code == 200
    assert api.client.get("/schema/swagger").status_code == 200
