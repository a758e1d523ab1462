"""Both networks on the in-memory adapters, and the steps that move work between them."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from airgap.domain.model.users import ProfileType
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.users import CreateUser, create_user, export_users
from airgap.entrypoints.bootstrap.memory import MemorySystem, build_memory_system

PRODUCTS = [
    {"_id": "1", "name": "red kettle", "brand": "acme", "price": 20.0},
    {"_id": "2", "name": "blue kettle", "brand": "acme", "price": 35.0},
    {"_id": "3", "name": "red toaster", "brand": "toastco", "price": 50.0},
]

MATCH_KETTLE = {"index": "products", "query": {"match": {"name": "kettle"}}}


@pytest.fixture
def system() -> MemorySystem:
    return build_memory_system(documents={"products": PRODUCTS})


def make_user(
    system: MemorySystem, username: str, profile: ProfileType = ProfileType.BASIC
) -> uuid.UUID:
    """Create on the response network and carry the snapshot to the request network."""
    user = create_user(
        system.response,
        system.hasher,
        CreateUser(username, f"{username}@example.org", "correct horse battery", profile),
    )
    export_users(system.response)
    system.to_request.carry()
    request_transfer.import_batches(system.request)
    return user.id


@pytest.fixture
def user(system: MemorySystem) -> uuid.UUID:
    return make_user(system, "alice")


def forward(system: MemorySystem) -> None:
    """Request network → response network, imported."""
    request_transfer.export_requests(system.request)
    system.to_response.carry()
    response_transfer.import_batches(system.response)


def back(system: MemorySystem) -> None:
    """Response network → request network, imported."""
    response_transfer.export_results(system.response)
    system.to_request.carry()
    request_transfer.import_batches(system.request)


def full_cycle(system: MemorySystem) -> None:
    forward(system)
    execute_available(system.response, "worker-1")
    back(system)


Cycle = Callable[[MemorySystem], None]
