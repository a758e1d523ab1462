"""The ``/stats`` views on the in-memory adapters: queue, workers, search, cache, transfer."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from airgap.adapters.memory.operations import (
    MemoryQuarantine,
    MemoryResponseReadModel,
    MemoryWorkerHeartbeats,
)
from airgap.domain.model.errors import ValidationFailed
from airgap.domain.model.operations import QuarantinedFile
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.monitoring import Monitoring, record_heartbeat
from airgap.domain.services.requests import SubmitRequest, submit_request
from airgap.entrypoints.bootstrap.memory import MemorySystem
from support.pipeline import MATCH_KETTLE, back, forward


@pytest.fixture
def monitoring(system: MemorySystem) -> Monitoring:
    return Monitoring(
        read=MemoryResponseReadModel(system.response_store),
        heartbeats=MemoryWorkerHeartbeats(system.clock),
        quarantine=MemoryQuarantine(),
        search=system.search,
        indices=lambda: ["products", "missing"],
        cache=system.response.cache,  # type: ignore[arg-type]
        clock=system.clock,
    )


def submit(system: MemorySystem, user: uuid.UUID, priority: int = 5) -> None:
    submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE, priority=priority))


def test_queue_counts_by_status_and_priority_with_the_oldest_age(
    system: MemorySystem, user: uuid.UUID, monitoring: Monitoring
) -> None:
    submit(system, user, 5)
    submit(system, user, 3)
    forward(system)
    system.clock.advance(90)
    stats = monitoring.queue()
    pending = next(line for line in stats.statuses if line.status == "pending")
    assert pending.count == 2 and dict(pending.by_priority) == {5: 1, 3: 1}
    assert pending.oldest_age_seconds == 90
    assert [line.status for line in stats.statuses][:4] == [
        "pending",
        "processing",
        "retry",
        "failed",
    ]
    assert stats.waiting == 2 and stats.oldest_waiting_age_seconds == 90
    execute_available(system.response, "w1")
    after = monitoring.queue()
    assert after.waiting == 0
    assert next(x for x in after.statuses if x.status == "completed").count == 2


def test_workers_are_seen_through_heartbeats_that_expire(
    system: MemorySystem, monitoring: Monitoring
) -> None:
    started = system.clock.now()
    record_heartbeat(
        monitoring.heartbeats, system.clock, "host:1", jobs_in_hand=2, started_at=started
    )
    record_heartbeat(monitoring.heartbeats, system.clock, "host:2", jobs_in_hand=1)
    stats = monitoring.workers()
    assert [w.heartbeat.worker for w in stats.workers] == ["host:1", "host:2"]
    assert stats.alive == 2 and stats.jobs_in_hand == 3
    system.clock.advance(timedelta(seconds=20))
    record_heartbeat(monitoring.heartbeats, system.clock, "host:2", jobs_in_hand=0)
    system.clock.advance(timedelta(seconds=15))  # host:1 last beat 35 s ago: its 30 s TTL ran out
    stats = monitoring.workers()
    assert [w.heartbeat.worker for w in stats.workers] == ["host:2"]
    monitoring.heartbeats.forget("host:2")
    assert monitoring.workers().workers == ()


def test_search_stats_probe_every_index(
    system: MemorySystem, user: uuid.UUID, monitoring: Monitoring
) -> None:
    submit(system, user)
    forward(system)
    execute_available(system.response, "w1")
    stats = monitoring.search_stats()
    assert stats.backend == "memory" and stats.healthy
    products, missing = stats.indices
    assert products.name == "products" and products.doc_count == 3 and products.error is None
    assert missing.doc_count is None and missing.error
    assert stats.recent.executed == 1 and stats.recent.p95_ms is not None


def test_cache_stats_report_hits_and_top_queries(
    system: MemorySystem, user: uuid.UUID, monitoring: Monitoring
) -> None:
    for _ in range(3):
        submit(system, user)
    forward(system)
    execute_available(system.response, "w1")
    stats = monitoring.cache_stats()
    assert stats.usage.entries == 1 and stats.usage.hits == 2 and stats.usage.misses == 1
    assert stats.recent.executed == 3 and stats.hit_ratio == pytest.approx(2 / 3)
    assert [e.hit_count for e in stats.top] == [2]


def test_transfer_stats_show_sequences_missing_and_quarantine(
    system: MemorySystem, user: uuid.UUID, monitoring: Monitoring
) -> None:
    submit(system, user)
    forward(system)
    execute_available(system.response, "w1")
    back(system)
    quarantine = monitoring.quarantine
    assert isinstance(quarantine, MemoryQuarantine)
    quarantine.quarantined.append(
        QuarantinedFile("requests_x", "checksum mismatch", system.clock.now(), 10)
    )
    stats = monitoring.transfer()
    assert stats.state.outbound.last_sequence == 2  # users snapshot, then the responses
    assert stats.state.inbound.received.highest == 1
    assert stats.state.missing == ()
    assert stats.state.awaiting_ack == 1  # the users batch was acknowledged by the requests
    assert [f.reason for f in stats.quarantined] == ["checksum mismatch"]


def test_read_model_lists_filter_sort_and_page(
    system: MemorySystem, user: uuid.UUID, monitoring: Monitoring
) -> None:
    for priority in (2, 5, 4):
        submit(system, user, priority)
    forward(system)
    read = monitoring.read
    page = read.jobs(sort="-priority", limit=2)
    assert page.total == 3 and [j.priority for j in page.items] == [5, 4]
    assert [j.priority for j in read.jobs(sort="-priority", offset=2).items] == [2]
    assert read.jobs(status="completed").total == 0
    with pytest.raises(ValidationFailed, match="sort"):
        read.jobs(sort="secret")
    with pytest.raises(ValidationFailed, match="limit"):
        read.jobs(limit=0)
    assert read.users(search="ALI").total == 1
    assert read.import_batches(batch_type="requests").total == 1
    assert read.export_batches(batch_type="users").total == 1
    execute_available(system.response, "w1")
    [job] = read.jobs(sort="priority", limit=1).items
    assert [r.job_id for r in read.results_of_job(job.id)] == [job.id]
    assert read.results(cache_hit=True).total == 2
