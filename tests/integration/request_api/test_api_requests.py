"""Submitting, listing, reading, cancelling requests and reading their answers."""

from __future__ import annotations

import uuid

import pytest
from api_harness import API, MATCH, Api, answer, error_of, mark_exported

from airgap.domain.model.users import ProfileType, Role


def test_submit_is_accepted_with_location_and_stored_pending(api: Api) -> None:
    headers = api.headers(api.make_user())

    submitted = api.submit(headers, priority=3)

    assert submitted.status_code == 202, submitted.text
    body = submitted.json()
    assert submitted.headers["Location"] == f"{API}/requests/{body['id']}"
    assert body["status"] == "pending" and body["priority"] == 3
    assert body["query_params"]["index"] == "products"
    assert body["response"] is None and body["from_cache"] is False
    assert ("requests.export", {}) in api.tasks.sent
    location = api.client.get(submitted.headers["Location"], headers=headers)
    assert location.status_code == 200 and location.json()["id"] == body["id"]


def test_priority_is_capped_by_the_profile(api: Api) -> None:
    basic = api.headers(api.make_user(profile=ProfileType.BASIC))
    enterprise = api.headers(api.make_user(profile=ProfileType.ENTERPRISE))

    assert api.submit(basic, priority=10).json()["priority"] == 5
    assert api.submit(basic).json()["priority"] == 5
    assert api.submit(enterprise, priority=10).json()["priority"] == 9


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"query_type": "script", "query_params": MATCH}, "query_type"),
        ({"query_params": MATCH}, ""),
        ({"query_type": "match"}, ""),
        ({"query_type": "match", "query_params": []}, "query_params"),
        ({"query_type": "match", "query_params": MATCH, "priority": 11}, "priority"),
        ({"query_type": "match", "query_params": MATCH, "priority": "high"}, "priority"),
        ({"query_type": "match", "query_params": MATCH, "max_age_seconds": -1}, "max_age_seconds"),
        ({"query_type": "match", "query_params": MATCH, "callback": "http://x"}, ""),
    ],
)
def test_malformed_submissions_are_validation_errors(
    api: Api, body: dict[str, object], path: str
) -> None:
    headers = api.headers(api.make_user())

    answer_ = api.client.post(f"{API}/requests", json=body, headers=headers)

    assert answer_.status_code == 422, answer_.text
    error = error_of(answer_)
    assert error["code"] == "validation_error"
    assert error["details"]["path"] == path


@pytest.mark.parametrize(
    ("query_params", "path"),
    [
        (
            {"index": "products", "query": {"bool": {"must": [{"script": {"source": "1"}}]}}},
            "query.bool.must[0].script",
        ),
        ({"index": "secrets", "query": {"match": {"name": "x"}}}, "index"),
        ({"index": "products", "query": {"match": {"name": "x"}}, "size": 5000}, "size"),
        ({"index": "products", "query": {"match": {"name": "x"}}, "runtime_mappings": {}}, ""),
    ],
)
def test_query_policy_violations_name_the_offending_path(
    api: Api, query_params: dict[str, object], path: str
) -> None:
    headers = api.headers(api.make_user())

    refused = api.client.post(
        f"{API}/requests",
        json={"query_type": "bool", "query_params": query_params},
        headers=headers,
    )

    assert refused.status_code == 422, refused.text
    error = error_of(refused)
    assert error["code"] == "query_policy_violation"
    assert error["details"]["path"].startswith(path)
    # A refused query does not use up the quota.
    assert refused.headers["X-RateLimit-Remaining"] == "10"


def test_submit_needs_a_requester_role_and_credentials(api: Api) -> None:
    operator = api.headers(api.make_user(role=Role.OPERATOR))

    assert api.submit({}).status_code == 401
    refused = api.submit(operator)
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"


def test_lists_are_paginated_filtered_and_sorted_by_creation(api: Api) -> None:
    headers = api.headers(api.make_user(profile=ProfileType.PREMIUM))
    other = api.headers(api.make_user())
    ids = [api.submit(headers).json()["id"] for _ in range(5)]
    api.submit(other)
    api.client.delete(f"{API}/requests/{ids[1]}", headers=headers)

    page = api.client.get(f"{API}/requests?limit=2&offset=1", headers=headers).json()
    oldest = api.client.get(f"{API}/requests?sort=created_at", headers=headers).json()
    cancelled = api.client.get(f"{API}/requests?status=cancelled", headers=headers).json()

    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [r["id"] for r in page["items"]] == [ids[3], ids[2]]
    assert [r["id"] for r in oldest["items"]] == ids
    assert [r["id"] for r in cancelled["items"]] == [ids[1]]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "offset=-1", "status=lost", "sort=priority", "limit=x"]
)
def test_bad_list_parameters_are_validation_errors(api: Api, query: str) -> None:
    headers = api.headers(api.make_user())

    answer_ = api.client.get(f"{API}/requests?{query}", headers=headers)

    assert answer_.status_code == 422
    assert error_of(answer_)["details"]["path"] == query.split("=", maxsplit=1)[0]


def test_detail_and_status_show_the_request_and_then_its_answer(api: Api) -> None:
    headers = api.headers(api.make_user())
    rid = api.submit(headers).json()["id"]

    pending = api.client.get(f"{API}/requests/{rid}/status", headers=headers).json()
    answer(api, rid)
    detail = api.client.get(f"{API}/requests/{rid}", headers=headers).json()
    status = api.client.get(f"{API}/requests/{rid}/status", headers=headers).json()

    assert pending["status"] == "pending" and set(pending) >= {"id", "status", "created_at"}
    assert "query_params" not in pending
    assert status["status"] == "completed" and status["result_received_at"]
    assert detail["status"] == "completed"
    assert detail["response"]["result_count"] == 2
    assert detail["response"]["result_data"]["hits"]["total"] == {"value": 2, "relation": "eq"}


def test_cancel_only_while_pending(api: Api) -> None:
    headers = api.headers(api.make_user())
    pending = api.submit(headers).json()["id"]
    exported = api.submit(headers).json()["id"]
    mark_exported(api, exported)

    cancelled = api.client.delete(f"{API}/requests/{pending}", headers=headers)
    again = api.client.delete(f"{API}/requests/{pending}", headers=headers)
    too_late = api.client.delete(f"{API}/requests/{exported}", headers=headers)

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"
    assert too_late.status_code == 409
    assert "exported" in error_of(too_late)["message"]


def test_the_answer_is_404_until_it_arrives_then_served_from_the_cache(api: Api) -> None:
    headers = api.headers(api.make_user())
    rid = api.submit(headers).json()["id"]

    missing = api.client.get(f"{API}/requests/{rid}/response", headers=headers)
    answer(api, rid, hits=3)
    first = api.client.get(f"{API}/requests/{rid}/response", headers=headers)

    assert missing.status_code == 404 and "no answer yet" in error_of(missing)["message"]
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["request_id"] == rid and body["status"] == "completed"
    assert body["result_count"] == 3 and body["execution_time_ms"] == 7
    assert len(body["result_data"]["hits"]["hits"]) == 3
    assert body["cache_hit"] is False and body["received_at"]
    cache = api.container.redis()
    ttl = cache.ttl(f"airgap:response:{rid}")
    assert 3500 < ttl <= 3600
    # Served from Redis: even with the row gone from PostgreSQL the answer is still there.
    with api.container.store().engine.begin() as connection:
        from sqlalchemy import text

        connection.execute(text("DELETE FROM responses WHERE request_id = :r"), {"r": rid})
    cached = api.client.get(f"{API}/requests/{rid}/response", headers=headers)
    assert cached.status_code == 200 and cached.json() == body
    # And PostgreSQL answers when Redis has nothing.
    cache.delete(f"airgap:response:{rid}")
    assert api.client.get(f"{API}/requests/{rid}/response", headers=headers).status_code == 404


def test_a_failed_answer_is_reported(api: Api) -> None:
    headers = api.headers(api.make_user())
    rid = api.submit(headers).json()["id"]
    answer(api, rid, status="failed", error="expired")

    body = api.client.get(f"{API}/requests/{rid}/response", headers=headers).json()

    assert body["status"] == "failed" and body["error"] == "expired"
    assert body["result_data"] is None


@pytest.mark.parametrize("suffix", ["", "/status", "/response"])
def test_another_users_request_is_not_found(api: Api, suffix: str) -> None:
    owner = api.headers(api.make_user())
    other = api.headers(api.make_user())
    rid = api.submit(owner).json()["id"]
    answer(api, rid)
    api.client.get(f"{API}/requests/{rid}/response", headers=owner)  # now cached too

    refused = api.client.get(f"{API}/requests/{rid}{suffix}", headers=other)
    unknown = api.client.get(f"{API}/requests/{uuid.uuid4()}{suffix}", headers=other)

    assert refused.status_code == 404 and unknown.status_code == 404
    assert error_of(refused)["message"] == "request not found"
    assert error_of(unknown)["message"] == "request not found"


def test_another_users_request_cannot_be_cancelled(api: Api) -> None:
    owner = api.headers(api.make_user())
    rid = api.submit(owner).json()["id"]

    refused = api.client.delete(f"{API}/requests/{rid}", headers=api.headers(api.make_user()))

    assert refused.status_code == 404
    assert api.client.get(f"{API}/requests/{rid}/status", headers=owner).json()["status"] == (
        "pending"
    )


def test_an_admin_may_read_anyones_request(api: Api) -> None:
    owner = api.headers(api.make_user())
    admin = api.headers(api.make_user(role=Role.ADMIN))
    rid = api.submit(owner).json()["id"]

    assert api.client.get(f"{API}/requests/{rid}", headers=admin).status_code == 200


def test_request_routes_refuse_the_operator_role(api: Api) -> None:
    operator = api.headers(api.make_user(role=Role.OPERATOR))
    rid = uuid.uuid4()

    for path in ("/requests", f"/requests/{rid}", f"/requests/{rid}/status", "/responses"):
        assert api.client.get(f"{API}{path}", headers=operator).status_code == 403, path
    assert api.client.delete(f"{API}/requests/{rid}", headers=operator).status_code == 403


def test_request_routes_need_credentials(api: Api) -> None:
    rid = uuid.uuid4()
    for path in ("/requests", f"/requests/{rid}", f"/requests/{rid}/status", "/responses"):
        assert api.client.get(f"{API}{path}").status_code == 401, path
    assert api.client.get(f"{API}/requests/{rid}/response").status_code == 401
    assert api.client.delete(f"{API}/requests/{rid}").status_code == 401


def test_a_malformed_request_id_is_not_found(api: Api) -> None:
    headers = api.headers(api.make_user())

    answer_ = api.client.get(f"{API}/requests/not-a-uuid", headers=headers)

    assert answer_.status_code == 404 and error_of(answer_)["code"] == "not_found"


def test_responses_lists_only_your_answers_without_their_data(api: Api) -> None:
    headers = api.headers(api.make_user())
    other = api.headers(api.make_user())
    done, failed, _pending = (api.submit(headers).json()["id"] for _ in range(3))
    answer(api, done)
    answer(api, failed, status="failed", error="timeout")
    answer(api, api.submit(other).json()["id"])

    everything = api.client.get(f"{API}/responses", headers=headers).json()
    failures = api.client.get(f"{API}/responses?status=failed", headers=headers).json()
    bad = api.client.get(f"{API}/responses?status=maybe", headers=headers)

    assert everything["total"] == 2
    assert {r["request_id"] for r in everything["items"]} == {done, failed}
    assert "result_data" not in everything["items"][0]
    assert [r["request_id"] for r in failures["items"]] == [failed]
    assert bad.status_code == 422


def test_max_age_answers_at_once_from_a_fresh_stored_answer(api: Api) -> None:
    headers = api.headers(api.make_user())
    # A query of this test's own: stored answers are shared by everyone who asks it.
    query = {"index": "products", "query": {"match": {"name": uuid.uuid4().hex}}}
    first = api.submit(headers, query_params=query).json()["id"]
    answer(api, first, hits=4)
    api.tasks.drain()

    reused = api.submit(headers, query_params=query, max_age_seconds=600)
    too_old = api.submit(headers, query_params=query, max_age_seconds=0)

    assert reused.status_code == 202
    body = reused.json()
    assert body["status"] == "completed" and body["from_cache"] is True
    assert body["response"]["from_cache"] is True and body["response"]["result_count"] == 4
    assert body["response"]["metadata"]["answered_from_request"] == first
    assert too_old.json()["status"] == "pending"
    assert api.tasks.drain() == [("requests.export", {})]  # only the one that must cross
    read = api.client.get(f"{API}/requests/{body['id']}/response", headers=headers).json()
    assert read["from_cache"] is True
