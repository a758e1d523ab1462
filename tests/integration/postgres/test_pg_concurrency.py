"""Real concurrency on PostgreSQL: workers in threads, each with its own unit of work and
connection, released together by a barrier, going through the use cases."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import attrs
import orjson
from pg_systems import postgres_system, request_records, requests_batch

from airgap.adapters.memory.transfer import BatchFile, MemoryInbox
from airgap.adapters.postgres.unit_of_work import PostgresRequestStore, PostgresResponseStore
from airgap.adapters.serialization import decode_record, manifest_from_json
from airgap.domain.model.batching import BatchLimits, Channel, ImportBatch, ImportStatus, Network
from airgap.domain.model.jobs import JobStatus, QueryJob
from airgap.domain.model.records import RequestRecord
from airgap.domain.model.requests import RequestStatus
from airgap.domain.model.users import ProfileType
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.context import RequestSide, ResponseSide
from airgap.domain.services.execute_queries import claim_next, execute_available
from airgap.domain.services.requests import SubmitRequest, submit_request
from support.pipeline import MATCH_KETTLE, make_user

T = TypeVar("T")


def together(workers: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(0)`` … ``work(workers - 1)`` in threads released at the same moment."""
    start = threading.Barrier(workers)

    def run(number: int) -> T:
        start.wait()
        return work(number)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


def deliveries(files: list[BatchFile], network: Network, copies: int) -> list[MemoryInbox]:
    """``copies`` inboxes, each holding every file: the same batches arriving twice."""
    inboxes = [MemoryInbox(network) for _ in range(copies)]
    for inbox in inboxes:
        for file in files:
            inbox.deliver(file)
    return inboxes


def import_responses_racing(side: ResponseSide, inboxes: list[MemoryInbox]) -> list[ImportBatch]:
    def run(n: int) -> list[ImportBatch]:
        return response_transfer.import_batches(attrs.evolve(side, inbox=inboxes[n]))

    return [b for batch in together(len(inboxes), run) for b in batch]


def import_results_racing(side: RequestSide, inboxes: list[MemoryInbox]) -> list[ImportBatch]:
    def run(n: int) -> list[ImportBatch]:
        return request_transfer.import_batches(attrs.evolve(side, inbox=inboxes[n]))

    return [b for batch in together(len(inboxes), run) for b in batch]


def test_workers_claiming_at_once_never_take_the_same_job(
    pg_response_store: PostgresResponseStore,
) -> None:
    side = postgres_system(response_store=pg_response_store).response
    jobs = 160
    (inbox,) = deliveries([requests_batch(request_records(jobs), 1)], Network.RESPONSE, 1)
    (imported,) = response_transfer.import_batches(attrs.evolve(side, inbox=inbox))
    assert imported.accepted == jobs

    def work(number: int) -> list[QueryJob]:
        mine: list[QueryJob] = []
        while (job := claim_next(side, f"worker-{number}")) is not None:
            mine.append(job)
        return mine

    per_worker = together(8, work)
    counts = Counter(job.id for mine in per_worker for job in mine)
    assert [job_id for job_id, n in counts.items() if n > 1] == []
    assert len(counts) == jobs
    for mine in per_worker:  # each worker took jobs in the queue's order
        keys = [(-j.priority, j.imported_at, j.id.bytes) for j in mine]
        assert keys == sorted(keys)
    with pg_response_store.unit_of_work() as uow:
        stored = uow.jobs.all()
    assert {j.status for j in stored} == {JobStatus.PROCESSING}
    assert {j.attempts for j in stored} == {1}


def test_two_imports_of_the_same_batch_racing_insert_each_request_once(
    pg_response_store: PostgresResponseStore,
) -> None:
    side = postgres_system(response_store=pg_response_store).response
    total = 0
    for sequence in (1, 2, 3):
        records = request_records(200, start=1000 * sequence)
        total += len(records)
        inboxes = deliveries([requests_batch(records, sequence)], Network.RESPONSE, 2)
        outcomes = import_responses_racing(side, inboxes)
        assert sorted(b.status for b in outcomes) == [
            ImportStatus.COMPLETED,
            ImportStatus.DUPLICATE,
        ]
        completed = next(b for b in outcomes if b.status is ImportStatus.COMPLETED)
        assert (completed.accepted, completed.duplicates) == (len(records), 0)
    with pg_response_store.unit_of_work() as uow:
        jobs = uow.jobs.all()
        inbound = uow.channels.inbound(Channel.from_(Network.REQUEST))
    assert len(jobs) == total
    assert len({j.request_id for j in jobs}) == total
    assert inbound.acks().received == ((1, 3),)


def test_two_batches_carrying_the_same_requests_racing_insert_each_once(
    pg_response_store: PostgresResponseStore,
) -> None:
    """A re-send: the same requests in two batches (sequences 1 and 2) imported at the same
    time. Each request becomes one job, and both sequence numbers are recorded (the inbound
    channel's ranges are not lost to a concurrent update)."""
    side = postgres_system(response_store=pg_response_store).response
    records = request_records(300)
    first, second = (MemoryInbox(Network.RESPONSE) for _ in range(2))
    first.deliver(requests_batch(records, 1))
    second.deliver(requests_batch(records, 2))
    outcomes = import_responses_racing(side, [first, second])
    assert {b.status for b in outcomes} == {ImportStatus.COMPLETED}
    assert sum(b.accepted for b in outcomes) == len(records)
    assert sum(b.duplicates for b in outcomes) == len(records)
    with pg_response_store.unit_of_work() as uow:
        jobs = uow.jobs.all()
        inbound = uow.channels.inbound(Channel.from_(Network.REQUEST))
    assert sorted(j.request_id for j in jobs) == sorted(r.request_id for r in records)
    assert inbound.acks().received == ((1, 2),)
    assert inbound.ack_owed


def test_two_imports_of_the_same_results_racing_answer_each_request_once(
    pg_request_store: PostgresRequestStore,
) -> None:
    system = postgres_system(request_store=pg_request_store)
    user = make_user(system, "alice", ProfileType.PREMIUM)
    for _ in range(40):
        submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    request_transfer.export_requests(system.request)
    system.to_response.carry()
    response_transfer.import_batches(system.response)
    execute_available(system.response, "worker-1")
    response_transfer.export_results(system.response)

    inboxes = deliveries(system.to_request.outbox.take(), Network.REQUEST, 2)
    outcomes = import_results_racing(system.request, inboxes)

    assert sum(b.accepted for b in outcomes) == 40
    with pg_request_store.unit_of_work() as uow:
        requests = uow.requests.all()
        responses = uow.responses.all()
    assert {r.status for r in requests} == {RequestStatus.COMPLETED}
    assert sorted(r.request_id for r in responses) == sorted(r.id for r in requests)


def test_exporters_running_at_once_send_each_request_once_in_gapless_sequence(
    pg_request_store: PostgresRequestStore,
) -> None:
    system = postgres_system(request_store=pg_request_store)
    user = make_user(system, "bulk", ProfileType.ADMIN)
    side = attrs.evolve(system.request, limits=BatchLimits(max_records=40))
    for _ in range(400):
        submit_request(side, SubmitRequest(user, "match", MATCH_KETTLE))
        system.clock.advance(timedelta(milliseconds=1))

    together(4, lambda _n: request_transfer.export_requests(side))

    sequences: list[int] = []
    carried: list[uuid.UUID] = []
    for file in system.to_response.outbox.take():
        sequences.append(manifest_from_json(orjson.loads(file.manifest)).sequence)
        for line in file.payload.splitlines():
            record = decode_record(line)
            if isinstance(record, RequestRecord):
                carried.append(record.request_id)
    assert sorted(sequences) == list(range(1, len(sequences) + 1))
    assert len(carried) == 400
    assert len(set(carried)) == 400
    with pg_request_store.unit_of_work() as uow:
        stored = uow.requests.all()
    assert {r.status for r in stored} == {RequestStatus.EXPORTED}
    assert {r.export_count for r in stored} == {1}
