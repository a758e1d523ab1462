"""The same story on the memory store and on PostgreSQL ends in the same state, row for row:
the PostgreSQL repositories behave like the memory ones the use cases were written on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
from pg_systems import UnsaltedHasher, postgres_system, story

from airgap.adapters.postgres.unit_of_work import PostgresRequestStore, PostgresResponseStore
from airgap.domain.model.batching import BatchType, Channel, Network, TransferPolicy
from airgap.entrypoints.bootstrap.memory import MemorySystem, build_memory_system
from contracts.builders import state
from support.pipeline import PRODUCTS


def snapshot(system: MemorySystem, request_uow: Any, response_uow: Any) -> dict[str, Any]:
    def row(item: Any) -> dict[str, Any]:
        # execution_time_ms is measured wall time: the one field two runs may not share, and
        # with it the bytes (checksum, size) of the responses batches that carry it.
        found = state(item)
        if "execution_time_ms" in found:
            found["execution_time_ms"] = None
        if found.get("batch_type") is BatchType.RESPONSES:
            found.update(payload_sha256=None, payload_size=None)
        return found

    def rows(items: Any) -> list[dict[str, Any]]:
        return [row(item) for item in items]

    with request_uow() as r, response_uow() as s:
        return {
            "request.users": rows(r.users.all()),
            "request.requests": rows(r.requests.all()),
            "request.responses": sorted(
                rows(r.responses.all()), key=lambda x: str(x["request_id"])
            ),
            "request.export_batches": rows(r.export_batches.all()),
            "request.import_batches": rows(r.import_batches.all()),
            "request.audit": r.audit.entries(),
            "request.channels": [
                state(r.channels.outbound(Channel.from_(Network.REQUEST))),
                state(r.channels.inbound(Channel.from_(Network.RESPONSE))),
            ],
            "response.channels": [
                state(s.channels.outbound(Channel.from_(Network.RESPONSE))),
                state(s.channels.inbound(Channel.from_(Network.REQUEST))),
            ],
            "response.users": rows(s.users.all()),
            "response.jobs": rows(s.jobs.all()),
            "response.results": rows(s.results.all()),
            "response.export_batches": rows(s.export_batches.all()),
            "response.import_batches": rows(s.import_batches.all()),
            "response.system_logs": s.system_logs.entries(),
        }


def test_the_same_story_ends_in_the_same_state_on_memory_and_on_postgres(
    pg_request_store: PostgresRequestStore, pg_response_store: PostgresResponseStore
) -> None:
    policy = TransferPolicy(ack_timeout=timedelta(minutes=30))
    memory = build_memory_system(documents={"products": PRODUCTS}, transfer=policy)
    postgres = postgres_system(pg_request_store, pg_response_store)
    postgres = attrs.evolve(
        postgres,
        request=attrs.evolve(postgres.request, transfer=policy),
        response=attrs.evolve(postgres.response, transfer=policy),
    )
    memory = attrs.evolve(memory, hasher=UnsaltedHasher())
    postgres = attrs.evolve(postgres, hasher=UnsaltedHasher())
    story(memory)
    story(postgres)
    expected = snapshot(
        memory, memory.request_store.unit_of_work, memory.response_store.unit_of_work
    )
    found = snapshot(postgres, pg_request_store.unit_of_work, pg_response_store.unit_of_work)
    assert expected["request.requests"], "the story stored nothing"
    for table, rows in expected.items():
        assert found[table] == rows, table
