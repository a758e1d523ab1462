"""The first end-to-end run, in memory: both networks wired through their use cases only."""

from __future__ import annotations

import uuid

import pytest

from airgap.domain.model.requests import RequestStatus
from airgap.domain.model.users import ProfileType
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.domain.services.users import CreateUser, create_user, export_users
from airgap.entrypoints.bootstrap.memory import MemorySystem, build_memory_system

PRODUCTS = [
    {"_id": "1", "name": "red kettle", "brand": "acme", "price": 20.0},
    {"_id": "2", "name": "blue kettle", "brand": "acme", "price": 35.0},
    {"_id": "3", "name": "red toaster", "brand": "toastco", "price": 50.0},
]


@pytest.fixture
def system() -> MemorySystem:
    return build_memory_system(documents={"products": PRODUCTS})


def sync_user(system: MemorySystem, username: str, profile: ProfileType) -> uuid.UUID:
    user = create_user(
        system.response,
        system.hasher,
        CreateUser(username, f"{username}@example.org", "correct horse battery", profile),
    )
    export_users(system.response)
    system.to_request.carry()
    request_transfer.import_batches(system.request)
    return user.id


def cross_and_answer(system: MemorySystem) -> None:
    request_transfer.export_requests(system.request)
    system.to_response.carry()
    response_transfer.import_batches(system.response)
    execute_available(system.response, "worker-1")
    response_transfer.export_results(system.response)
    system.to_request.carry()
    request_transfer.import_batches(system.request)


def test_a_users_requests_cross_twice_and_come_back_answered(system: MemorySystem) -> None:
    alice = sync_user(system, "alice", ProfileType.BASIC)
    bob = sync_user(system, "bob", ProfileType.PREMIUM)
    match = submit_request(
        system.request,
        SubmitRequest(
            alice, "match", {"index": "products", "query": {"match": {"name": "kettle"}}}
        ),
    )
    aggregation = submit_request(
        system.request,
        SubmitRequest(
            bob,
            "aggregation",
            {"index": "products", "size": 0, "aggs": {"brands": {"terms": {"field": "brand"}}}},
        ),
    )
    assert match.request.status is RequestStatus.PENDING

    cross_and_answer(system)

    alice_view = get_request(system.request, alice, match.request.id)
    assert alice_view.request.status is RequestStatus.COMPLETED
    assert alice_view.response is not None
    hits = alice_view.response.result_data["hits"]  # type: ignore[index]
    assert hits["total"]["value"] == 2
    assert {h["_id"] for h in hits["hits"]} == {"1", "2"}

    bob_view = get_request(system.request, bob, aggregation.request.id)
    assert bob_view.response is not None
    buckets = bob_view.response.result_data["aggregations"]["brands"]["buckets"]  # type: ignore[index]
    assert buckets == [{"key": "acme", "doc_count": 2}, {"key": "toastco", "doc_count": 1}]
