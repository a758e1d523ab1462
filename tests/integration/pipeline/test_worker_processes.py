"""Real processes on the real Redis broker: ``airgap request|response worker`` and
``scheduler`` answer a request end to end; a worker killed (SIGKILL) in the middle of a
query leaves the job to be completed exactly once after its lease; a worker stopped
(SIGTERM) hands the job in hand back at once."""

from __future__ import annotations

import json
import random
import signal
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from airgap.adapters.memory.security import FastPasswordHasher
from airgap.adapters.postgres.unit_of_work import PostgresResponseStore
from airgap.domain.model.jobs import JobStatus, QueryJob
from airgap.domain.model.requests import RequestStatus
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.domain.services.users import CreateUser, create_user
from airgap.entrypoints.worker.runtime import (
    RequestPipeline,
    ResponsePipeline,
    request_pipeline,
    response_pipeline,
)
from support.workers import (
    KETTLES,
    Networks,
    airgap_command,
    process,
    user_on_both_networks,
    wait_for,
)

SLOW_WORKER = Path(__file__).resolve().parents[2] / "support" / "slow_worker.py"


@contextmanager
def in_process(networks: Networks) -> Iterator[tuple[RequestPipeline, ResponsePipeline]]:
    """Both pipelines in this process, on the real Redis broker (their messages go to the
    worker processes; nothing here consumes them)."""
    with (
        request_pipeline(networks.request, networks.request_pipeline) as request,
        response_pipeline(networks.response, networks.response_pipeline) as response,
    ):
        yield request, response


def _jobs(response: ResponsePipeline) -> list[QueryJob]:
    store = response.container.store()
    assert isinstance(store, PostgresResponseStore)
    with store.unit_of_work() as uow:
        return uow.jobs.all()


def test_worker_and_scheduler_processes_answer_a_request(
    networks: Networks, tmp_path: Path
) -> None:
    env = networks.environment(
        AIRGAP_EXPORT_INTERVAL_SECONDS="1", AIRGAP_USERS_EXPORT_INTERVAL_SECONDS="1"
    )
    logs = tmp_path / "logs"
    with ExitStack() as stack:
        for network in ("request", "response"):
            for role in ("worker", "scheduler"):
                stack.enter_context(
                    process(airgap_command(network, role), env, logs / f"{network}-{role}.log")
                )
        request, response = stack.enter_context(in_process(networks))
        user = create_user(
            response.side,
            FastPasswordHasher(),
            CreateUser("alice", "alice@example.org", "correct horse battery staple"),
        )

        def carried(check: object) -> object:
            networks.carry_to_response()
            networks.carry_to_request()
            return check

        def user_arrived() -> bool:
            with request.side.uow() as uow:
                return carried(uow.users.get(user.id)) is not None

        wait_for(user_arrived, timeout=90, interval=0.2, what="the users snapshot")
        submitted = submit_request(request.side, SubmitRequest(user.id, "match", KETTLES))

        def answered() -> bool:
            view = get_request(request.side, user.id, submitted.request.id)
            return bool(carried(view.request.status is RequestStatus.COMPLETED))

        wait_for(answered, timeout=90, interval=0.2, what="the answer")
        view = get_request(request.side, user.id, submitted.request.id)
    assert view.response is not None and view.response.result_count
    worker_log = [
        json.loads(line)
        for line in (logs / "response-worker.log").read_text().splitlines()
        if line.startswith("{")
    ]
    finished = {e["job"] for e in worker_log if e.get("event") == "job.finished"}
    assert {"requests.import", "results.export", "users.export"} <= finished
    assert any(e.get("event") == "worker.stopped" for e in worker_log)  # a graceful stop


def _wait_until_held(response: ResponsePipeline, pid: int) -> QueryJob:
    def held() -> QueryJob | None:
        for job in _jobs(response):
            worker = job.assigned_worker or ""
            if job.status is JobStatus.PROCESSING and worker.split("/")[0].endswith(f":{pid}"):
                return job
        return None

    found: QueryJob = wait_for(held, timeout=90, interval=0.1, what="the worker to claim")
    return found


def _queue_one_query(
    networks: Networks, request: RequestPipeline, response: ResponsePipeline
) -> None:
    user = user_on_both_networks(request, response, networks)
    # A query no earlier test asked: an answer cached by another test (the query cache lives
    # in the shared Redis) would spare the slow search this test needs to catch.
    unique = {**KETTLES, "size": random.randint(11, 999)}
    submit_request(request.side, SubmitRequest(user.id, "match", unique))
    request.jobs.export_requests("all")
    networks.carry_to_response()
    response.jobs.import_inbox()


def test_a_worker_killed_holding_a_job_leaves_it_to_be_completed_once(
    networks: Networks, tmp_path: Path
) -> None:
    env = networks.environment(AIRGAP_JOB_LEASE_SECONDS="2", AIRGAP_EXECUTOR_THREADS="1")
    with (
        process([sys.executable, str(SLOW_WORKER)], env, tmp_path / "slow.log") as slow,
        in_process(networks) as (request, response),
    ):
        _queue_one_query(networks, request, response)  # while the worker starts
        held = _wait_until_held(response, slow.pid)
        slow.send_signal(signal.SIGKILL)
        slow.wait(10)
        [job] = _jobs(response)
        assert job.status is JobStatus.PROCESSING and job.attempts == 1  # nobody finished it

        def taken_over() -> int:
            executed: int = response.jobs.execute().fields["executed"]
            return executed

        wait_for(taken_over, timeout=15, interval=0.2, what="the lease to run out")
        assert response.jobs.execute().fields["executed"] == 0  # nothing left to do
        [job] = _jobs(response)
        with response.side.uow() as uow:
            result = uow.results.get_for_job(job.id)
            results = [r for r in uow.results.all() if r.job_id == job.id]  # type: ignore[attr-defined]
    assert job.id == held.id
    assert job.status is JobStatus.COMPLETED and job.attempts == 2
    assert len(results) == 1 and result is not None and result.status == "completed"


def test_a_worker_stopped_gracefully_hands_back_the_job_in_hand(
    networks: Networks, tmp_path: Path
) -> None:
    env = networks.environment(AIRGAP_SHUTDOWN_GRACE_SECONDS="1", AIRGAP_EXECUTOR_THREADS="1")
    with (
        process([sys.executable, str(SLOW_WORKER)], env, tmp_path / "slow.log") as slow,
        in_process(networks) as (request, response),
    ):
        _queue_one_query(networks, request, response)  # while the worker starts
        _wait_until_held(response, slow.pid)
        slow.send_signal(signal.SIGTERM)
        assert slow.wait(20) == 0
        [job] = _jobs(response)
        assert job.status is JobStatus.PENDING and job.attempts == 0  # released, not spent
        assert job.assigned_worker is None
        assert response.jobs.execute().fields["executed"] == 1  # at once: no lease to wait
        [job] = _jobs(response)
    assert job.status is JobStatus.COMPLETED and job.attempts == 1
