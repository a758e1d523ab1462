"""In-memory read side, dead letters, heartbeats and quarantine for the response network:
for unit tests of the monitoring and operations use cases, and for embedding.

The read model reads what the store has committed (through a unit of work it never commits),
with the same filters, sorts and paging rules as the PostgreSQL read model.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from airgap.adapters.memory.store import MemoryResponseStore
from airgap.domain.model.batching import (
    Channel,
    ExportBatch,
    ExportStatus,
    ImportBatch,
    Network,
)
from airgap.domain.model.errors import ValidationFailed
from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.operations import (
    DeadLetter,
    ExecutionSummary,
    Page,
    QuarantinedFile,
    QueueBucket,
    SystemLogRecord,
    TransferState,
    WorkerHeartbeat,
    percentile,
)
from airgap.domain.model.users import User
from airgap.ports.clock import Clock
from airgap.ports.operations import (
    BATCH_SORTS,
    JOB_SORTS,
    LOG_SORTS,
    MAX_PAGE,
    RESULT_SORTS,
    USER_SORTS,
)

T = TypeVar("T")


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise ValidationFailed("offset must not be negative")


def _page(
    rows: Iterable[T],
    sort: str,
    allowed: Sequence[str],
    limit: int,
    offset: int,
    field: Callable[[T, str], Any],
    tie: Callable[[T], Any],
) -> Page[T]:
    check_page(limit, offset)
    descending = sort.startswith("-")
    name = sort.removeprefix("-")
    if name not in allowed:
        raise ValidationFailed(f"cannot sort by {name!r}; choose one of {', '.join(allowed)}")
    # None sorts last ascending, first descending (as PostgreSQL does).
    items = sorted(
        rows,
        key=lambda r: (field(r, name) is None, field(r, name) or 0, tie(r)),
        reverse=descending,
    )
    return Page(tuple(items[offset : offset + limit]), len(items), limit, offset)


def _attr(row: Any, name: str) -> Any:
    value = getattr(row, name)
    return value.value if hasattr(value, "value") else value


def _within(value: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    if value is None:
        return since is None and until is None
    return (since is None or value >= since) and (until is None or value < until)


class MemoryResponseReadModel:
    """``ResponseNetworkReadModel`` over a :class:`MemoryResponseStore`."""

    def __init__(self, store: MemoryResponseStore) -> None:
        self._store = store

    def _jobs(self) -> list[QueryJob]:
        with self._store.unit_of_work() as uow:
            return uow.jobs.all()

    def _results(self) -> list[QueryResult]:
        with self._store.unit_of_work() as uow:
            return uow.results.all()

    def queue(self) -> Sequence[QueueBucket]:
        groups: dict[tuple[str, int], list[QueryJob]] = {}
        for job in self._jobs():
            groups.setdefault((job.status.value, job.priority), []).append(job)
        return [
            QueueBucket(status, priority, len(jobs), min(j.imported_at for j in jobs))
            for (status, priority), jobs in sorted(groups.items())
        ]

    def jobs(
        self,
        *,
        status: str | None = None,
        user_id: uuid.UUID | None = None,
        import_batch_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-imported_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[QueryJob]:
        rows = [
            j
            for j in self._jobs()
            if (status is None or j.status.value == status)
            and (user_id is None or j.user_id == user_id)
            and (import_batch_id is None or j.import_batch_id == import_batch_id)
            and _within(j.imported_at, since, until)
        ]
        return _page(rows, sort, JOB_SORTS, limit, offset, _attr, lambda j: j.id)

    def job(self, job_id: uuid.UUID) -> QueryJob | None:
        return next((j for j in self._jobs() if j.id == job_id), None)

    def results(
        self,
        *,
        status: str | None = None,
        exported: bool | None = None,
        cache_hit: bool | None = None,
        index: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-executed_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[QueryResult]:
        rows = [
            r
            for r in self._results()
            if (status is None or r.status == status)
            and (exported is None or (r.export_batch_id is not None) == exported)
            and (cache_hit is None or r.cache_hit == cache_hit)
            and (index is None or r.index == index)
            and _within(r.executed_at, since, until)
        ]
        return _page(rows, sort, RESULT_SORTS, limit, offset, _attr, lambda r: r.id)

    def result(self, result_id: uuid.UUID) -> QueryResult | None:
        return next((r for r in self._results() if r.id == result_id), None)

    def results_of_job(self, job_id: uuid.UUID) -> Sequence[QueryResult]:
        mine = [r for r in self._results() if r.job_id == job_id]
        return sorted(mine, key=lambda r: (r.executed_at, r.id), reverse=True)

    def execution_summary(self, since: datetime) -> ExecutionSummary:
        rows = [r for r in self._results() if r.executed_at >= since]
        times = [r.execution_time_ms for r in rows if r.execution_time_ms is not None]
        return ExecutionSummary(
            since=since,
            executed=len(rows),
            completed=sum(1 for r in rows if r.status == "completed"),
            failed=sum(1 for r in rows if r.status == "failed"),
            cache_hits=sum(1 for r in rows if r.cache_hit),
            p50_ms=percentile(times, 0.5),
            p95_ms=percentile(times, 0.95),
            max_ms=max(times, default=None),
        )

    def system_logs(
        self,
        *,
        level: str | None = None,
        component: str | None = None,
        request_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[SystemLogRecord]:
        with self._store.unit_of_work() as uow:
            entries = uow.system_logs.entries()
        rows = [
            SystemLogRecord(number, entry)
            for number, entry in enumerate(entries, start=1)
            if (level is None or entry.level.value == level)
            and (component is None or entry.component == component)
            and (request_id is None or entry.request_id == request_id)
            and _within(entry.created_at, since, until)
        ]
        return _page(
            rows, sort, LOG_SORTS, limit, offset, lambda r, n: _attr(r.entry, n), lambda r: r.id
        )

    def export_batches(
        self,
        *,
        batch_type: str | None = None,
        status: str | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ExportBatch]:
        with self._store.unit_of_work() as uow:
            rows = [
                b
                for b in uow.export_batches.all()
                if (batch_type is None or b.batch_type.value == batch_type)
                and (status is None or b.status.value == status)
            ]
        return _page(rows, sort, BATCH_SORTS, limit, offset, _attr, lambda b: b.id)

    def import_batches(
        self,
        *,
        batch_type: str | None = None,
        status: str | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ImportBatch]:
        with self._store.unit_of_work() as uow:
            rows = [
                b
                for b in uow.import_batches.all()
                if (batch_type is None or (b.batch_type and b.batch_type.value) == batch_type)
                and (status is None or b.status.value == status)
            ]

        def field(batch: ImportBatch, name: str) -> Any:
            return batch.received_at if name == "created_at" else _attr(batch, name)

        return _page(rows, sort, BATCH_SORTS, limit, offset, field, lambda b: b.id)

    def export_batch(self, batch_id: uuid.UUID) -> ExportBatch | None:
        with self._store.unit_of_work() as uow:
            return uow.export_batches.get(batch_id)

    def import_batch(self, import_id: uuid.UUID) -> ImportBatch | None:
        with self._store.unit_of_work() as uow:
            return uow.import_batches.get(import_id)

    def users(
        self,
        *,
        profile_type: str | None = None,
        role: str | None = None,
        is_active: bool | None = None,
        search: str | None = None,
        sort: str = "username",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[User]:
        wanted = search.casefold() if search else None
        with self._store.unit_of_work() as uow:
            rows = [
                u
                for u in uow.users.all()
                if (profile_type is None or u.profile_type.value == profile_type)
                and (role is None or u.role.value == role)
                and (is_active is None or u.is_active == is_active)
                and (
                    wanted is None
                    or u.username.casefold().startswith(wanted)
                    or u.email.casefold().startswith(wanted)
                )
            ]
        return _page(rows, sort, USER_SORTS, limit, offset, _attr, lambda u: u.id)

    def transfer(self) -> TransferState:
        ours = Channel.from_(Network.RESPONSE)
        with self._store.unit_of_work() as uow:
            sent = [b for b in uow.export_batches.all() if b.channel == ours]
            waiting = [b for b in sent if b.status is ExportStatus.COMPLETED]
            return TransferState(
                outbound=uow.channels.outbound(ours),
                inbound=uow.channels.inbound(Channel.from_(Network.REQUEST)),
                awaiting_ack=len(waiting),
                unwritten=sum(1 for b in sent if b.status is ExportStatus.PENDING),
                oldest_unacknowledged_at=min((b.created_at for b in waiting), default=None),
            )


class MemoryDeadLetters:
    """``DeadLetters`` in a dict."""

    def __init__(self) -> None:
        self._letters: dict[uuid.UUID, DeadLetter] = {}
        self._lock = threading.Lock()

    def add(self, letter: DeadLetter) -> bool:
        with self._lock:
            if any(x.message_id == letter.message_id for x in self._letters.values()):
                return False
            self._letters[letter.id] = letter
            return True

    def get(self, letter_id: uuid.UUID) -> DeadLetter | None:
        with self._lock:
            return self._letters.get(letter_id)

    def page(
        self,
        *,
        actor_name: str | None = None,
        retried: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[DeadLetter]:
        check_page(limit, offset)
        with self._lock:
            rows = [
                x
                for x in self._letters.values()
                if (actor_name is None or x.actor_name == actor_name)
                and (retried is None or (x.retried_at is not None) == retried)
            ]
        rows.sort(key=lambda x: (x.failed_at, x.id), reverse=True)
        return Page(tuple(rows[offset : offset + limit]), len(rows), limit, offset)

    def mark_retried(self, letter_id: uuid.UUID, at: datetime) -> bool:
        with self._lock:
            letter = self._letters.get(letter_id)
            if letter is None or letter.retried_at is not None:
                return False
            self._letters[letter_id] = attrs.evolve(letter, retried_at=at)
            return True

    def discard(self, letter_id: uuid.UUID) -> bool:
        with self._lock:
            return self._letters.pop(letter_id, None) is not None


class MemoryWorkerHeartbeats:
    """``WorkerHeartbeats`` that expire by the given clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._beats: dict[str, tuple[WorkerHeartbeat, datetime]] = {}
        self._lock = threading.Lock()

    def beat(self, heartbeat: WorkerHeartbeat, ttl: timedelta) -> None:
        with self._lock:
            self._beats[heartbeat.worker] = (heartbeat, self._clock.now() + ttl)

    def recent(self) -> Sequence[WorkerHeartbeat]:
        now = self._clock.now()
        with self._lock:
            for name in [n for n, (_, until) in self._beats.items() if until <= now]:
                del self._beats[name]
            return [
                copy.copy(b) for b, _ in sorted(self._beats.values(), key=lambda x: x[0].worker)
            ]

    def forget(self, worker: str) -> None:
        with self._lock:
            self._beats.pop(worker, None)


class MemoryQuarantine:
    """``QuarantineView`` over a list a test fills."""

    def __init__(self, files: Iterable[QuarantinedFile] = ()) -> None:
        self.quarantined = list(files)

    def files(self) -> Sequence[QuarantinedFile]:
        return sorted(self.quarantined, key=lambda f: (f.quarantined_at, f.name), reverse=True)
