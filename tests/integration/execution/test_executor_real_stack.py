"""The executor wired for real: PostgreSQL (SKIP LOCKED claims, leases), the tantivy engine,
the Redis + table query cache. Retries and permanent failures, a hostile query from the other
network, the cache across reordered queries, and several executors at once."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from real_stack import Stack, hostile_record, requests_batch

from airgap.domain.model.caching import cache_key
from airgap.domain.model.jobs import JobStatus, QueryJob, QueryResult
from airgap.domain.model.users import ProfileType
from airgap.domain.services import response_transfer
from airgap.domain.services.execute_queries import Execution, execute_available, execute_next
from airgap.domain.services.query_cache import flush_hit_counts
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from support.pipeline import back, forward, make_user

KETTLE = {"index": "products", "query": {"match": {"name": "kettle"}}, "size": 10}


def queue(stack: Stack, user: uuid.UUID, params: dict[str, Any] = KETTLE) -> uuid.UUID:
    request_id = submit_request(stack.system.request, SubmitRequest(user, "match", params))
    forward(stack.system)
    return request_id.request.id


def job_of(stack: Stack, request_id: uuid.UUID) -> QueryJob:
    with stack.store.unit_of_work() as uow:
        job = uow.jobs.get_by_request(request_id)
        assert job is not None
        return job


def results_of(stack: Stack, request_id: uuid.UUID) -> list[QueryResult]:
    job = job_of(stack, request_id)
    with stack.store.unit_of_work() as uow:
        return [r for r in uow.results.all() if r.job_id == job.id]


def run(stack: Stack) -> Execution:
    execution = execute_next(stack.system.response, "worker-1")
    assert execution is not None
    return execution


def test_transient_errors_are_retried_with_back_off_then_answered(
    stack: Stack, alice: uuid.UUID
) -> None:
    request_id = queue(stack, alice)
    stack.engine.fail_next(2, transient=True)

    assert run(stack).status is JobStatus.RETRY
    assert execute_next(stack.system.response, "worker-1") is None  # backing off 1 s
    stack.clock.advance(1)
    assert run(stack).status is JobStatus.RETRY
    stack.clock.advance(1)
    assert execute_next(stack.system.response, "worker-1") is None  # now 2 s
    stack.clock.advance(1)
    assert run(stack).status is JobStatus.COMPLETED

    assert job_of(stack, request_id).attempts == 3
    (result,) = results_of(stack, request_id)
    assert (result.status, result.result_count, result.cache_hit) == ("completed", 4, False)
    assert result.execution_time_ms is not None and result.took_ms is not None
    assert stack.engine.calls == 3


def test_three_transient_errors_end_in_one_explicit_failure(stack: Stack, alice: uuid.UUID) -> None:
    request_id = queue(stack, alice)
    stack.engine.fail_next(3, transient=True)
    for _ in range(3):
        run(stack)
        stack.clock.advance(10)

    assert execute_next(stack.system.response, "worker-1") is None
    (result,) = results_of(stack, request_id)
    assert result.status == "failed"
    assert result.error is not None and "gave up after 3 attempts" in result.error
    back(stack.system)
    view = get_request(stack.system.request, alice, request_id)
    assert view.request.status == "failed"


def test_a_permanent_error_fails_at_once(stack: Stack, alice: uuid.UUID) -> None:
    request_id = queue(stack, alice)
    stack.engine.fail_next(1, transient=False)

    assert run(stack).status is JobStatus.FAILED
    assert job_of(stack, request_id).attempts == 1
    (result,) = results_of(stack, request_id)
    assert result.error is not None and result.error.startswith("search rejected: parsing")
    assert stack.engine.calls == 1


def test_the_engines_own_refusal_is_permanent(stack: Stack, alice: uuid.UUID) -> None:
    """``orders`` passes the policy but the engine has no such index: no retry."""
    request_id = queue(stack, alice, {"index": "orders", "query": {"match": {"name": "x"}}})
    assert run(stack).status is JobStatus.FAILED
    (result,) = results_of(stack, request_id)
    assert result.error is not None and "index_not_found_exception" in result.error


def test_a_policy_violation_from_the_other_network_never_reaches_the_engine(
    stack: Stack,
) -> None:
    hostile = [
        {"index": "products", "query": {"script": {"script": {"source": "1"}}}},
        {"index": "secrets", "query": {"match_all": {}}},
        {"index": "products", "query": {"wildcard": {"name": "*ettle"}}},
        {"index": "products", "query": {"match_all": {}}, "size": 100_000},
    ]
    records = [hostile_record(q) for q in hostile]
    stack.system.to_response.inbox.deliver(requests_batch(records, sequence=1))
    (imported,) = response_transfer.import_batches(stack.system.response)
    assert imported.accepted == len(hostile)

    runs = execute_available(stack.system.response, "worker-1")

    assert [r.status for r in runs] == [JobStatus.FAILED] * len(hostile)
    assert all((r.error or "").startswith("query policy: ") for r in runs)
    assert stack.engine.calls == 0
    with stack.store.unit_of_work() as uow:
        assert {r.status for r in uow.results.all()} == {"failed"}
        assert len(uow.results.all()) == len(hostile)


def test_the_second_identical_query_reordered_is_answered_from_the_cache(
    stack: Stack, alice: uuid.UUID
) -> None:
    first = queue(stack, alice)
    second = queue(
        stack, alice, {"size": 10, "query": {"match": {"name": "kettle"}}, "index": "products"}
    )

    runs = execute_available(stack.system.response, "worker-1")

    assert [r.cache_hit for r in runs] == [False, True]
    assert stack.engine.calls == 1
    (answer,), (cached,) = results_of(stack, first), results_of(stack, second)
    assert cached.cache_hit is True and answer.cache_hit is False
    assert cached.result_data == answer.result_data
    key = cache_key(stack.system.response.policy.validate("match", KETTLE).template())
    assert stack.redis_entry(key)["hit_count"] == "1"
    flush_hit_counts(stack.cache)
    assert stack.table.peek(key, stack.clock.now()).hit_count == 1  # type: ignore[union-attr]
    back(stack.system)
    view = get_request(stack.system.request, alice, second)
    assert view.response is not None and view.response.cache_hit is True


def test_concurrent_executors_never_run_a_job_twice(stack: Stack) -> None:
    carol = make_user(stack.system, "carol", ProfileType.ENTERPRISE)
    words = ["kettle", "toaster", "red", "blue", "green", "black", "white"]
    for n in range(42):
        # Distinct queries, so every job reaches the engine.
        queue(
            stack,
            carol,
            {"index": "products", "query": {"match": {"name": words[n % 7]}}, "size": 1 + n},
        )

    def worker(name: str) -> list[Execution]:
        return execute_available(stack.system.response, name)

    with ThreadPoolExecutor(4) as pool:
        runs = [e for batch in pool.map(worker, [f"w{n}" for n in range(4)]) for e in batch]

    ran = Counter(r.job_id for r in runs)
    assert len(ran) == 42
    assert max(ran.values()) == 1
    assert {r.status for r in runs} == {JobStatus.COMPLETED}
    assert stack.engine.calls == 42
    with stack.store.unit_of_work() as uow:
        jobs, results = uow.jobs.all(), uow.results.all()
    assert {j.attempts for j in jobs} == {1}
    assert Counter(r.job_id for r in results) == Counter({j.id: 1 for j in jobs})
