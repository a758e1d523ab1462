"""End to end: `airgap up` on embedded defaults, driven only over HTTP and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx

from support.airgap_up import ADMIN_PASSWORD, DEMO_PASSWORD, Running, wait_for
from support.manifests import resealed

MATCH = {"index": "products", "query": {"match": {"name": "kettle"}}, "size": 5}
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("match", MATCH),
    ("term", {"index": "products", "query": {"term": {"in_stock": True}}, "size": 3}),
    ("range", {"index": "products", "query": {"range": {"price": {"gte": 10, "lte": 50}}}}),
    (
        "aggregation",
        {"index": "products", "size": 0, "aggs": {"brands": {"terms": {"field": "brand"}}}},
    ),
    (
        "bool",
        {
            "index": "products",
            "query": {
                "bool": {
                    "must": [{"match": {"description": "quality"}}],
                    "filter": [{"range": {"rating": {"gte": 3}}}],
                }
            },
        },
    ),
]


def submit(client: httpx.Client, headers: dict[str, str], query_type: str, params: Any) -> str:
    answer = client.post(
        "/api/v1/requests",
        json={"query_type": query_type, "query_params": params},
        headers=headers,
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"].endswith(answer.json()["id"])
    return str(answer.json()["id"])


def status(client: httpx.Client, headers: dict[str, str], request_id: str) -> str:
    answer = client.get(f"/api/v1/requests/{request_id}/status", headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


def wait_final(client: httpx.Client, headers: dict[str, str], request_id: str) -> str:
    return str(
        wait_for(
            lambda: (s := status(client, headers, request_id)) in ("completed", "failed") and s,
            60,
            f"request {request_id} to be answered",
        )
    )


def test_several_users_and_query_types_cross_and_come_back(airgap_up: Running) -> None:
    alice = airgap_up.login("request", "alice", DEMO_PASSWORD)
    bob = airgap_up.login("request", "bob", DEMO_PASSWORD)
    with airgap_up.client("request") as client:
        submitted = [
            (headers, submit(client, headers, query_type, params))
            for headers in (alice, bob)
            for query_type, params in QUERIES
        ]
        seen = set()
        for headers, request_id in submitted:
            seen.add(status(client, headers, request_id))
            assert wait_final(client, headers, request_id) == "completed"
            answer = client.get(f"/api/v1/requests/{request_id}/response", headers=headers)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["request_id"] == request_id
            assert "hits" in body["result_data"]
        # Bob never sees Alice's request.
        alice_request = submitted[0][1]
        assert client.get(f"/api/v1/requests/{alice_request}", headers=bob).status_code == 404
        aggregation = client.get(
            f"/api/v1/requests/{submitted[3][1]}/response", headers=alice
        ).json()
        assert aggregation["result_data"]["aggregations"]["brands"]["buckets"]


def test_cancel_while_pending_and_not_after(airgap_up: Running) -> None:
    alice = airgap_up.login("request", "alice", DEMO_PASSWORD)
    assert (
        airgap_up.airgap("carrier", "pause", "--data-dir", str(airgap_up.data_dir)).returncode == 0
    )
    try:
        with airgap_up.client("request") as client:
            request_id = submit(client, alice, "match", MATCH)
            answer = client.delete(f"/api/v1/requests/{request_id}", headers=alice)
            assert answer.status_code in (200, 204), answer.text
            assert status(client, alice, request_id) == "cancelled"
            assert client.delete(f"/api/v1/requests/{request_id}", headers=alice).status_code == 409
    finally:
        airgap_up.airgap("carrier", "resume", "--data-dir", str(airgap_up.data_dir))


def test_max_age_is_answered_at_once_from_a_stored_answer(airgap_up: Running) -> None:
    bob = airgap_up.login("request", "bob", DEMO_PASSWORD)
    params = {"index": "products", "query": {"match": {"name": "lamp"}}, "size": 2}
    with airgap_up.client("request") as client:
        first = submit(client, bob, "match", params)
        assert wait_final(client, bob, first) == "completed"
        answer = client.post(
            "/api/v1/requests",
            json={"query_type": "match", "query_params": params, "max_age_seconds": 3600},
            headers=bob,
        )
        assert answer.status_code == 202, answer.text
        again = answer.json()["id"]
        assert status(client, bob, again) == "completed"  # no crossing needed
        stored = client.get(f"/api/v1/requests/{again}/response", headers=bob).json()
        original = client.get(f"/api/v1/requests/{first}/response", headers=bob).json()
        assert stored["result_data"] == original["result_data"]


def test_rate_limits_refuse_the_eleventh_request_of_a_basic_user(airgap_up: Running) -> None:
    created = airgap_up.airgap(
        "users",
        "create",
        "--username",
        "carol",
        "--email",
        "carol@example.org",
        "--profile",
        "basic",
        "--password-stdin",
        "--data-dir",
        str(airgap_up.data_dir),
        stdin="tangerine-violet-42\n",
    )
    assert created.returncode == 0, created.stderr
    carol = wait_for(
        lambda: _try_login(airgap_up, "carol", "tangerine-violet-42"),
        60,
        "carol to reach the request network",
    )
    with airgap_up.client("request") as client:
        codes = []
        for _ in range(11):
            answer = client.post(
                "/api/v1/requests",
                json={"query_type": "match", "query_params": MATCH},
                headers=carol,
            )
            codes.append(answer.status_code)
        assert codes == [202] * 10 + [429]
        assert int(answer.headers["Retry-After"]) > 0
        assert answer.json()["error"]["code"] == "rate_limited"


def _try_login(running: Running, username: str, password: str) -> dict[str, str] | None:
    with running.client("request") as client:
        answer = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
    if answer.status_code != 200:
        return None
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _import_batches(running: Running, network: str, headers: dict[str, str]) -> list[Any]:
    with running.client(network) as client:
        path = "/api/v1/admin/import-batches" if network == "request" else "/api/v1/batches"
        params = {"limit": 200} if network == "request" else {"direction": "import", "limit": 200}
        answer = client.get(path, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _archived_pair(running: Running, network: str, batch_type: str) -> tuple[Path, Path]:
    archive = running.data_dir / network / "inbox" / "archive"
    # A second arrival of the same batch is archived as ``<stem>~2``; take originals only.
    manifests = sorted(
        m for m in archive.glob(f"{batch_type}_*.manifest.json") if "~" not in m.name
    )
    assert manifests, f"no {batch_type} batch was archived on the {network} network"
    manifest = manifests[-1]
    return manifest, manifest.with_name(manifest.name.replace(".manifest.json", ".jsonl"))


def _drop_corrupted_copy(running: Running, network: str, batch_type: str) -> None:
    """A copy of an archived batch under a new batch id, one payload byte changed."""
    manifest, payload = _archived_pair(running, network, batch_type)
    stem = manifest.name.removesuffix(".manifest.json")
    old_id = stem[-36:]
    new_id = old_id[:-12] + "ffffffffffff"
    inbox = running.data_dir / network / "inbox"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0x01
    (inbox / f"{stem.replace(old_id, new_id)}.jsonl").write_bytes(bytes(data))
    renamed = resealed(json.loads(manifest.read_text().replace(old_id, new_id)))
    (inbox / f"{stem.replace(old_id, new_id)}.manifest.json").write_text(json.dumps(renamed))


def test_a_duplicate_batch_changes_nothing_and_a_corrupted_one_is_quarantined(
    airgap_up: Running,
) -> None:
    alice = airgap_up.login("request", "alice", DEMO_PASSWORD)
    request_admin = airgap_up.login("request", "admin", ADMIN_PASSWORD)
    response_admin = airgap_up.login("response", "admin", ADMIN_PASSWORD)
    with airgap_up.client("request") as client:
        request_id = submit(client, alice, "match", MATCH)
        assert wait_final(client, alice, request_id) == "completed"
        before = client.get(f"/api/v1/requests/{request_id}/response", headers=alice).json()

    # The same requests batch dropped in again: a duplicate, and nothing else changes.
    manifest, payload = _archived_pair(airgap_up, "response", "requests")
    inbox = airgap_up.data_dir / "response" / "inbox"
    shutil.copy(payload, inbox / payload.name)
    shutil.copy(manifest, inbox / manifest.name)
    wait_for(
        lambda: any(
            b.get("status") == "duplicate"
            for b in _import_batches(airgap_up, "response", response_admin)
        ),
        30,
        "the duplicate import recorded on the response network",
    )

    # Corrupted batches on both sides: quarantined with a reason, reported by each admin API.
    _drop_corrupted_copy(airgap_up, "response", "requests")
    _drop_corrupted_copy(airgap_up, "request", "responses")
    for network, headers in (("response", response_admin), ("request", request_admin)):
        quarantine = airgap_up.data_dir / network / "inbox" / "quarantine"
        reasons = wait_for(
            lambda q=quarantine: list(q.glob("*.reason.txt")), 30, f"{network} quarantine"
        )
        assert "checksum" in reasons[0].read_text()
        failed = wait_for(
            lambda n=network, h=headers: [
                b for b in _import_batches(airgap_up, n, h) if b.get("status") == "failed"
            ],
            30,
            f"the failed import in the {network} admin API",
        )
        assert "checksum" in str(failed[0])
    with airgap_up.client("response") as client:
        transfer = client.get("/api/v1/stats/transfer", headers=response_admin)
    assert transfer.status_code == 200
    assert "checksum" in transfer.text  # the quarantined file with its reason

    with airgap_up.client("request") as client:
        after = client.get(f"/api/v1/requests/{request_id}/response", headers=alice).json()
        assert after == before
        assert status(client, alice, request_id) == "completed"


def test_a_user_created_on_the_response_side_logs_in_on_the_request_side(
    airgap_up: Running,
) -> None:
    admin = airgap_up.login("response", "admin", ADMIN_PASSWORD)
    with airgap_up.client("response") as client:
        answer = client.post(
            "/api/v1/users",
            json={
                "username": "dave",
                "email": "dave@example.org",
                "password": "marble-harbour-97",
                "profile_type": "premium",
            },
            headers=admin,
        )
    assert answer.status_code == 201, answer.text
    headers = wait_for(
        lambda: _try_login(airgap_up, "dave", "marble-harbour-97"),
        60,
        "dave to reach the request network",
    )
    with airgap_up.client("request") as client:
        me = client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["username"] == "dave"
