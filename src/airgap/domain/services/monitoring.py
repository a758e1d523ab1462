"""What the response network's operators watch (SPEC §10 ``/stats/*``): the queue, the
workers, the search backend, the cache, and the crossing.

**Worker heartbeats.** Every worker process calls :func:`record_heartbeat` every few seconds
(``HEARTBEAT_INTERVAL``) with its name and the number of jobs it holds. The heartbeat is
stored with a time to live of three intervals (the Redis adapter keeps one key per worker,
``airgap:response:workers:<name>``, with that expiry, plus a sorted set of names), so a
killed worker disappears by itself within ~30 s; one that shuts down cleanly calls
``forget``. ``/stats/workers`` lists every heartbeat still alive and flags one older than
``HEARTBEAT_STALE_AFTER`` as stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from airgap.domain.model.caching import CachedResult
from airgap.domain.model.errors import SearchError
from airgap.domain.model.jobs import JobStatus
from airgap.domain.model.operations import (
    HEARTBEAT_STALE_AFTER,
    ExecutionSummary,
    QuarantinedFile,
    QueueBucket,
    TransferState,
    WorkerHeartbeat,
)
from airgap.ports.cache_admin import CacheUsage, QueryCacheInspector
from airgap.ports.clock import Clock
from airgap.ports.heartbeats import WorkerHeartbeats
from airgap.ports.operations import ResponseNetworkReadModel
from airgap.ports.quarantine import QuarantineView
from airgap.ports.search import SearchBackend

HEARTBEAT_INTERVAL = timedelta(seconds=10)
#: The statuses ``/stats/queue`` always reports, even at zero.
QUEUE_STATUSES = (JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.RETRY, JobStatus.FAILED)
SEARCH_PROBE_TIMEOUT_S = 5.0
TOP_QUERIES = 10


def record_heartbeat(
    heartbeats: WorkerHeartbeats,
    clock: Clock,
    worker: str,
    *,
    jobs_in_hand: int,
    started_at: datetime | None = None,
    queues: Sequence[str] = (),
    interval: timedelta = HEARTBEAT_INTERVAL,
    details: Mapping[str, Any] | None = None,
) -> WorkerHeartbeat:
    """A worker says it is alive; call it every ``interval`` (the beat lives three)."""
    heartbeat = WorkerHeartbeat(
        worker=worker,
        last_seen=clock.now(),
        jobs_in_hand=max(jobs_in_hand, 0),
        started_at=started_at,
        queues=tuple(queues),
        details=dict(details or {}),
    )
    heartbeats.beat(heartbeat, interval * 3)
    return heartbeat


@attrs.frozen
class StatusLine:
    """One status of the queue: how many jobs, how old the oldest, per priority."""

    status: str
    count: int
    oldest_imported_at: datetime | None
    oldest_age_seconds: float | None
    by_priority: Mapping[int, int]


@attrs.frozen
class QueueStats:
    statuses: tuple[StatusLine, ...]
    total: int
    waiting: int  # pending + retry: what the workers still have to run
    oldest_waiting_age_seconds: float | None
    measured_at: datetime


@attrs.frozen
class WorkerLine:
    heartbeat: WorkerHeartbeat
    alive: bool
    seconds_since_seen: float


@attrs.frozen
class WorkerStats:
    workers: tuple[WorkerLine, ...]
    alive: int
    jobs_in_hand: int
    processing_in_queue: int  # jobs the database says are being processed
    measured_at: datetime


@attrs.frozen
class IndexLine:
    name: str
    doc_count: int | None
    latency_ms: float | None
    error: str | None = None


@attrs.frozen
class SearchStats:
    backend: str
    healthy: bool
    indices: tuple[IndexLine, ...]
    recent: ExecutionSummary  # queries executed over the last hour
    measured_at: datetime


@attrs.frozen
class CacheStats:
    usage: CacheUsage
    recent: ExecutionSummary  # results over the last day: their cache-hit ratio
    top: tuple[CachedResult, ...]
    measured_at: datetime

    @property
    def hit_ratio(self) -> float | None:
        """Of the queries executed over the last day, the share answered from the cache."""
        return self.recent.hit_ratio


@attrs.frozen
class TransferStats:
    state: TransferState
    quarantined: tuple[QuarantinedFile, ...]
    measured_at: datetime


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max((now - then).total_seconds(), 0.0)


@attrs.frozen
class Monitoring:
    """Assembles the ``/stats`` views from the read side and the live components."""

    read: ResponseNetworkReadModel
    heartbeats: WorkerHeartbeats
    quarantine: QuarantineView
    search: SearchBackend
    indices: Callable[[], Sequence[str]]
    cache: QueryCacheInspector
    clock: Clock

    def queue(self) -> QueueStats:
        now = self.clock.now()
        buckets = self.read.queue()
        lines = []
        statuses = [s.value for s in QUEUE_STATUSES]
        statuses += sorted({b.status for b in buckets} - set(statuses))
        for status in statuses:
            mine = [b for b in buckets if b.status == status]
            oldest = min((b.oldest_imported_at for b in mine if b.oldest_imported_at), default=None)
            lines.append(
                StatusLine(
                    status=status,
                    count=sum(b.count for b in mine),
                    oldest_imported_at=oldest,
                    oldest_age_seconds=_age(now, oldest),
                    by_priority={b.priority: b.count for b in sorted(mine, key=_by_priority)},
                )
            )
        waiting = [b for b in buckets if b.status in (JobStatus.PENDING, JobStatus.RETRY)]
        oldest_waiting = min(
            (b.oldest_imported_at for b in waiting if b.oldest_imported_at), default=None
        )
        return QueueStats(
            statuses=tuple(lines),
            total=sum(b.count for b in buckets),
            waiting=sum(b.count for b in waiting),
            oldest_waiting_age_seconds=_age(now, oldest_waiting),
            measured_at=now,
        )

    def workers(self, stale_after: timedelta = HEARTBEAT_STALE_AFTER) -> WorkerStats:
        now = self.clock.now()
        lines = tuple(
            WorkerLine(h, h.alive_at(now, stale_after), _age(now, h.last_seen) or 0.0)
            for h in sorted(self.heartbeats.recent(), key=lambda h: h.worker)
        )
        processing = sum(
            b.count for b in self.read.queue() if b.status == JobStatus.PROCESSING.value
        )
        return WorkerStats(
            workers=lines,
            alive=sum(1 for line in lines if line.alive),
            jobs_in_hand=sum(line.heartbeat.jobs_in_hand for line in lines if line.alive),
            processing_in_queue=processing,
            measured_at=now,
        )

    def search_stats(self) -> SearchStats:
        """Probes every index with a zero-size ``match_all`` (its document count and the
        round trip), through the same port the workers use."""
        now = self.clock.now()
        try:
            healthy = bool(self.search.healthy())
        except Exception:  # a monitoring probe reports, it never fails
            healthy = False
        lines = tuple(self._probe(name) for name in self.indices())
        return SearchStats(
            backend=self.search.name,
            healthy=healthy,
            indices=lines,
            recent=self.read.execution_summary(now - timedelta(hours=1)),
            measured_at=now,
        )

    def _probe(self, index: str) -> IndexLine:
        started = time.perf_counter()
        try:
            result = self.search.search(
                index,
                {"query": {"match_all": {}}, "size": 0},
                timeout_s=SEARCH_PROBE_TIMEOUT_S,
            )
        except SearchError as error:
            return IndexLine(index, None, None, error=str(error))
        elapsed = (time.perf_counter() - started) * 1000
        return IndexLine(index, result.total, round(elapsed, 3))

    def cache_stats(self) -> CacheStats:
        now = self.clock.now()
        return CacheStats(
            usage=self.cache.usage(now),
            recent=self.read.execution_summary(now - timedelta(days=1)),
            top=self.cache.entries(now, limit=TOP_QUERIES).items,
            measured_at=now,
        )

    def transfer(self) -> TransferStats:
        return TransferStats(
            state=self.read.transfer(),
            quarantined=tuple(self.quarantine.files()),
            measured_at=self.clock.now(),
        )


def _by_priority(bucket: QueueBucket) -> int:
    return -bucket.priority
