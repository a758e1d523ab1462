"""A request crosses the gap and back through the real actors, jobs and use cases, on real
PostgreSQL, Redis and directories: submit → ``requests.export`` → carry →
``requests.import`` → ``queries.execute`` (embedded search engine) → ``results.export`` →
carry → ``results.import`` → the answer, as the request API shows it."""

from __future__ import annotations

import re
import socket

import httpx

from airgap.domain.model.batching import Network
from airgap.domain.model.requests import RequestStatus
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.entrypoints.worker.metrics import serve_metrics
from support.workers import KETTLES, Networks, Running, running_on_stub_brokers


def test_a_request_is_answered_through_the_actors_on_stub_brokers(running: Running) -> None:
    user = running.create_user()
    submitted = submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
    running.settle()  # the submit asked for requests.export: not a full batch, so it waits
    assert get_request(running.request.side, user.id, submitted.request.id).request.status is (
        RequestStatus.PENDING
    )

    running.send(Network.REQUEST, "requests.export", scope="all")  # as the scheduler does
    assert running.networks.carry_to_response().batches == 1
    running.send(Network.RESPONSE, "requests.import")  # → queries.execute → the search
    running.send(Network.RESPONSE, "results.export", scope="all")
    assert running.networks.carry_to_request().batches == 1
    running.send(Network.REQUEST, "results.import")

    view = get_request(running.request.side, user.id, submitted.request.id)
    assert view.request.status is RequestStatus.COMPLETED
    assert view.response is not None and view.response.status == "completed"
    assert view.response.result_data is not None
    hits = view.response.result_data["hits"]
    assert hits["total"]["value"] > 0
    assert all("kettle" in hit["_source"]["name"].lower() for hit in hits["hits"])
    assert view.response.metadata["backend"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_jobs_are_measured_and_served_on_metrics(running: Running) -> None:
    user = running.create_user()
    submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
    running.send(Network.REQUEST, "requests.export", scope="all")
    running.networks.carry_to_response()
    running.send(Network.RESPONSE, "requests.import")
    port = _free_port()
    serve_metrics(port, "127.0.0.1")
    page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for line in (
        'airgap_job_duration_seconds_count{job="requests.export",network="request"}',
        'airgap_records_exported_total{batch_type="requests",network="request"}',
        'airgap_records_imported_total{batch_type="requests",network="response",outcome="accepted"}',
        'airgap_batch_records_count{batch_type="requests",direction="import",network="response"}',
        'airgap_task_messages_total{actor="requests.import",network="response",outcome="done"}',
        "airgap_cache_hit_ratio",
    ):
        assert line in page, line
    # From the search engine or from the cache (tests share one Redis, and one query).
    assert re.search(
        r'airgap_queries_executed_total\{cache_hit="(true|false)",status="completed"\} [1-9]', page
    )


def test_with_a_low_event_bar_each_step_sends_its_batch_at_once(networks: Networks) -> None:
    """``AIRGAP_EVENT_EXPORT_MIN_RECORDS=1`` (what ``airgap up`` sets): a lone submission
    is exported by the submit's own trigger, and its result by the execution's, with no
    scheduled run."""
    eager = {"event_export_min_records": 1}
    with running_on_stub_brokers(
        networks, request_changes=eager, response_changes=eager
    ) as running:
        user = running.create_user()
        submitted = submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
        running.settle()  # the submit asked for requests.export, and one request is enough
        assert running.networks.carry_to_response().batches == 1
        running.send(Network.RESPONSE, "requests.import")  # → queries.execute → results.export
        assert running.networks.carry_to_request().batches == 1
        running.send(Network.REQUEST, "results.import")

        view = get_request(running.request.side, user.id, submitted.request.id)
        assert view.request.status is RequestStatus.COMPLETED
