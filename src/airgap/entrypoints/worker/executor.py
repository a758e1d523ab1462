"""The query executors of a response network worker: threads that run queued queries
continuously.

The durable queue is the ``incoming_requests`` table: each thread claims the most urgent
job with ``FOR UPDATE SKIP LOCKED`` under a lease, runs it, and claims the next. When the
queue is empty a thread waits, backing off from 50 ms to ``AIRGAP_EXECUTOR_IDLE_MAX_MS``;
the ``queries.execute`` actor (sent after each import) wakes every waiting thread at once.
Redis only carries that wake-up call, so if Redis is lost nothing is: the threads keep
polling the table.

Shutdown: :meth:`ExecutorPool.stop` stops claiming, lets each thread finish the job in hand
within the grace period, and releases (``QueryJob.release``) any job still held when the
grace period ends, so another worker takes it at once. A worker killed outright leaves its
job ``processing`` under a lease; when the lease runs out the job is claimable again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import attrs

from airgap.domain.model.jobs import JobStatus, QueryJob
from airgap.domain.services import execute_queries
from airgap.domain.services.context import ResponseSide
from airgap.domain.services.execute_queries import claim_next, run_claimed
from airgap.domain.services.job_leases import release_claimed
from airgap.entrypoints.worker.metrics import PipelineMetrics

IDLE_MIN_S = 0.05


@attrs.frozen
class StopReport:
    finished: int  # threads that stopped within the grace period
    released: int  # jobs handed back because their thread did not finish in time


class ExecutorPool:
    """``threads`` executor threads named ``{name}/{i}``; the name is what a job's
    ``assigned_worker`` shows."""

    def __init__(
        self,
        side: ResponseSide,
        *,
        threads: int,
        name: str,
        metrics: PipelineMetrics,
        log: Any,
        idle_max_s: float = 2.0,
        on_drained: Callable[[], None] | None = None,
    ) -> None:
        self._side = side
        self._count = threads
        self.name = name
        self._metrics = metrics
        self._log = log
        self._idle_max = max(idle_max_s, IDLE_MIN_S)
        self._on_drained = on_drained
        self._stopping = threading.Event()
        self._wake = threading.Condition()
        self._generation = 0
        self._threads: list[threading.Thread] = []
        self._in_hand: dict[int, tuple[QueryJob, str]] = {}
        self._hand_lock = threading.Lock()
        self._executed_since_drain = 0

    # --- control ------------------------------------------------------------------------------

    def start(self) -> None:
        for index in range(self._count):
            thread = threading.Thread(
                target=self._run, args=(index,), name=f"executor-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        self._log.info("executor.started", threads=self._count, worker=self.name)

    def wake(self) -> None:
        """New work: every idle thread looks at the queue now."""
        with self._wake:
            self._generation += 1
            self._wake.notify_all()

    @property
    def jobs_in_hand(self) -> int:
        with self._hand_lock:
            return len(self._in_hand)

    def stop(self, grace_s: float) -> StopReport:
        """Stop claiming; wait up to ``grace_s`` for jobs in hand; release the rest."""
        self._stopping.set()
        self.wake()
        deadline = time.monotonic() + grace_s
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        finished = sum(1 for t in self._threads if not t.is_alive())
        with self._hand_lock:
            held = list(self._in_hand.values())
        released = 0
        for job, worker in held:
            if release_claimed(self._side, job, worker):
                released += 1
                self._log.warning("executor.released", job_id=str(job.id), worker=worker)
        self._log.info("executor.stopped", finished=finished, released=released)
        return StopReport(finished, released)

    # --- the threads --------------------------------------------------------------------------

    def _wait_for_work(self, generation: int, timeout: float) -> None:
        with self._wake:
            if self._generation == generation and not self._stopping.is_set():
                self._wake.wait(timeout)

    def _drained(self) -> None:
        with self._hand_lock:
            executed, self._executed_since_drain = self._executed_since_drain, 0
        if executed and self._on_drained is not None:
            try:
                self._on_drained()
            except Exception as error:  # a missed trigger: the schedule covers it
                self._log.warning("executor.drain_trigger_failed", error=str(error))

    def _run(self, index: int) -> None:
        worker = f"{self.name}/{index}"
        idle = IDLE_MIN_S
        while not self._stopping.is_set():
            generation = self._generation
            try:
                job = claim_next(self._side, worker)
            except Exception as error:  # database away: back off and try again
                self._log.warning("executor.claim_failed", worker=worker, error=str(error))
                self._wait_for_work(generation, self._idle_max)
                continue
            if job is None:
                self._drained()
                self._wait_for_work(generation, idle)
                idle = min(idle * 2, self._idle_max)
                continue
            idle = IDLE_MIN_S
            if job.status is JobStatus.FAILED:
                # Abandoned by dead workers on its last attempt: record the explicit failure.
                execute_queries._record_abandoned(self._side, job)  # (private: one source of truth)
                self._count_execution(JobStatus.FAILED, cache_hit=False, seconds=0.0)
                continue
            if self._stopping.is_set():
                release_claimed(self._side, job, worker)
                break
            self._execute(index, job, worker)

    def _execute(self, index: int, job: QueryJob, worker: str) -> None:
        with self._hand_lock:
            self._in_hand[index] = (job, worker)
        self._metrics.executors_busy.inc()
        started = time.perf_counter()
        try:
            execution = run_claimed(self._side, job, worker)
        except Exception as error:  # the lease returns the job to the queue
            self._log.error(
                "executor.job_failed", job_id=str(job.id), worker=worker, error=repr(error)
            )
            return
        finally:
            self._metrics.executors_busy.dec()
            with self._hand_lock:
                self._in_hand.pop(index, None)
        self._count_execution(
            execution.status, cache_hit=execution.cache_hit, seconds=time.perf_counter() - started
        )
        self._log.debug(
            "executor.job_done",
            job_id=str(job.id),
            status=execution.status.value,
            cache_hit=execution.cache_hit,
            error=execution.error,
        )

    def _count_execution(self, status: JobStatus, *, cache_hit: bool, seconds: float) -> None:
        with self._hand_lock:
            self._executed_since_drain += 1
        self._metrics.queries.labels(status.value, str(cache_hit).lower()).inc()
        self._metrics.query_duration.observe(seconds)
        self._metrics.cache_hit_ratio.set(self._metrics.cache_ratio.record(cache_hit))
