"""The scheduler fires each job when its trigger says (checked on a clock of our choosing,
and for real with APScheduler's run-now), and the inbox watcher asks for an import within a
second of a batch landing — with inotify and with polling."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from airgap.adapters.memory.tasks import MemoryTaskQueue
from airgap.adapters.postgres.unit_of_work import PostgresResponseStore
from airgap.domain.model.batching import Network
from airgap.domain.model.requests import RequestStatus
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.entrypoints.worker.config import PipelineSettings
from airgap.entrypoints.worker.logs import get_logger
from airgap.entrypoints.worker.scheduler import (
    IMPORT_TASKS,
    PipelineScheduler,
    schedule_for,
)
from airgap.entrypoints.worker.watcher import InboxWatcher
from support.workers import KETTLES, Running, wait_for

LOG = get_logger("test")
NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


def test_the_default_schedules_on_a_fixed_clock() -> None:
    request = PipelineScheduler(
        schedule_for(Network.REQUEST, PipelineSettings(Network.REQUEST), start=NOW),
        MemoryTaskQueue(),
        log=LOG,
    )
    response = PipelineScheduler(
        schedule_for(Network.RESPONSE, PipelineSettings(Network.RESPONSE), start=NOW),
        MemoryTaskQueue(),
        log=LOG,
    )
    assert request.next_fire_times(NOW) == {
        "export": NOW + timedelta(minutes=2),
        "import": NOW + timedelta(seconds=30),
        "resend": NOW + timedelta(minutes=5),
        "cleanup": datetime(2026, 3, 15, 2, 0, tzinfo=UTC),  # the next 02:00
    }
    assert response.next_fire_times(NOW) == {
        "import": NOW + timedelta(seconds=30),
        "export": NOW + timedelta(minutes=2),
        "users": NOW + timedelta(minutes=5),
        "resend": NOW + timedelta(minutes=5),
        "cache": datetime(2026, 3, 14, 16, 0, tzinfo=UTC),  # hourly
        "health": NOW + timedelta(minutes=5),
    }
    tasks = {e.task for e in request.entries.values()} | {e.task for e in response.entries.values()}
    assert tasks == {
        "requests.export", "results.import", "requests.resend", "maintenance.cleanup",
        "requests.import", "results.export", "users.export", "results.resend",
        "cache.maintain", "health.check",
    }  # fmt: skip
    assert request.entries["export"].kwargs == {"scope": "all"}


def test_schedules_follow_the_settings() -> None:
    pipeline = PipelineSettings.from_env(
        Network.REQUEST,
        {"AIRGAP_EXPORT_INTERVAL_SECONDS": "7", "AIRGAP_REQUEST_CLEANUP_CRON": "30 3 * * *"},
    )
    scheduler = PipelineScheduler(
        schedule_for(Network.REQUEST, pipeline, start=NOW), MemoryTaskQueue(), log=LOG
    )
    fires = scheduler.next_fire_times(NOW)
    assert fires["export"] == NOW + timedelta(seconds=7)
    assert fires["cleanup"] == datetime(2026, 3, 15, 3, 30, tzinfo=UTC)


def test_a_scheduled_export_fires_and_the_worker_exports(running: Running) -> None:
    user = running.create_user()
    submitted = submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
    entries = schedule_for(Network.REQUEST, running.request.pipeline)
    scheduler = PipelineScheduler(entries, running.request.tasks, log=LOG)
    scheduler.start()
    try:
        scheduler.run_now("export")

        def written() -> bool:
            outbox = running.networks.request.outbox
            return any(p.name.endswith(".manifest.json") for p in outbox.iterdir())

        wait_for(written, timeout=10, what="the scheduled export")
    finally:
        scheduler.shutdown()
    view = get_request(running.request.side, user.id, submitted.request.id)
    assert view.request.status is RequestStatus.EXPORTED


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_the_watcher_imports_a_batch_within_a_second_of_it_landing(
    running: Running, polling: bool
) -> None:
    user = running.create_user()
    submit_request(running.request.side, SubmitRequest(user.id, "match", KETTLES))
    running.send(Network.REQUEST, "requests.export", scope="all")
    tasks = running.response.tasks
    watcher = InboxWatcher(
        running.networks.response.inbox,
        lambda: tasks.enqueue(IMPORT_TASKS[Network.RESPONSE]),
        log=LOG,
        polling=polling,
    )
    watcher.start()
    store = running.response.container.store()
    assert isinstance(store, PostgresResponseStore)

    def imported() -> bool:
        with store.unit_of_work() as uow:
            return bool(uow.jobs.all())

    try:
        time.sleep(0.3)  # let the watch begin
        landed = time.monotonic()
        assert running.networks.carry_to_response().batches == 1
        wait_for(imported, timeout=5, interval=0.01, what="the import")
        elapsed = time.monotonic() - landed
    finally:
        watcher.stop()
        watcher.join(3)
    assert watcher.mode == ("polling" if polling else "inotify")
    assert elapsed < 1.0
