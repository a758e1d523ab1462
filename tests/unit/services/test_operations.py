"""Operators' actions: retry a failed job, re-export a batch, the cache, dead letters."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from airgap.adapters.memory.operations import MemoryDeadLetters
from airgap.domain.model.batching import BatchType, ExportStatus
from airgap.domain.model.errors import Conflict, NotFound, QueryPolicyViolation
from airgap.domain.model.jobs import JobStatus
from airgap.domain.model.operations import DeadLetter
from airgap.domain.services import response_transfer
from airgap.domain.services.admin_audit import AUDIT_COMPONENT, Actor
from airgap.domain.services.execute_queries import EXPORT_TASK, execute_available
from airgap.domain.services.operations import Operations
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.domain.services.response_transfer import EXECUTE_TASK
from airgap.domain.services.user_admin import USERS_EXPORT_TASK
from airgap.domain.services.users import export_users
from airgap.entrypoints.bootstrap.memory import MemorySystem
from support.pipeline import MATCH_KETTLE, back, forward

ADMIN = Actor("root", uuid.uuid4(), "token")


@pytest.fixture
def ops(system: MemorySystem) -> Operations:
    return Operations(system.response, MemoryDeadLetters())


def failed_job(system: MemorySystem, user: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """A request whose job failed for good (the backend refused it); (request id, job id)."""
    request_id = submit_request(
        system.request, SubmitRequest(user, "match", MATCH_KETTLE)
    ).request.id
    forward(system)
    system.search.fail_next(transient=False)
    [execution] = execute_available(system.response, "w1")
    assert execution.status is JobStatus.FAILED
    return request_id, execution.job_id


def audit_actions(system: MemorySystem) -> list[object]:
    with system.response_store.unit_of_work() as uow:
        return [
            e.details["action"] for e in uow.system_logs.entries() if e.component == AUDIT_COMPONENT
        ]


def test_retrying_a_failure_that_has_not_crossed_sends_only_the_new_answer(
    system: MemorySystem, user: uuid.UUID, ops: Operations
) -> None:
    request_id, job_id = failed_job(system, user)
    system.response_tasks.drain()
    job = ops.retry_job(job_id, ADMIN)
    assert job.status is JobStatus.PENDING and job.attempts == 0
    assert system.response_tasks.drain() == [(EXECUTE_TASK, {})]
    assert audit_actions(system) == ["job.retry"]
    with system.response_store.unit_of_work() as uow:
        assert uow.results.get_for_job(job_id) is None  # the failure was withdrawn
    [execution] = execute_available(system.response, "w1")
    assert execution.status is JobStatus.COMPLETED
    back(system)
    view = get_request(system.request, user, request_id)
    assert view.request.status.value == "completed"


def test_a_failure_that_already_crossed_is_not_retried(
    system: MemorySystem, user: uuid.UUID, ops: Operations
) -> None:
    request_id, job_id = failed_job(system, user)
    back(system)
    assert get_request(system.request, user, request_id).request.status.value == "failed"
    with pytest.raises(Conflict, match="already exported"):
        ops.retry_job(job_id, ADMIN)
    assert audit_actions(system) == []


def test_only_failed_jobs_are_retried(
    system: MemorySystem, user: uuid.UUID, ops: Operations
) -> None:
    submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    forward(system)
    with system.response_store.unit_of_work() as uow:
        [job] = uow.jobs.all()
    with pytest.raises(Conflict, match="pending"):
        ops.retry_job(job.id, ADMIN)
    with pytest.raises(NotFound):
        ops.retry_job(uuid.uuid4(), ADMIN)


def test_reexport_sends_the_results_again_in_a_new_batch(
    system: MemorySystem, user: uuid.UUID, ops: Operations
) -> None:
    submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    forward(system)
    execute_available(system.response, "w1")
    [first] = response_transfer.export_results(system.response)
    system.response_tasks.drain()
    outcome = ops.reexport_batch(first.batch_id, ADMIN)
    assert outcome.records == 1 and outcome.task == EXPORT_TASK
    assert system.response_tasks.drain() == [(EXPORT_TASK, {})]
    [again] = response_transfer.export_results(system.response)
    assert again.batch_id != first.batch_id and again.sequence == first.sequence + 1
    assert again.record_count == 1
    with system.response_store.unit_of_work() as uow:
        stored = uow.export_batches.get(first.batch_id)
        assert stored is not None and stored.status is ExportStatus.RESENT
    with pytest.raises(Conflict, match="already re-sent"):
        ops.reexport_batch(first.batch_id, ADMIN)
    assert audit_actions(system) == ["batch.reexport"]


def test_an_acknowledged_batch_is_not_reexported(
    system: MemorySystem, user: uuid.UUID, ops: Operations
) -> None:
    submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    forward(system)
    execute_available(system.response, "w1")
    back(system)
    with system.response_store.unit_of_work() as uow:
        [batch] = [b for b in uow.export_batches.all() if b.batch_type is BatchType.RESPONSES]
    # The request network's next batch carries the ack.
    submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    forward(system)
    with pytest.raises(Conflict, match="acknowledged"):
        ops.reexport_batch(batch.id, ADMIN)
    with pytest.raises(NotFound):
        ops.reexport_batch(uuid.uuid4(), ADMIN)


def test_reexporting_a_users_batch_forces_a_full_snapshot(
    system: MemorySystem, user: uuid.UUID, ops: Operations
) -> None:
    with system.response_store.unit_of_work() as uow:
        [batch] = [b for b in uow.export_batches.all() if b.batch_type is BatchType.USERS]
    assert export_users(system.response) == []  # nothing changed: nothing to send
    outcome = ops.reexport_batch(batch.id, ADMIN)
    assert outcome.task == USERS_EXPORT_TASK
    [snapshot] = export_users(system.response)
    assert snapshot.batch_type is BatchType.USERS and snapshot.record_count == 1


def test_cache_warm_invalidate_and_clear(system: MemorySystem, ops: Operations) -> None:
    warmed = ops.warm_cache("match", MATCH_KETTLE, ADMIN)
    assert warmed.entry.result_count == 2 and not warmed.replaced
    assert ops.warm_cache("match", MATCH_KETTLE, ADMIN).replaced
    cache = system.response.cache
    assert cache.get(warmed.entry.key, system.clock.now()) is not None
    ops.invalidate_cache_entry(warmed.entry.key, ADMIN)
    with pytest.raises(NotFound):
        ops.invalidate_cache_entry(warmed.entry.key, ADMIN)
    ops.warm_cache("match", MATCH_KETTLE, ADMIN)
    assert ops.invalidate_cache_index("other", ADMIN) == 0
    assert ops.invalidate_cache_index("products", ADMIN) == 1
    ops.warm_cache("match", MATCH_KETTLE, ADMIN)
    assert ops.clear_cache(ADMIN) == 1
    with pytest.raises(QueryPolicyViolation):
        ops.warm_cache("match", {"index": "secret", "query": {"match_all": {}}}, ADMIN)
    assert audit_actions(system).count("cache.warm") == 4


def letter(system: MemorySystem, **changes: object) -> DeadLetter:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "message_id": str(uuid.uuid4()),
        "queue_name": "default",
        "actor_name": "results.export",
        "args": (),
        "kwargs": {"batch": "7"},
        "options": {},
        "error": "boom",
        "attempts": 3,
        "failed_at": system.clock.now() - timedelta(minutes=1),
    }
    values.update(changes)
    return DeadLetter(**values)  # type: ignore[arg-type]


def test_dead_letters_are_retried_once_or_discarded(system: MemorySystem, ops: Operations) -> None:
    kept = letter(system)
    assert ops.dead_letters.add(kept)
    assert not ops.dead_letters.add(letter(system, message_id=kept.message_id))
    system.response_tasks.drain()
    retried = ops.retry_dead_letter(kept.id, ADMIN)
    assert retried.retried_at == system.clock.now()
    assert system.response_tasks.drain() == [("results.export", {"batch": "7"})]
    with pytest.raises(Conflict, match="already retried"):
        ops.retry_dead_letter(kept.id, ADMIN)
    odd = letter(system, args=(1,))
    ops.dead_letters.add(odd)
    with pytest.raises(Conflict, match="positional"):
        ops.retry_dead_letter(odd.id, ADMIN)
    assert ops.discard_dead_letter(odd.id, ADMIN).id == odd.id
    with pytest.raises(NotFound):
        ops.discard_dead_letter(odd.id, ADMIN)
    assert ops.dead_letters.page(retried=True).total == 1
    assert ops.dead_letters.page(retried=False).total == 0
    assert audit_actions(system) == ["dead_letter.retry", "dead_letter.discard"]
