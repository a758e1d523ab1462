"""Both networks wired on the in-memory adapters, in one process.

For unit tests of the use cases, for the property-based harness, and for embedding airgap
as a library without servers. The two networks share nothing but the carriers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from airgap.adapters.memory.cache import MemoryQueryCache
from airgap.adapters.memory.clock import FakeClock, SequentialIds
from airgap.adapters.memory.rate_limit import MemoryRateLimitStore
from airgap.adapters.memory.search import MemorySearchBackend
from airgap.adapters.memory.security import FastPasswordHasher
from airgap.adapters.memory.store import MemoryRequestStore, MemoryResponseStore
from airgap.adapters.memory.tasks import MemoryTaskQueue
from airgap.adapters.memory.transfer import MemoryCarrier, MemoryInbox, MemoryOutbox
from airgap.domain.model.batching import BatchLimits, Network, TransferPolicy
from airgap.domain.model.queries import QueryPolicy
from airgap.domain.services.context import RequestSide, ResponseSide


@attrs.frozen
class MemorySystem:
    """Two networks and the two carriers between them."""

    clock: FakeClock
    request: RequestSide
    response: ResponseSide
    request_store: MemoryRequestStore
    response_store: MemoryResponseStore
    to_response: MemoryCarrier
    to_request: MemoryCarrier
    search: MemorySearchBackend
    request_tasks: MemoryTaskQueue
    response_tasks: MemoryTaskQueue
    hasher: FastPasswordHasher


def build_memory_system(
    *,
    documents: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    allowed_indices: frozenset[str] = frozenset({"products"}),
    transfer: TransferPolicy | None = None,
    limits: BatchLimits | None = None,
    clock: FakeClock | None = None,
) -> MemorySystem:
    clock = clock or FakeClock()
    ids = SequentialIds()
    policy = QueryPolicy(allowed_indices=allowed_indices)
    transfer = transfer or TransferPolicy()
    limits = limits or BatchLimits()
    request_outbox, response_outbox = MemoryOutbox(), MemoryOutbox()
    request_inbox = MemoryInbox(Network.REQUEST, limits)
    response_inbox = MemoryInbox(Network.RESPONSE, limits)
    request_store, response_store = MemoryRequestStore(), MemoryResponseStore()
    request_tasks, response_tasks = MemoryTaskQueue(), MemoryTaskQueue()
    search = MemorySearchBackend(documents or {})
    request = RequestSide(
        uow=request_store.unit_of_work,
        clock=clock,
        ids=ids,
        policy=policy,
        rate_limits=MemoryRateLimitStore(),
        outbox=request_outbox,
        inbox=request_inbox,
        tasks=request_tasks,
        transfer=transfer,
        limits=limits,
    )
    response = ResponseSide(
        uow=response_store.unit_of_work,
        clock=clock,
        ids=ids,
        policy=policy,
        search=search,
        cache=MemoryQueryCache(),
        outbox=response_outbox,
        inbox=response_inbox,
        tasks=response_tasks,
        transfer=transfer,
        limits=limits,
    )
    return MemorySystem(
        clock=clock,
        request=request,
        response=response,
        request_store=request_store,
        response_store=response_store,
        to_response=MemoryCarrier(request_outbox, response_inbox),
        to_request=MemoryCarrier(response_outbox, request_inbox),
        search=search,
        request_tasks=request_tasks,
        response_tasks=response_tasks,
        hasher=FastPasswordHasher(),
    )
