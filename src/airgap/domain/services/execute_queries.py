"""Executing queued queries on the response network.

A worker claims the most urgent job (priority DESC, imported_at ASC) under a lease, checks
it again against the query policy (never trust the other side), answers from the cache when
it can, otherwise asks the search backend with a timeout. Transient errors go back to the
queue with an exponential back-off (at most three tries); policy violations, syntax errors
and expired requests fail at once. Every finished job leaves exactly one result — an answer
or an explicit failure — bound to its question, ready for export.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from airgap.domain.model.audit import LogLevel, SystemLogEntry
from airgap.domain.model.caching import CachedResult, cache_key
from airgap.domain.model.errors import (
    PermanentSearchError,
    QueryPolicyViolation,
    TransientSearchError,
)
from airgap.domain.model.jobs import JobStatus, QueryJob, QueryResult
from airgap.domain.model.queries import ValidatedQuery
from airgap.domain.services.context import ResponseSide
from airgap.ports.response_store import ResponseNetworkUnitOfWork

EXPORT_TASK = "results.export"


@attrs.frozen
class Execution:
    """What happened to one claimed job."""

    job_id: uuid.UUID
    status: JobStatus
    cache_hit: bool = False
    error: str | None = None


@attrs.frozen
class _Answer:
    body: Mapping[str, Any]
    total: int
    took_ms: int | None
    cache_hit: bool


def claim_next(side: ResponseSide, worker: str) -> QueryJob | None:
    """Claim one job (committed at once, so other workers skip it). A job found abandoned
    is returned ``failed``; see :meth:`QueryJob.claim`."""
    with side.uow() as uow:
        now = side.clock.now()
        job = uow.jobs.claim_next(worker, now, side.lease)
        if job is not None:
            if job.status is JobStatus.FAILED and uow.results.get_for_job(job.id) is None:
                # Abandoned by dead workers: its failure and its result commit together, so
                # a worker dying right after the claim cannot leave a request unanswered.
                result = _result(side, job, "failed", str(job.query_params.get("index", "")), now)
                result.error = job.error_message
                uow.results.add(result)
            uow.commit()
        return job


def execute_next(side: ResponseSide, worker: str) -> Execution | None:
    """Claim and run one job; None when the queue is empty."""
    job = claim_next(side, worker)
    if job is None:
        return None
    if job.status is JobStatus.FAILED:
        return _record_abandoned(side, job)
    return run_claimed(side, job, worker)


def _record_abandoned(side: ResponseSide, job: QueryJob) -> Execution:
    """The claim found the job abandoned by dead workers; leave its explicit failure."""
    with side.uow() as uow:
        now = side.clock.now()
        if uow.results.get_for_job(job.id) is None:
            result = _result(side, job, "failed", str(job.query_params.get("index", "")), now)
            result.error = job.error_message
            uow.results.add(result)
            uow.commit()
    return Execution(job.id, JobStatus.FAILED, error=job.error_message)


def execute_available(side: ResponseSide, worker: str, *, max_jobs: int = 1000) -> list[Execution]:
    """Run jobs until the queue has nothing claimable or ``max_jobs`` ran."""
    done: list[Execution] = []
    while len(done) < max_jobs:
        execution = execute_next(side, worker)
        if execution is None:
            break
        done.append(execution)
    if any(e.status in (JobStatus.COMPLETED, JobStatus.FAILED) for e in done):
        side.tasks.enqueue(EXPORT_TASK)
    return done


def run_claimed(side: ResponseSide, job: QueryJob, worker: str) -> Execution:
    """Run a job this worker holds and record the outcome."""
    started = time.perf_counter()
    now = side.clock.now()
    if job.expires_at <= now:
        return _finish_failed(side, job, worker, "expired", validated=None)
    try:
        validated = side.policy.validate(job.query_type, job.query_params)
    except QueryPolicyViolation as violation:
        return _finish_failed(side, job, worker, f"query policy: {violation}", validated=None)
    if validated.query_hash() != job.query_hash:
        return _finish_failed(side, job, worker, "query hash mismatch", validated=validated)
    try:
        answer = _answer(side, validated, now)
    except TransientSearchError as error:
        return _finish_retry(side, job, worker, str(error))
    except PermanentSearchError as error:
        return _finish_failed(side, job, worker, f"search rejected: {error}", validated=validated)
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    return _finish_completed(side, job, worker, validated, answer, elapsed_ms)


def _answer(side: ResponseSide, validated: ValidatedQuery, now: datetime) -> _Answer:
    key = cache_key(validated.template())
    cached = side.cache.get(key, now)
    if cached is not None:
        return _Answer(cached.result_data, cached.result_count, cached.took_ms, cache_hit=True)
    result = side.search.search(
        validated.index, validated.search_body(), timeout_s=side.search_timeout_s
    )
    ttl = side.cache_policy.ttl(has_aggregations=validated.has_aggregations, hit_count=0)
    side.cache.put(
        CachedResult(
            key=key,
            index=validated.index,
            result_data=result.body,
            result_count=result.total,
            took_ms=result.took_ms,
            stored_at=now,
            expires_at=now + ttl,
            has_aggregations=validated.has_aggregations,
        )
    )
    return _Answer(result.body, result.total, result.took_ms, cache_hit=False)


def _held(uow: ResponseNetworkUnitOfWork, job: QueryJob, worker: str) -> QueryJob | None:
    """The job as stored, if this worker still holds it (its lease may have run out and
    another worker taken over; then this worker's outcome is dropped)."""
    current = uow.jobs.get(job.id)
    if current is None or current.status is not JobStatus.PROCESSING:
        return None
    if current.assigned_worker != worker or current.attempts != job.attempts:
        return None
    return current


def _result(
    side: ResponseSide, job: QueryJob, status: str, index: str, now: datetime
) -> QueryResult:
    return QueryResult(
        id=side.ids.new_id(),
        job_id=job.id,
        request_id=job.request_id,
        request_batch_id=job.import_batch_id,
        request_batch_sequence=job.import_batch_sequence,
        query_hash=job.query_hash,
        status=status,
        backend=side.search.name,
        index=index,
        executed_at=now,
    )


def _finish_completed(
    side: ResponseSide,
    job: QueryJob,
    worker: str,
    validated: ValidatedQuery,
    answer: _Answer,
    elapsed_ms: int,
) -> Execution:
    # The export guard runs here, once per answer, rather than when results are packed:
    # it needs the query (aggregations and sorts on guarded fields leak too), and a stored
    # answer that is already guarded makes every re-send carry the same bytes.
    guarded = side.export_guard.apply(validated.index, answer.body, validated.params)
    with side.uow() as uow:
        now = side.clock.now()
        current = _held(uow, job, worker)
        if current is None:
            return Execution(job.id, JobStatus.PROCESSING, error="lost the lease")
        result = _result(side, current, "completed", validated.index, now)
        result.result_data = guarded.body
        if guarded.report is not None:
            result.metadata = {**result.metadata, **guarded.report.metadata()}
        result.result_count = answer.total
        result.execution_time_ms = elapsed_ms
        result.took_ms = answer.took_ms
        result.cache_hit = answer.cache_hit
        current.complete(now)
        uow.jobs.save(current)
        uow.results.add(result)
        uow.commit()
    return Execution(job.id, JobStatus.COMPLETED, cache_hit=answer.cache_hit)


def _finish_failed(
    side: ResponseSide,
    job: QueryJob,
    worker: str,
    reason: str,
    *,
    validated: ValidatedQuery | None,
) -> Execution:
    with side.uow() as uow:
        now = side.clock.now()
        current = _held(uow, job, worker)
        if current is None:
            return Execution(job.id, JobStatus.PROCESSING, error="lost the lease")
        current.fail(reason, now)
        index = validated.index if validated else str(job.query_params.get("index", ""))
        result = _result(side, current, "failed", index, now)
        result.error = reason
        uow.jobs.save(current)
        uow.results.add(result)
        uow.system_logs.record(
            SystemLogEntry(
                level=LogLevel.WARNING,
                component="executor",
                message=f"query failed: {reason}",
                created_at=now,
                request_id=job.request_id,
            )
        )
        uow.commit()
    return Execution(job.id, JobStatus.FAILED, error=reason)


def _finish_retry(side: ResponseSide, job: QueryJob, worker: str, reason: str) -> Execution:
    with side.uow() as uow:
        now = side.clock.now()
        current = _held(uow, job, worker)
        if current is None:
            return Execution(job.id, JobStatus.PROCESSING, error="lost the lease")
        current.retry_later(reason, now, side.retry_backoff)
        if current.status is JobStatus.FAILED:
            result = _result(side, current, "failed", str(job.query_params.get("index", "")), now)
            result.error = current.error_message
            uow.results.add(result)
        uow.jobs.save(current)
        uow.commit()
    return Execution(job.id, current.status, error=reason)
