"""The job lifecycle on the response network (SPEC §5): claims under a lease, retries with
exponential back-off (at most 3 tries), release, requeue, and every refusal."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from airgap.domain.model.errors import IllegalTransition
from airgap.domain.model.jobs import (
    BASE_BACKOFF,
    DEFAULT_LEASE,
    MAX_ATTEMPTS,
    JobStatus,
    QueryJob,
    QueryResult,
    backoff_for,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = DEFAULT_LEASE


def new_job(**kwargs: Any) -> QueryJob:
    fields: dict[str, Any] = {
        "id": uuid.UUID(int=10),
        "request_id": uuid.UUID(int=11),
        "user_id": uuid.UUID(int=12),
        "query_type": "match",
        "query_params": {"index": "products", "query": {"match": {"name": "x"}}},
        "query_hash": "cd" * 32,
        "priority": 5,
        "created_at": T0 - timedelta(minutes=30),
        "expires_at": T0 + timedelta(days=7),
        "imported_at": T0,
        "import_batch_id": uuid.UUID(int=13),
        "import_batch_sequence": 4,
    }
    fields.update(kwargs)
    return QueryJob(**fields)


def snapshot(job: QueryJob) -> dict[str, Any]:
    return attrs.asdict(job, recurse=False)


def test_constants_match_the_spec() -> None:
    assert MAX_ATTEMPTS == 3
    assert timedelta(seconds=1) == BASE_BACKOFF
    assert timedelta(seconds=60) == DEFAULT_LEASE


def test_a_new_job_is_pending_and_claimable() -> None:
    job = new_job()
    assert job.status is JobStatus.PENDING
    assert job.attempts == 0
    assert job.claimable(T0)
    assert not job.lease_expired(T0 + timedelta(days=1))


# --- claim and lease ------------------------------------------------------------------------


def test_claim_takes_a_lease_and_spends_an_attempt() -> None:
    job = new_job()
    job.claim("worker-a", T0)
    assert job.status is JobStatus.PROCESSING
    assert job.attempts == 1
    assert job.assigned_worker == "worker-a"
    assert job.lease_expires_at == T0 + DEFAULT_LEASE
    assert job.started_at == T0
    assert job.next_attempt_at is None


def test_claim_with_a_custom_lease() -> None:
    job = new_job()
    job.claim("w", T0, lease=timedelta(seconds=5))
    assert job.lease_expires_at == T0 + timedelta(seconds=5)


def test_a_held_job_cannot_be_claimed_while_its_lease_runs() -> None:
    job = new_job()
    job.claim("worker-a", T0)
    just_before = T0 + LEASE - timedelta(microseconds=1)
    assert not job.claimable(just_before)
    assert not job.lease_expired(just_before)
    before = snapshot(job)
    with pytest.raises(IllegalTransition):
        job.claim("worker-b", just_before)
    assert snapshot(job) == before


def test_an_expired_lease_makes_a_processing_job_claimable_by_another_worker() -> None:
    job = new_job()
    job.claim("worker-a", T0)
    expiry = T0 + LEASE
    assert job.lease_expired(expiry)
    assert job.claimable(expiry)
    job.claim("worker-b", expiry)
    assert job.status is JobStatus.PROCESSING
    assert job.assigned_worker == "worker-b"
    assert job.attempts == 2
    assert job.lease_expires_at == expiry + LEASE
    assert job.started_at == expiry
    assert not job.claimable(expiry + timedelta(seconds=1))


def test_a_job_that_keeps_losing_its_lease_is_tried_at_most_max_attempts_times() -> None:
    # A poison query that kills every worker which runs it: each lost lease is a try.
    job = new_job()
    now = T0
    runs = 0
    for _ in range(MAX_ATTEMPTS + 3):
        if job.claimable(now):
            job.claim("dying-worker", now)
            if job.status is JobStatus.PROCESSING:
                runs += 1
        assert job.attempts <= MAX_ATTEMPTS
        now += LEASE  # the worker dies; its lease runs out
    assert runs <= MAX_ATTEMPTS
    assert not job.claimable(now)


# --- complete and fail ----------------------------------------------------------------------


def test_complete_a_processing_job() -> None:
    job = new_job()
    job.claim("w", T0)
    at = T0 + timedelta(seconds=2)
    job.complete(at)
    assert job.status is JobStatus.COMPLETED
    assert job.completed_at == at
    assert job.lease_expires_at is None
    assert job.error_message is None
    assert not job.claimable(at + timedelta(days=1))


def test_complete_after_a_retry_clears_the_old_error() -> None:
    job = new_job()
    job.claim("w", T0)
    job.retry_later("timeout", T0)
    job.claim("w", T0 + timedelta(seconds=1))
    job.complete(T0 + timedelta(seconds=2))
    assert job.status is JobStatus.COMPLETED
    assert job.error_message is None


def test_a_job_whose_lease_ran_out_may_still_be_completed_if_nobody_took_it() -> None:
    job = new_job()
    job.claim("w", T0)
    job.complete(T0 + LEASE + timedelta(seconds=5))
    assert job.status is JobStatus.COMPLETED


@pytest.mark.parametrize("setup", ["pending", "processing", "retry"])
def test_fail_at_once_from_any_non_final_state(setup: str) -> None:
    job = new_job()
    if setup in ("processing", "retry"):
        job.claim("w", T0)
    if setup == "retry":
        job.retry_later("timeout", T0)
    at = T0 + timedelta(seconds=3)
    job.fail("query policy: script not allowed", at)
    assert job.status is JobStatus.FAILED
    assert job.error_message == "query policy: script not allowed"
    assert job.completed_at == at
    assert job.lease_expires_at is None
    assert not job.claimable(at + timedelta(days=1))


# --- retries and back-off -------------------------------------------------------------------


def test_backoff_doubles_from_one_second() -> None:
    assert [backoff_for(n) for n in range(1, 6)] == [timedelta(seconds=s) for s in (1, 2, 4, 8, 16)]
    assert backoff_for(0) == timedelta(seconds=1)
    assert backoff_for(3, base=timedelta(milliseconds=250)) == timedelta(seconds=1)


def test_retry_later_backs_off_one_then_two_seconds_then_gives_up() -> None:
    job = new_job()
    now = T0

    job.claim("w", now)
    job.retry_later("timeout", now)
    assert job.status is JobStatus.RETRY
    assert job.attempts == 1
    assert job.error_message == "timeout"
    assert job.lease_expires_at is None
    assert job.next_attempt_at == now + timedelta(seconds=1)
    assert not job.claimable(now + timedelta(milliseconds=999))
    assert job.claimable(now + timedelta(seconds=1))

    now += timedelta(seconds=1)
    job.claim("w", now)
    assert job.attempts == 2
    assert job.next_attempt_at is None
    job.retry_later("connection refused", now)
    assert job.status is JobStatus.RETRY
    assert job.next_attempt_at == now + timedelta(seconds=2)
    assert not job.claimable(now + timedelta(milliseconds=1999))

    now += timedelta(seconds=2)
    job.claim("w", now)
    assert job.attempts == 3
    job.retry_later("timeout", now)
    assert job.status is JobStatus.FAILED
    assert job.attempts == MAX_ATTEMPTS
    assert job.completed_at == now
    assert job.error_message is not None
    assert "timeout" in job.error_message
    assert "3 attempts" in job.error_message
    assert not job.claimable(now + timedelta(days=1))


def test_retry_later_with_a_custom_base() -> None:
    job = new_job()
    job.claim("w", T0)
    job.retry_later("timeout", T0, base=timedelta(seconds=10))
    assert job.next_attempt_at == T0 + timedelta(seconds=10)
    job.claim("w", T0 + timedelta(seconds=10))
    job.retry_later("timeout", T0 + timedelta(seconds=10), base=timedelta(seconds=10))
    assert job.next_attempt_at == T0 + timedelta(seconds=30)


def test_a_retry_without_a_due_time_is_claimable_at_once() -> None:
    job = new_job(status=JobStatus.RETRY, attempts=1, next_attempt_at=None)
    assert job.claimable(T0)


# --- release and requeue --------------------------------------------------------------------


def test_release_on_the_first_attempt_returns_the_job_to_pending() -> None:
    job = new_job()
    job.claim("w", T0)
    job.release()
    assert job.status is JobStatus.PENDING
    assert job.attempts == 0
    assert job.assigned_worker is None
    assert job.lease_expires_at is None
    assert job.claimable(T0)


def test_release_on_a_later_attempt_returns_a_claimable_retry() -> None:
    job = new_job()
    job.claim("w", T0)
    job.retry_later("timeout", T0)
    job.claim("w", T0 + timedelta(seconds=1))
    job.release()
    assert job.status is JobStatus.RETRY
    assert job.attempts == 1
    assert job.assigned_worker is None
    assert job.claimable(T0 + timedelta(seconds=1))


def test_release_never_spends_an_attempt() -> None:
    # A worker that shuts down ten times must not use up the job's three tries.
    job = new_job()
    for _ in range(10):
        job.claim("w", T0)
        job.release()
    assert job.attempts == 0
    now = T0
    for expected in (1, 2):
        job.claim("w", now)
        assert job.attempts == expected
        job.retry_later("timeout", now)
        assert job.status is JobStatus.RETRY
        now += timedelta(seconds=10)
    job.claim("w", now)
    job.retry_later("timeout", now)
    assert job.status is JobStatus.FAILED


def test_requeue_gives_a_failed_job_fresh_attempts() -> None:
    job = new_job()
    job.claim("w", T0)
    job.retry_later("timeout", T0)
    job.fail("expired", T0 + timedelta(seconds=1))
    job.requeue()
    assert job.status is JobStatus.PENDING
    assert job.attempts == 0
    assert job.error_message is None
    assert job.completed_at is None
    assert job.next_attempt_at is None
    assert job.claimable(T0 + timedelta(seconds=1))
    job.claim("w", T0 + timedelta(seconds=2))
    assert job.attempts == 1


def test_requeue_after_retries_were_exhausted_allows_three_more_tries() -> None:
    job = new_job()
    now = T0
    for _ in range(MAX_ATTEMPTS):
        job.claim("w", now)
        job.retry_later("timeout", now)
        now += timedelta(seconds=10)
    assert job.status is JobStatus.FAILED
    job.requeue()
    for _ in range(MAX_ATTEMPTS - 1):
        job.claim("w", now)
        job.retry_later("timeout", now)
        assert job.status is JobStatus.RETRY
        now += timedelta(seconds=10)
    job.claim("w", now)
    job.complete(now)
    assert job.status is JobStatus.COMPLETED


# --- the full table -------------------------------------------------------------------------

NOW = T0 + timedelta(seconds=30)


def _processing(now: datetime) -> QueryJob:
    job = new_job()
    job.claim("w", now - timedelta(seconds=1))
    return job


def _processing_lease_lost() -> QueryJob:
    job = new_job()
    job.claim("w", NOW - LEASE - timedelta(seconds=1))
    return job


def _retry(due: bool) -> QueryJob:
    job = new_job()
    start = NOW - timedelta(seconds=5) if due else NOW
    job.claim("w", start)
    job.retry_later("timeout", start)
    return job


def _completed() -> QueryJob:
    job = _processing(NOW)
    job.complete(NOW - timedelta(milliseconds=1))
    return job


def _failed() -> QueryJob:
    job = new_job()
    job.fail("policy", NOW - timedelta(seconds=1))
    return job


STATES: dict[str, Callable[[], QueryJob]] = {
    "pending": new_job,
    "processing": lambda: _processing(NOW),
    "processing_lease_lost": _processing_lease_lost,
    "retry_not_due": lambda: _retry(due=False),
    "retry_due": lambda: _retry(due=True),
    "completed": _completed,
    "failed": _failed,
}

ACTIONS: dict[str, Callable[[QueryJob], None]] = {
    "claim": lambda j: j.claim("other", NOW),
    "complete": lambda j: j.complete(NOW),
    "fail": lambda j: j.fail("boom", NOW),
    "retry_later": lambda j: j.retry_later("timeout", NOW),
    "release": lambda j: j.release(),
    "requeue": lambda j: j.requeue(),
}

LEGAL: dict[tuple[str, str], JobStatus] = {
    ("pending", "claim"): JobStatus.PROCESSING,
    ("pending", "fail"): JobStatus.FAILED,
    ("processing", "complete"): JobStatus.COMPLETED,
    ("processing", "fail"): JobStatus.FAILED,
    ("processing", "retry_later"): JobStatus.RETRY,
    ("processing", "release"): JobStatus.PENDING,
    ("processing_lease_lost", "claim"): JobStatus.PROCESSING,
    ("processing_lease_lost", "complete"): JobStatus.COMPLETED,
    ("processing_lease_lost", "fail"): JobStatus.FAILED,
    ("processing_lease_lost", "retry_later"): JobStatus.RETRY,
    ("processing_lease_lost", "release"): JobStatus.PENDING,
    ("retry_not_due", "fail"): JobStatus.FAILED,
    ("retry_due", "claim"): JobStatus.PROCESSING,
    ("retry_due", "fail"): JobStatus.FAILED,
    ("failed", "requeue"): JobStatus.PENDING,
}
ILLEGAL = [(s, a) for s in STATES for a in ACTIONS if (s, a) not in LEGAL]


@pytest.mark.parametrize(("state", "action"), list(LEGAL))
def test_every_legal_move_reaches_the_expected_state(state: str, action: str) -> None:
    job = STATES[state]()
    ACTIONS[action](job)
    assert job.status is LEGAL[(state, action)]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_every_illegal_move_is_refused_and_changes_nothing(state: str, action: str) -> None:
    job = STATES[state]()
    before = snapshot(job)
    with pytest.raises(IllegalTransition) as info:
        ACTIONS[action](job)
    assert snapshot(job) == before
    assert info.value.entity == "job"
    assert info.value.current == job.status.value


def test_final_flags() -> None:
    assert {s for s in JobStatus if s.is_final} == {JobStatus.COMPLETED, JobStatus.FAILED}


# --- the result a job produces --------------------------------------------------------------


def test_result_export_marks_can_be_undone_by_the_resend_rule() -> None:
    result = QueryResult(
        id=uuid.UUID(int=20),
        job_id=uuid.UUID(int=10),
        request_id=uuid.UUID(int=11),
        request_batch_id=uuid.UUID(int=13),
        request_batch_sequence=4,
        query_hash="cd" * 32,
        status="completed",
        backend="embedded",
        index="products",
        executed_at=T0,
    )
    batch = uuid.UUID(int=30)
    result.mark_exported(batch, T0 + timedelta(seconds=1))
    assert result.export_batch_id == batch
    assert result.exported_at == T0 + timedelta(seconds=1)
    result.unmark_exported()
    assert result.export_batch_id is None
    assert result.exported_at is None
