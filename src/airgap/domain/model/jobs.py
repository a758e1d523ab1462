"""The job lifecycle on the response network (SPEC §5) and the result it produces.

``pending`` → ``processing`` → ``completed`` | ``failed``; a transient error moves
``processing`` → ``retry`` with an exponential back-off, and ``retry`` → ``processing`` again
once it is due; after :data:`MAX_ATTEMPTS` tries the job fails. Policy violations, syntax
errors and expired requests fail at once. A worker holds a job under a lease: if the worker
dies, the lease expires and the job can be claimed again.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from airgap.domain.model.errors import IllegalTransition

MAX_ATTEMPTS = 3
BASE_BACKOFF = timedelta(seconds=1)
DEFAULT_LEASE = timedelta(seconds=60)


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    RETRY = "retry"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED)


def backoff_for(attempt: int, base: timedelta = BASE_BACKOFF) -> timedelta:
    """Delay before try ``attempt + 1``: base, 2·base, 4·base, …"""
    factor: int = 2 ** max(attempt - 1, 0)
    return base * factor


@attrs.define(slots=False, eq=False)
class QueryJob:
    """An imported request waiting for, or undergoing, execution (``incoming_requests``)."""

    id: uuid.UUID
    request_id: uuid.UUID  # the request network's id (``original_request_id``)
    user_id: uuid.UUID
    query_type: str
    query_params: Mapping[str, Any]
    query_hash: str
    priority: int
    created_at: datetime  # when the user submitted it
    expires_at: datetime
    imported_at: datetime
    import_batch_id: uuid.UUID
    import_batch_sequence: int
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    assigned_worker: str | None = None
    lease_expires_at: datetime | None = None
    next_attempt_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error_message: str | None = None

    def _refuse(self, action: str) -> IllegalTransition:
        return IllegalTransition("job", self.status.value, action)

    def lease_expired(self, now: datetime) -> bool:
        return (
            self.status is JobStatus.PROCESSING
            and self.lease_expires_at is not None
            and now >= self.lease_expires_at
        )

    def claimable(self, now: datetime) -> bool:
        """Pending, due for a retry, or held by a worker whose lease ran out."""
        if self.status is JobStatus.PENDING:
            return True
        if self.status is JobStatus.RETRY:
            return self.next_attempt_at is None or now >= self.next_attempt_at
        return self.lease_expired(now)

    def claim(self, worker: str, now: datetime, lease: timedelta = DEFAULT_LEASE) -> None:
        """Take the job under a lease, spending an attempt.

        A job whose worker died on its last attempt (the lease ran out with
        :data:`MAX_ATTEMPTS` spent) is not run again — a query that kills every worker must
        not kill them forever: it fails here instead, and the caller records the failure.
        """
        if not self.claimable(now):
            raise self._refuse("claim")
        if self.lease_expired(now) and self.attempts >= MAX_ATTEMPTS:
            self.fail(f"abandoned: no worker finished it in {self.attempts} attempts", now)
            return
        self.status = JobStatus.PROCESSING
        self.attempts += 1
        self.assigned_worker = worker
        self.lease_expires_at = now + lease
        self.started_at = now
        self.next_attempt_at = None

    def _require_processing(self, action: str) -> None:
        if self.status is not JobStatus.PROCESSING:
            raise self._refuse(action)

    def complete(self, now: datetime) -> None:
        self._require_processing("complete")
        self.status = JobStatus.COMPLETED
        self.completed_at = now
        self.lease_expires_at = None
        self.error_message = None

    def fail(self, reason: str, now: datetime) -> None:
        """Permanent failure: policy violation, syntax error, expiry, or retries exhausted."""
        if self.status.is_final:
            raise self._refuse("fail")
        self.status = JobStatus.FAILED
        self.completed_at = now
        self.lease_expires_at = None
        self.error_message = reason

    def retry_later(self, reason: str, now: datetime, base: timedelta = BASE_BACKOFF) -> None:
        """A transient error: try again after a back-off, or fail after the last attempt."""
        self._require_processing("retry")
        if self.attempts >= MAX_ATTEMPTS:
            self.fail(f"{reason} (gave up after {self.attempts} attempts)", now)
            return
        self.status = JobStatus.RETRY
        self.error_message = reason
        self.lease_expires_at = None
        self.next_attempt_at = now + backoff_for(self.attempts, base)

    def release(self) -> None:
        """A worker shutting down hands the job back without spending an attempt."""
        self._require_processing("release")
        self.status = JobStatus.PENDING if self.attempts <= 1 else JobStatus.RETRY
        self.attempts -= 1
        self.assigned_worker = None
        self.lease_expires_at = None

    def requeue(self) -> None:
        """An operator retries a failed job: it starts again with fresh attempts."""
        if self.status is not JobStatus.FAILED:
            raise self._refuse("requeue")
        self.status = JobStatus.PENDING
        self.attempts = 0
        self.error_message = None
        self.completed_at = None
        self.next_attempt_at = None


@attrs.define(slots=False, eq=False)
class QueryResult:
    """What a job produced: the answer (or an explicit failure) bound to its question."""

    id: uuid.UUID
    job_id: uuid.UUID
    request_id: uuid.UUID
    request_batch_id: uuid.UUID
    request_batch_sequence: int
    query_hash: str
    status: str  # "completed" or "failed"
    backend: str
    index: str
    executed_at: datetime
    result_data: Mapping[str, Any] | None = None
    result_count: int | None = None
    execution_time_ms: int | None = None
    took_ms: int | None = None
    cache_hit: bool = False
    error: str | None = None
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    exported_at: datetime | None = None
    export_batch_id: uuid.UUID | None = None

    def mark_exported(self, batch_id: uuid.UUID, now: datetime) -> None:
        self.exported_at = now
        self.export_batch_id = batch_id

    def unmark_exported(self) -> None:
        """The re-send rule: the batch that carried it was never acknowledged."""
        self.exported_at = None
        self.export_batch_id = None
