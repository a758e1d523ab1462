"""Executing queued queries: priority, cache, retries, permanent failures, leases."""

from __future__ import annotations

import uuid
from datetime import timedelta

from airgap.domain.model.jobs import JobStatus
from airgap.domain.model.users import ProfileType
from airgap.domain.services.execute_queries import (
    claim_next,
    execute_available,
    execute_next,
    run_claimed,
)
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.entrypoints.bootstrap.memory import MemorySystem
from support.pipeline import MATCH_KETTLE, back, forward, make_user


def queue(
    system: MemorySystem, user: uuid.UUID, params: dict[str, object] = MATCH_KETTLE
) -> uuid.UUID:
    request_id = submit_request(system.request, SubmitRequest(user, "match", params)).request.id
    forward(system)
    return request_id


def job_of(system: MemorySystem, request_id: uuid.UUID):  # type: ignore[no-untyped-def]
    with system.response_store.unit_of_work() as uow:
        return uow.jobs.get_by_request(request_id)


def result_of(system: MemorySystem, request_id: uuid.UUID):  # type: ignore[no-untyped-def]
    job = job_of(system, request_id)
    with system.response_store.unit_of_work() as uow:
        return uow.results.get_for_job(job.id)


def test_jobs_run_most_urgent_first(system: MemorySystem, user: uuid.UUID) -> None:
    premium = make_user(system, "bob", ProfileType.PREMIUM)
    low = queue(system, user)
    high = queue(system, premium)

    first = execute_next(system.response, "w")
    second = execute_next(system.response, "w")

    assert first is not None and second is not None
    assert (first.job_id, second.job_id) == (job_of(system, high).id, job_of(system, low).id)
    assert execute_next(system.response, "w") is None


def test_the_second_identical_query_is_answered_from_the_cache(
    system: MemorySystem, user: uuid.UUID
) -> None:
    queue(system, user)
    queue(system, user, {"query": {"match": {"name": "kettle"}}, "index": "products"})

    runs = execute_available(system.response, "w")

    assert [r.cache_hit for r in runs] == [False, True]
    assert system.search.calls == 1


def test_transient_errors_are_retried_with_back_off_then_succeed(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = queue(system, user)
    system.search.fail_next(2, transient=True)

    assert execute_next(system.response, "w").status is JobStatus.RETRY  # type: ignore[union-attr]
    assert execute_next(system.response, "w") is None  # backing off for 1 s
    system.clock.advance(1)
    assert execute_next(system.response, "w").status is JobStatus.RETRY  # type: ignore[union-attr]
    system.clock.advance(1)
    assert execute_next(system.response, "w") is None  # now 2 s
    system.clock.advance(1)
    assert execute_next(system.response, "w").status is JobStatus.COMPLETED  # type: ignore[union-attr]
    assert job_of(system, request_id).attempts == 3


def test_three_transient_failures_end_in_an_explicit_failure(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = queue(system, user)
    system.search.fail_next(3, transient=True)
    for _ in range(3):
        execute_next(system.response, "w")
        system.clock.advance(10)

    assert job_of(system, request_id).status is JobStatus.FAILED
    result = result_of(system, request_id)
    assert result.status == "failed"
    assert "gave up after 3 attempts" in result.error
    back(system)
    view = get_request(system.request, user, request_id)
    assert view.request.status == "failed"
    assert view.response is not None
    assert "injected timeout" in (view.request.error_message or "")


def test_a_permanent_error_fails_at_once(system: MemorySystem, user: uuid.UUID) -> None:
    request_id = queue(system, user)
    system.search.fail_next(1, transient=False)

    run = execute_next(system.response, "w")

    assert run is not None and run.status is JobStatus.FAILED
    assert job_of(system, request_id).attempts == 1
    assert result_of(system, request_id).error.startswith("search rejected")


def test_a_policy_violation_from_the_other_side_never_reaches_the_engine(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = queue(system, user)
    with system.response_store.unit_of_work() as uow:
        job = uow.jobs.get_by_request(request_id)
        assert job is not None
        job.query_params = {
            "index": "products",
            "query": {"script": {"script": {"source": "doc['x'].value > 1"}}},
        }
        uow.jobs.save(job)
        uow.commit()

    run = execute_next(system.response, "w")

    assert run is not None and run.status is JobStatus.FAILED
    assert system.search.calls == 0
    assert result_of(system, request_id).error.startswith("query policy: query.script")


def test_an_expired_request_is_answered_failed_expired(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = queue(system, user)
    system.clock.advance(timedelta(days=8))

    run = execute_next(system.response, "w")

    assert run is not None and run.error == "expired"
    assert system.search.calls == 0
    back(system)
    assert get_request(system.request, user, request_id).request.error_message == "expired"


def test_a_worker_that_dies_mid_job_leaves_it_claimable_after_the_lease(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = queue(system, user)
    dead = claim_next(system.response, "worker-that-dies")
    assert dead is not None
    assert claim_next(system.response, "w2") is None  # held under a live lease

    system.clock.advance(system.response.lease)
    taken_over = claim_next(system.response, "w2")
    assert taken_over is not None and taken_over.id == dead.id
    assert run_claimed(system.response, taken_over, "w2").status is JobStatus.COMPLETED

    # The first worker wakes up and tries to finish: its outcome is dropped.
    late = run_claimed(system.response, dead, "worker-that-dies")
    assert late.error == "lost the lease"
    with system.response_store.unit_of_work() as uow:
        assert len([r for r in uow.results.all() if r.request_id == request_id]) == 1


def test_a_query_that_kills_every_worker_ends_in_an_explicit_failure(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = queue(system, user)
    for attempt in range(3):
        held = claim_next(system.response, f"doomed-{attempt}")
        assert held is not None and held.status is JobStatus.PROCESSING
        system.clock.advance(system.response.lease)  # the worker dies holding it

    run = execute_next(system.response, "survivor")

    assert run is not None and run.status is JobStatus.FAILED
    assert system.search.calls == 0
    assert "abandoned" in result_of(system, request_id).error
    assert execute_next(system.response, "survivor") is None
    back(system)
    assert get_request(system.request, user, request_id).request.status == "failed"
