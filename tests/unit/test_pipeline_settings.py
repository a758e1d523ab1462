"""The pipeline's settings and the rules its jobs follow, without servers: settings from
the environment (every one documented), which failures are retried, the health thresholds,
the request archive and batch-file pruning, the webhook directory, and the memory backlog."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import exc as sa

from airgap.adapters.filesystem.retention import (
    JsonlRequestArchive,
    is_batch_file,
    prune_batch_files,
)
from airgap.adapters.memory.backlog import MemoryRequestBacklog
from airgap.adapters.memory.clock import FakeClock
from airgap.adapters.memory.store import MemoryRequestStore
from airgap.adapters.webhook.notifier import FileWebhooks
from airgap.domain.model.batching import Network
from airgap.domain.model.errors import PermanentSearchError, TransientSearchError
from airgap.domain.model.health import HealthReadings, HealthThresholds, assess
from airgap.domain.model.requests import RequestStatus, Response, SearchRequest
from airgap.entrypoints.bootstrap.settings import SETTINGS_TABLE, SettingsError
from airgap.entrypoints.worker.config import VARIABLES, PipelineSettings
from airgap.entrypoints.worker.errors import RetryLater, is_transient, retry_when
from airgap.ports.notifications import DeliveryFailed
from airgap.ports.retention import ArchivedRequest

STEM = "requests_20260101_000000_00000000-0000-0000-0000-000000000001"


def test_every_pipeline_setting_is_documented() -> None:
    documented = {s.name.removeprefix("AIRGAP_") for s in SETTINGS_TABLE}
    assert set(VARIABLES) <= documented


def test_defaults_are_the_seeds() -> None:
    request = PipelineSettings.from_env(Network.REQUEST, {})
    response = PipelineSettings.from_env(Network.RESPONSE, {})
    assert request.schedules.export == timedelta(minutes=2)
    assert request.schedules.import_ == timedelta(seconds=30)
    assert request.schedules.cleanup_cron == "0 2 * * *"
    assert response.schedules.health == timedelta(minutes=5)
    assert response.schedules.cache_cron == "0 * * * *"
    assert response.executor_threads == 8
    assert request.retention.requests == timedelta(days=30)
    assert request.retention.outbox == timedelta(days=7)
    assert request.notify_webhooks is None  # notifications are off by default
    assert response.health == HealthThresholds(80.0, 90.0, 1000)
    assert (request.metrics_port, response.metrics_port) == (9464, 9465)
    assert request.namespace == response.namespace == "dramatiq"  # each has its own Redis
    env = {"AIRGAP_REQUEST_BROKER_NAMESPACE": "q-request"}
    assert PipelineSettings.from_env(Network.REQUEST, env).namespace == "q-request"


def test_a_network_specific_setting_wins() -> None:
    env = {"AIRGAP_WORKER_THREADS": "3", "AIRGAP_RESPONSE_WORKER_THREADS": "5"}
    assert PipelineSettings.from_env(Network.REQUEST, env).threads == 3
    assert PipelineSettings.from_env(Network.RESPONSE, env).threads == 5
    assert (
        PipelineSettings.from_env(Network.RESPONSE, {"AIRGAP_METRICS_PORT": "0"}).metrics_port
        is None
    )


@pytest.mark.parametrize(
    ("raw", "full_batch", "bar"),
    [(None, 500, 500), ("0", 500, 500), ("1", 500, 1), ("50", 500, 50), ("900", 500, 500)],
)
def test_an_event_triggered_export_waits_for_a_full_batch_unless_told(
    raw: str | None, full_batch: int, bar: int
) -> None:
    env = {} if raw is None else {"AIRGAP_EVENT_EXPORT_MIN_RECORDS": raw}
    settings = PipelineSettings.from_env(Network.REQUEST, env)
    assert settings.event_export_threshold(full_batch) == bar


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AIRGAP_WORKER_THREADS", "0"),
        ("AIRGAP_EXPORT_INTERVAL_SECONDS", "soon"),
        ("AIRGAP_CLEANUP_CRON", "at two"),
        ("AIRGAP_HEALTH_DISK_PERCENT", "120"),
        ("AIRGAP_WATCH_POLLING", "perhaps"),
        ("AIRGAP_EVENT_EXPORT_MIN_RECORDS", "-1"),
        ("AIRGAP_EVENT_EXPORT_MIN_RECORDS", "a few"),
    ],
)
def test_a_bad_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        PipelineSettings.from_env(Network.REQUEST, {name: value})


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (sa.OperationalError("SELECT 1", {}, Exception("server closed the connection")), True),
        (redis.ConnectionError("refused"), True),
        (TransientSearchError("timed out"), True),
        (OSError(28, "No space left on device"), True),
        (RetryLater("lock busy"), True),
        (DeliveryFailed("503", transient=True), True),
        (DeliveryFailed("404", transient=False), False),
        (PermanentSearchError("no such index"), False),
        (ValueError("badly formed hexadecimal UUID string"), False),
        (sa.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
    ],
)
def test_only_transient_failures_are_retried(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient
    decide = retry_when(3)
    assert decide(0, error) is transient
    assert decide(3, error) is False  # bounded


def test_health_alerts_name_what_crossed_its_threshold() -> None:
    report = assess(
        HealthReadings(81.0, 50.0, 1001, {"database": None, "search": "timed out"}),
        HealthThresholds(),
    )
    assert not report.healthy
    assert [a.split(" ")[0] for a in report.alerts] == ["disk", "queue", "search"]
    assert assess(HealthReadings(80.0, 90.0, 1000), HealthThresholds()).healthy  # at = fine


def _old_request(now: datetime) -> ArchivedRequest:
    request = SearchRequest.submit(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        query_type="match",
        query_params={"index": "products", "query": {"match": {"name": "kettle"}}},
        query_hash="0" * 64,
        priority=5,
        now=now,
        ttl=timedelta(days=7),
    )
    request.cancel(now)
    answer = Response(request.id, "completed", {"hits": {}}, 0, 3, now, metadata={"n": 10**30})
    return ArchivedRequest(request, answer)


def test_the_archive_writes_complete_json_lines(tmp_path: Path) -> None:
    clock = FakeClock()
    archive = JsonlRequestArchive(tmp_path / "archive", clock)
    items = [_old_request(clock.now()) for _ in range(3)]
    archive.keep(items)
    archive.keep([])  # nothing: no file
    [written] = list((tmp_path / "archive").iterdir())
    assert written.name.startswith("requests_archive_") and written.suffix == ".jsonl"
    lines = [json.loads(line) for line in written.read_text().splitlines()]
    assert [line["request"]["id"] for line in lines] == [str(i.request.id) for i in items]
    assert lines[0]["request"]["status"] == RequestStatus.CANCELLED.value
    assert lines[0]["response"]["metadata"]["n"] == 10**30  # big integers kept exactly


def test_pruning_deletes_only_old_batch_files(tmp_path: Path) -> None:
    old = [tmp_path / f"{STEM}.jsonl", tmp_path / f"{STEM}~2.manifest.json"]
    young = tmp_path / f"{STEM.replace('001', '002')}.manifest.json"
    other = tmp_path / "README.txt"
    for path in (*old, young, other):
        path.write_bytes(b"x" * 10)
    then = time.time() - 8 * 86_400
    for path in (*old, other):
        os.utime(path, (then, then))
    report = prune_batch_files(tmp_path, datetime.now(UTC) - timedelta(days=7))
    assert (report.files, report.bytes) == (2, 20)
    assert not any(p.exists() for p in old)
    assert young.exists() and other.exists()
    assert is_batch_file(f"{STEM}.jsonl.enc") and not is_batch_file(f"{STEM}.reason.txt")
    assert prune_batch_files(tmp_path / "missing", datetime.now(UTC)).files == 0


def test_the_webhook_directory(tmp_path: Path) -> None:
    user = uuid.uuid4()
    path = tmp_path / "hooks.json"
    path.write_text(json.dumps({"alice": "https://a.example/h", str(user): "http://b.example/h"}))
    hooks = FileWebhooks.load(path)
    assert hooks.url_for(uuid.uuid4(), "alice") == "https://a.example/h"
    assert hooks.url_for(user, "bob") == "http://b.example/h"
    assert hooks.url_for(uuid.uuid4(), "carol") is None
    path.write_text(json.dumps({"alice": "ftp://a.example/h"}))
    with pytest.raises(ValueError, match="alice"):
        FileWebhooks.load(path)


def test_the_memory_backlog_counts_up_to_its_cap() -> None:
    store = MemoryRequestStore()
    backlog = MemoryRequestBacklog(store)
    with store.unit_of_work() as uow:
        for _ in range(5):
            item = _old_request(datetime.now(UTC)).request
            item.status = RequestStatus.PENDING
            uow.requests.add(item)
        uow.commit()
    assert backlog.pending_requests(3) == 3
    assert backlog.pending_requests(500) == 5
