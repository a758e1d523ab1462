"""``/admin``: figures, every request, accounts and the emergency stop, batches, the audit
trail and the crossing -- and who may see or do which."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from api_harness import API, Api, answer, error_of

from airgap.domain.model.users import ProfileType, Role
from airgap.domain.services.request_transfer import export_requests, import_batches

READS = (
    "/admin/stats",
    "/admin/requests",
    "/admin/users",
    "/admin/export-batches",
    "/admin/import-batches",
    "/admin/audit-logs",
    "/admin/transfer",
)


def admin_of(api: Api) -> dict[str, str]:
    return api.headers(api.make_user("root", role=Role.ADMIN, profile=ProfileType.ADMIN))


@pytest.fixture
def admin(api: Api) -> dict[str, str]:
    return admin_of(api)


def test_monitoring_reads_are_for_operators_admins_and_system(api: Api) -> None:
    headers = {
        role: api.headers(api.make_user(role=role))
        for role in (Role.USER, Role.OPERATOR, Role.ADMIN, Role.SYSTEM)
    }

    for path in READS:
        assert api.client.get(f"{API}{path}").status_code == 401, path
        assert api.client.get(f"{API}{path}", headers=headers[Role.USER]).status_code == 403
        for role in (Role.OPERATOR, Role.ADMIN, Role.SYSTEM):
            answer_ = api.client.get(f"{API}{path}", headers=headers[role])
            assert answer_.status_code == 200, (path, role, answer_.text)


def test_admin_changes_are_for_admins_only(api: Api) -> None:
    target = api.make_user()
    operator = api.headers(api.make_user(role=Role.OPERATOR))
    system = api.headers(api.make_user(role=Role.SYSTEM))
    user = api.headers(api.make_user())
    changes = [
        ("PUT", f"/admin/users/{target.id}", {"full_name": "X"}),
        ("POST", f"/admin/users/{target.id}/deactivate", None),
        ("POST", f"/admin/users/{target.id}/activate", None),
        ("POST", f"/admin/users/{target.id}/reset-rate-limit", None),
    ]

    for method, path, body in changes:
        assert api.client.request(method, f"{API}{path}", json=body).status_code == 401
        for headers in (operator, system, user):
            refused = api.client.request(method, f"{API}{path}", json=body, headers=headers)
            assert refused.status_code == 403, (path, refused.text)
            assert error_of(refused)["code"] == "forbidden"


def test_stats_count_requests_rates_accounts_and_top_users(fresh: Api) -> None:
    api, admin = fresh, admin_of(fresh)
    busy = api.make_user("busy")
    quiet = api.make_user("quiet")
    api.make_user("stopped", locally_deactivated=True)
    busy_headers, quiet_headers = api.headers(busy), api.headers(quiet)
    ids = [api.submit(busy_headers).json()["id"] for _ in range(4)]
    api.submit(quiet_headers)
    answer(api, ids[0])
    answer(api, ids[1])
    answer(api, ids[2], status="failed")

    stats = api.client.get(f"{API}/admin/stats", headers=admin).json()

    requests = stats["requests"]
    assert requests["total"] == 5 and requests["submitted_last_24h"] == 5
    assert requests["by_status"] == {
        "pending": 2,
        "exported": 0,
        "completed": 2,
        "failed": 1,
        "cancelled": 0,
    }
    assert requests["success_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert requests["failure_rate"] == pytest.approx(1 / 3, abs=1e-4)
    accounts = stats["accounts"]
    assert accounts == {
        "total": 4,
        "active": 3,
        "locally_deactivated": 1,
        "submitting_last_24h": 2,
    }
    assert stats["top_users"][:2] == [
        {"user_id": str(busy.id), "username": busy.username, "requests": 4},
        {"user_id": str(quiet.id), "username": quiet.username, "requests": 1},
    ]


def test_all_requests_with_filters(fresh: Api) -> None:
    api, admin = fresh, admin_of(fresh)
    a, b = api.make_user(), api.make_user()
    mine = [api.submit(api.headers(a)).json()["id"] for _ in range(2)]
    theirs = api.submit(api.headers(b)).json()["id"]
    api.client.delete(f"{API}/requests/{mine[0]}", headers=api.headers(a))
    later = (api.clock.now() + timedelta(hours=1)).isoformat()

    everyone = api.client.get(f"{API}/admin/requests", headers=admin).json()
    of_a = api.client.get(f"{API}/admin/requests", params={"user_id": str(a.id)}, headers=admin)
    cancelled = api.client.get(f"{API}/admin/requests?status=cancelled", headers=admin).json()
    none_yet = api.client.get(f"{API}/admin/requests", params={"since": later}, headers=admin)

    assert everyone["total"] == 3 and everyone["items"][0]["id"] == theirs
    assert {r["id"] for r in of_a.json()["items"]} == set(mine)
    assert [r["id"] for r in cancelled["items"]] == [mine[0]]
    assert none_yet.json()["total"] == 0


@pytest.mark.parametrize(
    "query",
    ["user_id=nope", "status=lost", "since=yesterday", "sort=user", "limit=1000", "query_type=sql"],
)
def test_admin_list_filters_are_validated(api: Api, admin: dict[str, str], query: str) -> None:
    answer_ = api.client.get(f"{API}/admin/requests?{query}", headers=admin)

    assert answer_.status_code == 422, answer_.text
    assert error_of(answer_)["details"]["path"] == query.split("=", maxsplit=1)[0]


def test_users_list_detail_and_update(fresh: Api) -> None:
    api, admin = fresh, admin_of(fresh)
    zoe = api.make_user("zoe")
    yann = api.make_user("yann", role=Role.OPERATOR)

    listed = api.client.get(f"{API}/admin/users?search=zo", headers=admin).json()
    operators = api.client.get(f"{API}/admin/users?role=operator", headers=admin).json()
    detail = api.client.get(f"{API}/admin/users/{zoe.id}", headers=admin)
    missing = api.client.get(f"{API}/admin/users/{uuid.uuid4()}", headers=admin)
    updated = api.client.put(
        f"{API}/admin/users/{zoe.id}",
        json={"profile_type": "premium", "rate_limit_per_day": None, "full_name": "Zoe Z"},
        headers=admin,
    )

    assert [u["username"] for u in listed["items"]] == [zoe.username]
    assert [u["username"] for u in operators["items"]] == [yann.username]
    assert detail.status_code == 200 and detail.json()["email"] == f"{zoe.username}@example.org"
    assert missing.status_code == 404
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["profile_type"] == "premium" and body["priority"] == 7
    assert body["rate_limits"] == {"per_minute": 60, "per_hour": 1000, "per_day": None}
    assert body["full_name"] == "Zoe Z"
    # Local: the version the response network's snapshots are compared with is unchanged.
    assert body["version"] == detail.json()["version"]
    submitted = api.submit(api.headers(zoe))
    assert submitted.headers["X-RateLimit-Limit"] == "60"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"profile_type": "gold"}, "profile_type"),
        ({"priority": 0}, "priority"),
        ({"rate_limit_per_minute": 0}, "rate_limit_per_minute"),
        ({"email": "x"}, "email"),
        ({"is_admin": True}, ""),
    ],
)
def test_invalid_user_updates_are_validation_errors(
    api: Api, admin: dict[str, str], body: dict[str, object], path: str
) -> None:
    target = api.make_user()

    answer_ = api.client.put(f"{API}/admin/users/{target.id}", json=body, headers=admin)

    assert answer_.status_code == 422, answer_.text
    assert error_of(answer_)["details"]["path"] == path


def test_an_email_already_taken_is_a_conflict(api: Api, admin: dict[str, str]) -> None:
    uma = api.make_user("uma")
    target = api.make_user()

    answer_ = api.client.put(
        f"{API}/admin/users/{target.id}",
        json={"email": f"{uma.username}@example.org"},
        headers=admin,
    )

    assert answer_.status_code == 409 and error_of(answer_)["code"] == "conflict"


def test_an_admin_cannot_stop_or_demote_themselves(api: Api) -> None:
    me = api.make_user(role=Role.ADMIN)
    headers = api.headers(me)

    stop = api.client.post(f"{API}/admin/users/{me.id}/deactivate", headers=headers)
    demote = api.client.put(f"{API}/admin/users/{me.id}", json={"role": "user"}, headers=headers)

    assert stop.status_code == 409 and demote.status_code == 409
    assert api.client.get(f"{API}/users/me", headers=headers).status_code == 200


def test_activate_does_not_undo_the_response_networks_deactivation(
    api: Api, admin: dict[str, str]
) -> None:
    gone = api.make_user(is_active=False)

    answer_ = api.client.post(f"{API}/admin/users/{gone.id}/activate", headers=admin)

    assert answer_.status_code == 200
    body = answer_.json()
    assert body["locally_deactivated"] is False and body["is_active"] is False
    assert body["may_sign_in"] is False


def test_admin_user_routes_with_unknown_ids_are_not_found(api: Api, admin: dict[str, str]) -> None:
    nobody = uuid.uuid4()
    for method, path in (
        ("GET", f"/admin/users/{nobody}"),
        ("PUT", f"/admin/users/{nobody}"),
        ("POST", f"/admin/users/{nobody}/deactivate"),
        ("POST", f"/admin/users/{nobody}/activate"),
    ):
        body = {} if method == "PUT" else None
        answer_ = api.client.request(method, f"{API}{path}", json=body, headers=admin)
        assert answer_.status_code == 404, path


def test_batches_both_ways_and_the_transfer_state(fresh: Api) -> None:
    api, admin = fresh, admin_of(fresh)
    headers = api.headers(api.make_user())
    for _ in range(3):
        api.submit(headers)
    settings = api.container.settings()
    settings.outbox.mkdir(parents=True, exist_ok=True)
    export_requests(api.container.side())  # writes batch 1 into the outbox
    inbox = settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    stem = "responses_20260101_000000_" + str(uuid.uuid4())
    (inbox / f"{stem}.jsonl").write_bytes(b"not json\n")
    (inbox / f"{stem}.manifest.json").write_bytes(b"{}")
    import_batches(api.container.side())  # a broken batch: recorded as failed

    exported = api.client.get(f"{API}/admin/export-batches", headers=admin).json()
    imported = api.client.get(f"{API}/admin/import-batches?status=failed", headers=admin).json()
    transfer = api.client.get(f"{API}/admin/transfer", headers=admin).json()
    by_type = api.client.get(f"{API}/admin/export-batches?batch_type=users", headers=admin)

    assert exported["total"] == 1
    batch = exported["items"][0]
    assert batch["batch_type"] == "requests" and batch["record_count"] == 3
    assert batch["sequence"] == 1 and batch["status"] == "completed"
    assert len(batch["payload_sha256"]) == 64
    assert imported["total"] == 1 and imported["items"][0]["error_message"]
    assert transfer["outbound"]["last_sequence"] == 1
    assert transfer["outbound"]["awaiting_ack"] == 1
    assert transfer["outbound"]["unacknowledged"] == [1]
    assert transfer["inbound"]["received"] == [] and transfer["inbound"]["missing"] == []
    assert by_type.json()["total"] == 0
    assert api.client.get(f"{API}/requests?status=exported", headers=headers).json()["total"] == 3


def test_every_state_changing_call_leaves_an_audit_entry(fresh: Api) -> None:
    api, admin = fresh, admin_of(fresh)
    ann = api.make_user("ann")
    headers = {**api.headers(ann), "User-Agent": "pytest-agent/1"}
    rid = api.submit(headers).json()["id"]
    api.client.delete(f"{API}/requests/{rid}", headers=headers)
    api.client.delete(f"{API}/requests/{rid}", headers=headers)  # 409
    key = api.client.post(f"{API}/api-keys", json={"name": "k"}, headers=headers).json()
    api.client.put(f"{API}/users/me", json={"full_name": "Ann"}, headers=headers)
    api.client.post(f"{API}/admin/users/{ann.id}/reset-rate-limit", headers=admin)
    api.client.post(f"{API}/auth/login", json={"username": ann.username, "password": "wrong-wrong"})

    entries = api.client.get(
        f"{API}/admin/audit-logs?sort=created_at&limit=100", headers=admin
    ).json()["items"]

    seen = [(e["action"], e["status"]) for e in entries]
    for expected in [
        ("auth.login", 200),
        ("request.submit", 202),
        ("request.cancel", 200),
        ("request.cancel", 409),
        ("api_key.create", 201),
        ("user.update_profile", 200),
        ("admin.user.reset_rate_limit", 200),
        ("auth.login", 401),
    ]:
        assert expected in seen, (expected, seen)
    submit = next(e for e in entries if e["action"] == "request.submit")
    assert submit["user_id"] == str(ann.id) and submit["resource_id"] == rid
    assert submit["user_agent"] == "pytest-agent/1"
    assert submit["details"]["request_id"]
    refused = next(e for e in entries if e["action"] == "request.cancel" and e["status"] == 409)
    assert refused["details"]["error"] == "conflict" and refused["resource_id"] == rid
    created = next(e for e in entries if e["action"] == "api_key.create")
    assert created["resource_id"] == key["api_key"]["id"]
    failed_login = [e for e in entries if e["action"] == "auth.login" and e["status"] == 401]
    assert failed_login[0]["details"]["username"] == ann.username
    assert failed_login[0]["user_id"] is None


def test_audit_logs_filter_by_user_action_resource_and_time(fresh: Api) -> None:
    api, admin = fresh, admin_of(fresh)
    bea, cal = api.make_user(), api.make_user()
    rid = api.submit(api.headers(bea)).json()["id"]
    api.submit(api.headers(cal))
    future = (api.clock.now() + timedelta(hours=1)).isoformat()

    def count(**params: str) -> int:
        answer_ = api.client.get(f"{API}/admin/audit-logs", params=params, headers=admin)
        assert answer_.status_code == 200, answer_.text
        return int(answer_.json()["total"])

    assert count(user_id=str(bea.id), action="request.submit") == 1
    assert count(action="request.submit") == 2
    assert count(resource_type="request", resource_id=rid) == 1
    assert count(action="request.submit", since=future) == 0
    assert count(action="request.submit", until=future) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users?role=superuser",
        "/admin/users?is_active=maybe",
        "/admin/export-batches?status=lost",
        "/admin/import-batches?batch_type=parcels",
        "/admin/audit-logs?since=last-week",
        "/admin/audit-logs?user_id=42",
        "/admin/users?offset=-3",
    ],
)
def test_every_admin_list_validates_its_filters(api: Api, admin: dict[str, str], path: str) -> None:
    answer_ = api.client.get(f"{API}{path}", headers=admin)

    assert answer_.status_code == 422, answer_.text
    assert error_of(answer_)["code"] == "validation_error"
    assert error_of(answer_)["details"]["path"] == path.split("?")[1].split("=", maxsplit=1)[0]
