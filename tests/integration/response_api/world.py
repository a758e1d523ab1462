"""Things to look at and act on: jobs (one answered, one failed), results, a cache entry,
export and import batches, a dead letter — made through the use cases and ports, as the
workers would."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import attrs

from airgap.domain.model.batching import (
    BatchType,
    ImportBatch,
    ImportStatus,
    Network,
)
from airgap.domain.model.jobs import QueryJob
from airgap.domain.model.operations import DeadLetter
from airgap.domain.services.context import ResponseSide
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.response_transfer import export_results
from airgap.domain.services.users import export_users
from airgap.entrypoints.bootstrap.containers import ResponseNetwork

MATCH = {"index": "products", "query": {"match": {"name": "steel"}}, "size": 3}


def queue_job(side: ResponseSide, params: dict[str, Any], *, priority: int = 5) -> QueryJob:
    """A job as the importer makes it (hash from the same policy)."""
    now = side.clock.now()
    digest = side.policy.validate("match", MATCH).query_hash() if params is MATCH else "0" * 64
    job = QueryJob(
        id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        query_type="match",
        query_params=params,
        query_hash=digest,
        priority=priority,
        created_at=now,
        expires_at=now + timedelta(days=7),
        imported_at=now,
        import_batch_id=uuid.uuid4(),
        import_batch_sequence=1,
    )
    with side.uow() as uow:
        uow.jobs.add_if_absent(job)
        uow.commit()
    return job


@attrs.frozen
class World:
    answered: QueryJob
    failed: QueryJob
    pending: QueryJob
    result_id: uuid.UUID
    failed_result_id: uuid.UUID
    responses_batch: uuid.UUID
    users_batch: uuid.UUID
    import_batch: uuid.UUID
    letter: DeadLetter
    cache_key: str


def build_world(container: ResponseNetwork) -> World:
    side = container.side()
    answered = queue_job(side, MATCH, priority=9)
    # Passes the policy on the request network's side but not here: fails at once.
    failed = queue_job(side, {"index": "secret", "query": {"match_all": {}}}, priority=8)
    execute_available(side, "test-worker")
    with side.uow() as uow:
        result = uow.results.get_for_job(answered.id)
        failure = uow.results.get_for_job(failed.id)
        assert result is not None and failure is not None
    # Export only the answer, so the failure can still be retried.
    with side.uow() as uow:
        withdrawn = attrs.evolve(failure)
        uow.results.withdraw(failure.id)
        uow.commit()
    [responses] = export_results(side)
    with side.uow() as uow:
        uow.results.add(withdrawn)
        uow.commit()
    [users] = export_users(side)
    assert users.batch_type is BatchType.USERS
    pending = queue_job(side, MATCH, priority=3)
    imported = ImportBatch(
        id=uuid.uuid4(),
        batch_id=uuid.uuid4(),
        batch_type=BatchType.REQUESTS,
        source_network=Network.REQUEST,
        sequence=1,
        filename="requests_20260101_000000_x",
        status=ImportStatus.COMPLETED,
        received_at=side.clock.now(),
        record_count=3,
        accepted=3,
    )
    with side.uow() as uow:
        uow.import_batches.add(imported)
        uow.commit()
    letter = DeadLetter(
        id=uuid.uuid4(),
        message_id=uuid.uuid4().hex,
        queue_name="default",
        actor_name="results.export",
        args=(),
        kwargs={"reason": "test"},
        options={},
        error="ConnectionError: broker went away",
        attempts=3,
        failed_at=side.clock.now(),
    )
    assert container.dead_letters().add(letter)
    [entry] = container.cache_inspector().entries(side.clock.now()).items
    return World(
        answered=answered,
        failed=failed,
        pending=pending,
        result_id=result.id,
        failed_result_id=failure.id,
        responses_batch=responses.batch_id,
        users_batch=users.batch_id,
        import_batch=imported.id,
        letter=letter,
        cache_key=entry.key,
    )
