"""Operations through the API on the real adapters: retry, re-export, the cache, dead letters,
worker heartbeats in Redis, quarantined files on disk, and what each leaves in the log."""

from __future__ import annotations

from airgap.domain.services.execute_queries import EXPORT_TASK, execute_available
from airgap.domain.services.monitoring import record_heartbeat
from airgap.domain.services.response_transfer import EXECUTE_TASK, export_results
from integration.response_api.conftest import ResponseApi
from integration.response_api.world import MATCH, build_world


def test_retry_withdraws_the_unsent_failure_and_refuses_once_it_crossed(api: ResponseApi) -> None:
    world = build_world(api.container)
    api.tasks.drain()
    path = f"/api/v1/incoming-requests/{world.failed.id}"
    detail = api.client.get(path, headers=api.as_operator).json()
    assert detail["job"]["status"] == "failed" and len(detail["results"]) == 1
    retried = api.client.post(f"{path}/retry", headers=api.as_admin)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert api.tasks.drain() == [(EXECUTE_TASK, {})]
    assert api.client.get(path, headers=api.as_operator).json()["results"] == []
    again = api.client.post(f"{path}/retry", headers=api.as_admin)
    assert again.status_code == 409 and "pending" in again.json()["error"]["message"]
    # It fails again (the index is still not allowed here); this time the failure crosses.
    execute_available(api.container.side(), "w")
    export_results(api.container.side())
    refused = api.client.post(f"{path}/retry", headers=api.as_admin)
    assert refused.status_code == 409 and "already exported" in refused.json()["error"]["message"]


def test_reexport_puts_the_results_back_in_line_once(api: ResponseApi) -> None:
    world = build_world(api.container)
    api.tasks.drain()
    path = f"/api/v1/batches/{world.responses_batch}"
    answer = api.client.post(f"{path}/re-export", headers=api.as_admin)
    assert answer.status_code == 202, answer.text
    assert answer.json()["records"] == 1 and answer.json()["batch"]["status"] == "resent"
    assert api.tasks.drain() == [(EXPORT_TASK, {})]
    # The answer again, the failure the world left unexported, and the import report of the
    # world's requests batch.
    [manifest] = export_results(api.container.side())
    assert manifest.record_count == 3
    assert api.client.post(f"{path}/re-export", headers=api.as_admin).status_code == 409
    listed = api.client.get(
        "/api/v1/batches?direction=export&batch_type=responses", headers=api.as_operator
    ).json()
    assert listed["total"] == 2 and listed["items"][0]["sequence"] == 3


def test_result_detail_has_a_preview_and_execution_details(api: ResponseApi) -> None:
    world = build_world(api.container)
    detail = api.client.get(f"/api/v1/results/{world.result_id}", headers=api.as_operator).json()
    assert detail["result"]["status"] == "completed" and detail["result_data"] is None
    assert len(detail["preview"]["hits"]) <= 3 and detail["execution"]["backend"] == "tantivy"
    assert detail["execution"]["attempts"] == 1 and detail["execution"]["worker"] == "test-worker"
    full = api.client.get(
        f"/api/v1/results/{world.result_id}?include_data=true", headers=api.as_operator
    ).json()
    assert "hits" in full["result_data"]


def test_cache_list_warm_and_invalidate(api: ResponseApi) -> None:
    build_world(api.container)
    listed = api.client.get("/api/v1/cache", headers=api.as_operator).json()
    assert listed["total"] == 1
    warm = api.client.post(
        "/api/v1/cache/warm",
        headers=api.as_admin,
        json={"query_type": "match", "query_params": {**MATCH, "size": 5}},
    )
    assert warm.status_code == 200 and warm.json()["index"] == "products"
    stats = api.client.get("/api/v1/stats/cache", headers=api.as_operator).json()
    assert stats["entries"] == 2 and stats["last_day"]["executed"] == 2
    refused = api.client.post(
        "/api/v1/cache/warm",
        headers=api.as_admin,
        json={
            "query_type": "match",
            "query_params": {"index": "secret", "query": {"match_all": {}}},
        },
    )
    assert refused.status_code == 422 and refused.json()["error"]["details"]["path"] == "index"
    cleared = api.client.delete("/api/v1/cache", headers=api.as_admin)
    assert cleared.json() == {"removed": 2}
    gone = api.client.delete(f"/api/v1/cache/{warm.json()['key']}", headers=api.as_admin)
    assert gone.status_code == 404


def test_dead_letter_retry_sends_the_message_once(api: ResponseApi) -> None:
    world = build_world(api.container)
    api.tasks.drain()
    path = f"/api/v1/dead-letters/{world.letter.id}"
    retried = api.client.post(f"{path}/retry", headers=api.as_admin)
    assert retried.status_code == 200 and retried.json()["retried_at"]
    assert api.tasks.drain() == [("results.export", {"reason": "test"})]
    assert api.client.post(f"{path}/retry", headers=api.as_admin).status_code == 409
    listed = api.client.get("/api/v1/dead-letters?retried=true", headers=api.as_operator).json()
    assert listed["total"] == 1
    assert api.client.delete(path, headers=api.as_admin).status_code == 204
    assert api.client.delete(path, headers=api.as_admin).status_code == 404
    audit = api.client.get("/api/v1/logs?component=audit", headers=api.as_operator).json()
    assert {"dead_letter.retry", "dead_letter.discard"} <= {
        e["details"]["action"] for e in audit["items"]
    }


def test_workers_queue_and_transfer_stats(api: ResponseApi) -> None:
    world = build_world(api.container)
    container = api.container
    record_heartbeat(container.heartbeats(), container.transfer.clock(), "host:42", jobs_in_hand=2)
    workers = api.client.get("/api/v1/stats/workers", headers=api.as_operator).json()
    assert [(w["worker"], w["alive"], w["jobs_in_hand"]) for w in workers["workers"]] == [
        ("host:42", True, 2)
    ]
    queue = api.client.get("/api/v1/stats/queue", headers=api.as_operator).json()
    lines = {line["status"]: line for line in queue["statuses"]}
    assert lines["pending"]["count"] == 1 and lines["pending"]["by_priority"] == {"3": 1}
    assert lines["failed"]["count"] == 1 and lines["completed"]["count"] == 1
    quarantine = container.settings().inbox / "quarantine"
    quarantine.mkdir(parents=True)
    (quarantine / "requests_20260101_000000_x.reason.txt").write_text("checksum mismatch\n")
    transfer = api.client.get("/api/v1/stats/transfer", headers=api.as_operator).json()
    assert transfer["outbound"]["last_sequence"] == 2 and transfer["awaiting_ack"] == 2
    assert transfer["inbound"]["missing"] == []
    assert [q["reason"] for q in transfer["quarantined"]] == ["checksum mismatch"]
    assert world.import_batch
