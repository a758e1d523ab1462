"""Rate limits through the API: exact under concurrency, the headers, 429 with Retry-After,
and an administrator's reset -- on the Redis Lua limiter."""

from __future__ import annotations

import threading
import uuid

import httpx
from api_harness import API, MATCH, Api, error_of, live_server

from airgap.domain.model.users import Role

POLICY = "10;w=60, 100;w=3600, 500;w=86400"


def test_a_submission_carries_the_rate_limit_headers(api: Api) -> None:
    headers = api.headers(api.make_user())

    first = api.submit(headers)

    assert first.headers["RateLimit-Policy"] == POLICY
    assert first.headers["RateLimit"] == "limit=10, remaining=9, reset=60"
    assert first.headers["X-RateLimit-Limit"] == "10"
    assert first.headers["X-RateLimit-Remaining"] == "9"
    assert first.headers["X-RateLimit-Reset"] == "60"
    assert "X-RateLimit-Warning" not in first.headers


def test_every_authenticated_answer_describes_the_quota_without_spending_it(api: Api) -> None:
    headers = api.headers(api.make_user())
    fresh = api.client.get(f"{API}/users/me", headers=headers)
    api.submit(headers)
    api.submit(headers)

    after = [api.client.get(f"{API}/requests", headers=headers) for _ in range(3)]
    refused = api.client.get(f"{API}/admin/stats", headers=headers)  # 403 still carries them

    assert fresh.headers["RateLimit"] == "limit=10, remaining=10, reset=0"
    assert [a.headers["X-RateLimit-Remaining"] for a in after] == ["8", "8", "8"]
    assert refused.status_code == 403 and refused.headers["X-RateLimit-Remaining"] == "8"
    reset = int(after[0].headers["X-RateLimit-Reset"])
    assert 58 <= reset <= 60


def test_a_warning_from_80_percent_of_a_window(api: Api) -> None:
    headers = api.headers(api.make_user())

    answers = [api.submit(headers) for _ in range(9)]

    assert ["X-RateLimit-Warning" in a.headers for a in answers] == [False] * 7 + [True] * 2
    assert answers[7].headers["X-RateLimit-Warning"] == "8 of 10 per minute used"
    assert "X-RateLimit-Warning" in api.client.get(f"{API}/users/me", headers=headers).headers


def test_over_the_limit_is_429_with_retry_after_and_nothing_stored(api: Api) -> None:
    headers = api.headers(api.make_user())
    for _ in range(10):
        assert api.submit(headers).status_code == 202

    refused = api.submit(headers)

    assert refused.status_code == 429
    assert error_of(refused)["code"] == "rate_limited"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit"].startswith("limit=10, remaining=0")
    assert api.client.get(f"{API}/requests", headers=headers).json()["total"] == 10
    # The window slides: once the oldest leaves it, one more is admitted.
    api.clock.advance(retry_after)
    assert api.submit(headers).status_code == 202


def test_an_admin_reset_restores_the_quota(api: Api) -> None:
    user = api.make_user()
    headers = api.headers(user)
    admin = api.headers(api.make_user(role=Role.ADMIN))
    for _ in range(10):
        api.submit(headers)
    assert api.submit(headers).status_code == 429

    reset = api.client.post(f"{API}/admin/users/{user.id}/reset-rate-limit", headers=admin)

    assert reset.status_code == 200 and reset.json()["id"] == str(user.id)
    again = api.submit(headers)
    assert again.status_code == 202 and again.headers["X-RateLimit-Remaining"] == "9"


def test_reset_is_for_admins_and_known_users(api: Api) -> None:
    user = api.make_user()
    operator = api.headers(api.make_user(role=Role.OPERATOR))
    admin = api.headers(api.make_user(role=Role.ADMIN))
    path = f"{API}/admin/users/{user.id}/reset-rate-limit"

    assert api.client.post(path).status_code == 401
    assert api.client.post(path, headers=api.headers(user)).status_code == 403
    assert api.client.post(path, headers=operator).status_code == 403
    unknown = api.client.post(f"{API}/admin/users/{uuid.uuid4()}/reset-rate-limit", headers=admin)
    assert unknown.status_code == 404


def test_an_unlimited_profile_gets_no_rate_limit_headers(api: Api) -> None:
    from airgap.domain.model.users import ProfileType

    headers = api.headers(api.make_user(role=Role.ADMIN, profile=ProfileType.ADMIN))

    answer = api.submit(headers)

    assert answer.status_code == 202
    assert "RateLimit" not in answer.headers and "X-RateLimit-Limit" not in answer.headers


def test_fifty_concurrent_clients_against_ten_per_minute_admit_exactly_ten(api: Api) -> None:
    """Real sockets, real threads, one uvicorn: the Lua script is the only arbiter."""
    tokens = api.tokens(api.make_user())
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    start = threading.Barrier(50)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    with live_server(api.app) as url:

        def client() -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                start.wait()
                answer = http.post(
                    f"{API}/requests",
                    json={"query_type": "match", "query_params": MATCH},
                    headers=headers,
                )
            with lock:
                results.append(answer)

        threads = [threading.Thread(target=client) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        statuses = sorted(a.status_code for a in results)
        assert statuses == [202] * 10 + [429] * 40
        admitted = sorted(int(a.headers["X-RateLimit-Remaining"]) for a in results if a.is_success)
        assert admitted == list(range(10))  # each admission saw the one before it
        for refused in (a for a in results if a.status_code == 429):
            assert 1 <= int(refused.headers["Retry-After"]) <= 60
            assert refused.headers["X-RateLimit-Remaining"] == "0"
            assert refused.json()["error"]["code"] == "rate_limited"
        with httpx.Client(base_url=url) as http:
            stored = http.get(f"{API}/requests", headers=headers).json()
        assert stored["total"] == 10
