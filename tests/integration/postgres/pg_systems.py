"""The in-memory two-network system with one or both databases on PostgreSQL, batches made
by hand for import races, and a story that exercises both networks' stores."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import attrs

from airgap.adapters.memory.transfer import BatchFile, MemoryOutbox
from airgap.adapters.postgres.unit_of_work import PostgresRequestStore, PostgresResponseStore
from airgap.domain.model.batching import Acks, BatchHeader, BatchType, Channel, Network
from airgap.domain.model.records import RequestRecord
from airgap.domain.model.users import ProfileType
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.requests import SubmitRequest, cancel_request, submit_request
from airgap.entrypoints.bootstrap.memory import MemorySystem, build_memory_system
from support.pipeline import MATCH_KETTLE, PRODUCTS, back, forward, full_cycle, make_user

MATCH = {"index": "products", "query": {"match": {"name": "kettle"}}}


def on_postgres(
    system: MemorySystem,
    request_store: PostgresRequestStore | None = None,
    response_store: PostgresResponseStore | None = None,
) -> MemorySystem:
    """``system`` with its request and/or response database replaced by PostgreSQL."""
    request = system.request
    response = system.response
    if request_store is not None:
        request = attrs.evolve(request, uow=request_store.unit_of_work)
    if response_store is not None:
        response = attrs.evolve(response, uow=response_store.unit_of_work)
    return attrs.evolve(system, request=request, response=response)


def postgres_system(
    request_store: PostgresRequestStore | None = None,
    response_store: PostgresResponseStore | None = None,
) -> MemorySystem:
    return on_postgres(
        build_memory_system(documents={"products": PRODUCTS}), request_store, response_store
    )


def request_records(count: int, *, start: int = 0) -> list[RequestRecord]:
    """Requests as the request network exports them (ids are predictable: start..)."""
    created = build_memory_system().clock.now()
    return [
        RequestRecord(
            request_id=uuid.UUID(int=0xA000_0000 + start + n),
            user_id=uuid.UUID(int=0xB000_0000),
            query_type="match",
            query_params=dict(MATCH),
            query_hash="0" * 64,
            priority=1 + n % 10,
            created_at=created,
            expires_at=created + timedelta(days=7),
        )
        for n in range(count)
    ]


def requests_batch(records: Sequence[RequestRecord], sequence: int) -> BatchFile:
    """A valid ``requests`` batch from the request network, as the carrier delivers it."""
    outbox = MemoryOutbox()
    header = BatchHeader(
        batch_id=uuid.uuid4(),
        batch_type=BatchType.REQUESTS,
        channel=Channel.from_(Network.REQUEST),
        sequence=sequence,
        created_at=build_memory_system().clock.now(),
        acks=Acks(),
    )
    outbox.write(header, list(records))
    (file,) = outbox.take()
    return file


TONER = {"index": "products", "query": {"match": {"name": "toaster"}}}


class UnsaltedHasher:
    """Equal passwords, equal hashes: both runs of the story write identical bytes."""

    def hash(self, password: str) -> str:
        return f"plain${password}"

    def verify(self, hashed: str, password: str) -> bool:
        return hashed == f"plain${password}"


def story(system: MemorySystem) -> None:
    """Users, requests of several priorities, a cancellation, a crossing that is lost and
    re-sent, a batch delivered twice, an answer from a stored answer, acks both ways."""
    alice = make_user(system, "alice", ProfileType.PREMIUM)
    bob = make_user(system, "bob")
    submitted = []
    for n in range(6):
        who = alice if n % 2 else bob
        query = MATCH_KETTLE if n % 3 else TONER
        submitted.append(
            submit_request(
                system.request, SubmitRequest(who, "match", query, priority=1 + n)
            ).request.id
        )
        system.clock.advance(1)
    cancel_request(system.request, bob, submitted[0])
    full_cycle(system)

    # A crossing lost on the way: the carrier drops it; the re-send rule sends it again.
    submit_request(system.request, SubmitRequest(alice, "match", MATCH_KETTLE))
    request_transfer.export_requests(system.request)
    system.to_response.outbox.take()
    system.clock.advance(timedelta(hours=1))
    assert request_transfer.resend_unacknowledged(system.request) == 1
    forward(system)
    execute_available(system.response, "worker-1")
    # The results batch arrives twice.
    response_transfer.export_results(system.response)
    files = system.to_request.outbox.take()
    for file in files + files:
        system.to_request.inbox.deliver(file)
    request_transfer.import_batches(system.request)

    # Answered at once from a stored answer (max_age_seconds).
    submit_request(
        system.request, SubmitRequest(alice, "match", MATCH_KETTLE, max_age_seconds=7200)
    )
    system.clock.advance(timedelta(minutes=10))
    forward(system)
    back(system)
