"""Property tests: any sequence of lifecycle calls, at any times, keeps requests and jobs on the
lifecycle graph of SPEC §5.

Each state machine drives the real object with random calls at random (non-decreasing) times
and keeps its own small model of what must happen. The allowed edges are written out here by
hand, independently of the domain code, and every observed status change is checked against
them. A refused call must raise ``IllegalTransition`` and leave the object exactly as it was.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from airgap.domain.model.errors import IllegalTransition
from airgap.domain.model.jobs import MAX_ATTEMPTS, JobStatus, QueryJob
from airgap.domain.model.requests import RequestStatus, SearchRequest

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

# Time steps between calls, in seconds: often none, often around a lease or a back-off, and
# sometimes days (past a request's seven-day expiry).
steps = st.one_of(
    st.just(0),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=55, max_value=65),
    st.integers(min_value=0, max_value=3 * 86_400),
)

# --- the request network --------------------------------------------------------------------

REQUEST_STATUSES = {"pending", "exported", "completed", "failed", "cancelled"}
REQUEST_FINAL = {"completed", "failed", "cancelled"}
REQUEST_EDGES = {
    ("pending", "exported"),  # packed into a batch
    ("exported", "completed"),  # the answer came back
    ("exported", "failed"),  # an explicit failure came back
    ("pending", "cancelled"),  # the user cancelled while pending
    ("exported", "pending"),  # the re-send rule
    ("pending", "failed"),  # failed without a crossing (expired before export)
    ("pending", "completed"),  # a stored answer, or a late answer after the re-send rule
}


def snapshot(obj: Any) -> dict[str, Any]:
    return attrs.asdict(obj, recurse=False)


class RequestLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.request = SearchRequest.submit(
            id=uuid.UUID(int=1),
            user_id=uuid.UUID(int=2),
            query_type="match",
            query_params={"index": "products", "query": {"match_all": {}}},
            query_hash="ab" * 32,
            priority=5,
            now=T0,
        )
        self.history = ["pending"]
        # The model.
        self.status = "pending"
        self.exports = 0

    def _attempt(
        self,
        step: int,
        legal: bool,
        target: str,
        call: Callable[[SearchRequest, datetime], None],
    ) -> None:
        self.now += timedelta(seconds=step)
        before = snapshot(self.request)
        if not legal:
            with pytest.raises(IllegalTransition):
                call(self.request, self.now)
            assert snapshot(self.request) == before
            return
        call(self.request, self.now)
        assert self.request.status.value == target
        assert (self.status, target) in REQUEST_EDGES
        self.status = target
        self.history.append(target)

    @rule(step=steps)
    def export(self, step: int) -> None:
        batch = uuid.uuid4()
        self._attempt(
            step,
            self.status == "pending",
            "exported",
            lambda r, now: r.mark_exported(batch, now),
        )
        if self.status == "exported" and self.request.export_batch_id == batch:
            self.exports += 1
            assert self.request.exported_at == self.now

    @rule(step=steps)
    def resend(self, step: int) -> None:
        self._attempt(
            step, self.status == "exported", "pending", lambda r, _now: r.return_to_pending()
        )

    @rule(step=steps)
    def cancel(self, step: int) -> None:
        self._attempt(step, self.status == "pending", "cancelled", lambda r, now: r.cancel(now))
        if self.status == "cancelled":
            assert self.request.cancelled_at is not None

    @rule(step=steps)
    def complete(self, step: int) -> None:
        # A crossing answer is accepted only for a request that crossed.
        legal = self.status == "exported" or (self.status == "pending" and self.exports > 0)
        self._attempt(step, legal, "completed", lambda r, now: r.complete(now))

    @rule(step=steps, reason=st.sampled_from(["expired", "search rejected", "too large"]))
    def fail(self, step: int, reason: str) -> None:
        self._attempt(
            step, self.status not in REQUEST_FINAL, "failed", lambda r, now: r.fail(reason, now)
        )
        if self.status == "failed":
            assert self.request.error_message is not None

    @rule(step=steps)
    def expire_if_due(self, step: int) -> None:
        # What the exporter does: a pending request past its expiry fails as expired.
        self.now += timedelta(seconds=step)
        if self.status == "pending" and self.request.is_expired(self.now):
            self._attempt(0, True, "failed", lambda r, now: r.fail("expired", now))
            assert self.request.error_message == "expired"

    @rule(step=steps)
    def answer_from_stored(self, step: int) -> None:
        legal = self.status == "pending" and self.exports == 0
        self._attempt(step, legal, "completed", lambda r, now: r.answer_from_stored(now))

    @invariant()
    def in_exactly_one_valid_status(self) -> None:
        assert isinstance(self.request.status, RequestStatus)
        assert self.request.status.value in REQUEST_STATUSES
        assert self.request.status.value == self.status
        assert self.request.status.is_final == (self.status in REQUEST_FINAL)

    @invariant()
    def only_lifecycle_edges_and_final_stays_final(self) -> None:
        for a, b in itertools.pairwise(self.history):
            assert (a, b) in REQUEST_EDGES
        finals = [i for i, s in enumerate(self.history) if s in REQUEST_FINAL]
        if finals:
            assert finals[0] == len(self.history) - 1

    @invariant()
    def bookkeeping_matches(self) -> None:
        r = self.request
        assert r.export_count == self.exports
        assert r.was_exported == (self.exports > 0)
        assert (r.exported_at is not None) == (self.exports > 0)
        assert (r.cancelled_at is not None) == (self.status == "cancelled")
        assert (r.result_received_at is not None) == (self.status in {"completed", "failed"})
        assert r.expires_at == T0 + timedelta(days=7)


RequestLifecycle.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None
)
TestRequestLifecycle = RequestLifecycle.TestCase


# --- the response network -------------------------------------------------------------------

JOB_STATUSES = {"pending", "processing", "retry", "completed", "failed"}
JOB_EDGES = {
    ("pending", "processing"),  # a worker claims it
    ("processing", "completed"),
    ("processing", "failed"),  # permanent error, or the last try failed
    ("processing", "retry"),  # transient error, tries left (or released after a retry)
    ("retry", "processing"),  # the back-off is over and a worker claims it again
    ("processing", "processing"),  # the worker's lease ran out; another worker takes over
    ("processing", "pending"),  # a worker shutting down hands back a first try
    ("pending", "failed"),  # fails at once (expired, policy violation) before any try
    ("retry", "failed"),  # fails at once while waiting (e.g. expired)
    ("failed", "pending"),  # an operator requeues it
}
LEASES = st.sampled_from([timedelta(seconds=5), timedelta(seconds=60)])


class JobLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.job = QueryJob(
            id=uuid.UUID(int=10),
            request_id=uuid.UUID(int=11),
            user_id=uuid.UUID(int=12),
            query_type="match",
            query_params={"index": "products", "query": {"match_all": {}}},
            query_hash="cd" * 32,
            priority=5,
            created_at=T0,
            expires_at=T0 + timedelta(days=7),
            imported_at=T0,
            import_batch_id=uuid.UUID(int=13),
            import_batch_sequence=1,
        )
        self.history = ["pending"]
        # The model, kept from the times this machine passed in.
        self.status = "pending"
        self.attempts = 0
        self.lease_until: datetime | None = None
        self.due_at: datetime | None = None
        self.requeues = 0

    def _claimable(self) -> bool:
        if self.status == "pending":
            return True
        if self.status == "retry":
            return self.due_at is None or self.now >= self.due_at
        return (
            self.status == "processing"
            and self.lease_until is not None
            and (self.now >= self.lease_until)
        )

    def _attempt(self, legal: bool, call: Callable[[QueryJob], None]) -> bool:
        before = snapshot(self.job)
        if not legal:
            with pytest.raises(IllegalTransition):
                call(self.job)
            assert snapshot(self.job) == before
            return False
        call(self.job)
        return True

    def _moved(self, target: str) -> None:
        assert self.job.status.value == target
        assert (self.status, target) in JOB_EDGES
        self.status = target
        self.history.append(target)

    @rule(step=steps)
    def wait(self, step: int) -> None:
        self.now += timedelta(seconds=step)

    @rule(step=steps, worker=st.sampled_from(["a", "b"]), lease=LEASES)
    def claim(self, step: int, worker: str, lease: timedelta) -> None:
        self.now += timedelta(seconds=step)
        if self._lost_last_lease():
            # The worker died on the last try: the claim fails the job instead of a 4th try.
            self.job.claim(worker, self.now, lease)
            self.lease_until = None
            self._moved("failed")
            return
        if self._attempt(self._claimable(), lambda j: j.claim(worker, self.now, lease)):
            self.attempts += 1
            self.lease_until = self.now + lease
            self.due_at = None
            self._moved("processing")
            assert self.job.assigned_worker == worker
            assert self.job.lease_expires_at == self.lease_until
            assert self.job.started_at == self.now

    @rule(step=steps)
    def complete(self, step: int) -> None:
        self.now += timedelta(seconds=step)
        if self._attempt(self.status == "processing", lambda j: j.complete(self.now)):
            self.lease_until = None
            self._moved("completed")
            assert self.job.completed_at == self.now

    @rule(step=steps)
    def fail(self, step: int) -> None:
        self.now += timedelta(seconds=step)
        legal = self.status not in {"completed", "failed"}
        if self._attempt(legal, lambda j: j.fail("policy violation", self.now)):
            self.lease_until = None
            self._moved("failed")
            assert self.job.error_message == "policy violation"

    @rule(step=steps)
    def retry_later(self, step: int) -> None:
        self.now += timedelta(seconds=step)
        if self._attempt(self.status == "processing", lambda j: j.retry_later("timeout", self.now)):
            self.lease_until = None
            if self.attempts >= MAX_ATTEMPTS:
                self._moved("failed")
            else:
                # Back-off doubles from one second: 1 s after the first try, 2 s after the second.
                self.due_at = self.now + timedelta(seconds=2 ** (self.attempts - 1))
                self._moved("retry")
                assert self.job.next_attempt_at == self.due_at

    @rule()
    def release(self) -> None:
        if self._attempt(self.status == "processing", lambda j: j.release()):
            self.attempts -= 1
            self.lease_until = None
            self._moved("pending" if self.attempts == 0 else "retry")
            assert self.job.assigned_worker is None

    @rule()
    def requeue(self) -> None:
        if self._attempt(self.status == "failed", lambda j: j.requeue()):
            self.attempts = 0
            self.due_at = None
            self.requeues += 1
            self._moved("pending")

    @invariant()
    def in_exactly_one_valid_status(self) -> None:
        assert isinstance(self.job.status, JobStatus)
        assert self.job.status.value in JOB_STATUSES
        assert self.job.status.value == self.status

    @invariant()
    def attempts_stay_within_bounds(self) -> None:
        assert self.job.attempts == self.attempts
        assert 0 <= self.job.attempts <= MAX_ATTEMPTS

    def _lost_last_lease(self) -> bool:
        return self.status == "processing" and self.attempts >= MAX_ATTEMPTS and self._claimable()

    @invariant()
    def claimability_matches_the_model(self) -> None:
        assert self.job.claimable(self.now) == self._claimable()
        assert self.job.lease_expired(self.now) == (
            self.status == "processing"
            and self.lease_until is not None
            and self.now >= self.lease_until
        )

    @invariant()
    def only_lifecycle_edges_and_final_stays_final(self) -> None:
        for a, b in itertools.pairwise(self.history):
            assert (a, b) in JOB_EDGES
            assert a != "completed"
        # Leaving "failed" happens only by a requeue.
        assert sum(1 for a, b in itertools.pairwise(self.history) if a == "failed") == (
            self.requeues
        )

    @invariant()
    def a_held_job_has_a_lease_and_others_do_not(self) -> None:
        assert (self.job.lease_expires_at is not None) == (self.status == "processing")


JobLifecycle.TestCase.settings = settings(max_examples=120, stateful_step_count=40, deadline=None)
TestJobLifecycle = JobLifecycle.TestCase


@settings(max_examples=20, deadline=None)
@example(lost_leases=MAX_ATTEMPTS + 1)
@given(lost_leases=st.integers(min_value=1, max_value=8))
def test_attempts_never_exceed_max_even_when_leases_run_out(lost_leases: int) -> None:
    job = QueryJob(
        id=uuid.UUID(int=10),
        request_id=uuid.UUID(int=11),
        user_id=uuid.UUID(int=12),
        query_type="match",
        query_params={},
        query_hash="cd" * 32,
        priority=5,
        created_at=T0,
        expires_at=T0 + timedelta(days=7),
        imported_at=T0,
        import_batch_id=uuid.UUID(int=13),
        import_batch_sequence=1,
    )
    now = T0
    for _ in range(lost_leases):
        if job.claimable(now):
            job.claim("dying", now, timedelta(seconds=60))
        now += timedelta(seconds=60)
        assert job.attempts <= MAX_ATTEMPTS
