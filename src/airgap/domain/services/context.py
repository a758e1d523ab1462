"""What each network's use cases are given: ports and policies, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import attrs

from airgap.domain.model.batching import BatchLimits, Network, TransferPolicy
from airgap.domain.model.caching import CachePolicy
from airgap.domain.model.export_guard import ExportGuard
from airgap.domain.model.jobs import BASE_BACKOFF, DEFAULT_LEASE
from airgap.domain.model.queries import QueryPolicy
from airgap.domain.model.requests import DEFAULT_REQUEST_TTL
from airgap.domain.services.inbound import Importer
from airgap.domain.services.outbound import Exporter
from airgap.ports.cache import QueryCache
from airgap.ports.clock import Clock
from airgap.ports.ids import IdGenerator
from airgap.ports.rate_limit import RateLimitStore
from airgap.ports.request_store import RequestNetworkUnitOfWork
from airgap.ports.response_store import ResponseNetworkUnitOfWork
from airgap.ports.search import SearchBackend
from airgap.ports.task_queue import TaskQueue
from airgap.ports.tokens import TokenIssuer
from airgap.ports.transfer import BatchInbox, BatchOutbox


@attrs.frozen
class RequestSide:
    """The request network's ports and policies."""

    uow: Callable[[], RequestNetworkUnitOfWork]
    clock: Clock
    ids: IdGenerator
    policy: QueryPolicy
    rate_limits: RateLimitStore
    outbox: BatchOutbox
    inbox: BatchInbox
    tasks: TaskQueue
    transfer: TransferPolicy = TransferPolicy()
    limits: BatchLimits = BatchLimits()
    request_ttl: timedelta = DEFAULT_REQUEST_TTL
    #: Ends an account's sessions when a users snapshot brings it a new password (an
    #: administrator's reset on the response network); None: tokens are not revoked.
    sessions: TokenIssuer | None = None

    network = Network.REQUEST

    def exporter(self) -> Exporter:
        return Exporter(
            network=self.network,
            uow=self.uow,
            outbox=self.outbox,
            clock=self.clock,
            ids=self.ids,
            policy=self.transfer,
            max_records=self.limits.max_records,
        )

    def importer(self) -> Importer:
        return Importer(
            network=self.network,
            uow=self.uow,
            inbox=self.inbox,
            clock=self.clock,
            ids=self.ids,
        )


@attrs.frozen
class ResponseSide:
    """The response network's ports and policies."""

    uow: Callable[[], ResponseNetworkUnitOfWork]
    clock: Clock
    ids: IdGenerator
    policy: QueryPolicy
    search: SearchBackend
    cache: QueryCache
    outbox: BatchOutbox
    inbox: BatchInbox
    tasks: TaskQueue
    cache_policy: CachePolicy = CachePolicy()
    transfer: TransferPolicy = TransferPolicy()
    limits: BatchLimits = BatchLimits()
    search_timeout_s: float = 30.0
    lease: timedelta = DEFAULT_LEASE
    retry_backoff: timedelta = BASE_BACKOFF
    export_guard: ExportGuard = ExportGuard()  # what of an answer may leave (SPEC §4)

    network = Network.RESPONSE

    def exporter(self) -> Exporter:
        return Exporter(
            network=self.network,
            uow=self.uow,
            outbox=self.outbox,
            clock=self.clock,
            ids=self.ids,
            policy=self.transfer,
            max_records=self.limits.max_records,
        )

    def importer(self) -> Importer:
        return Importer(
            network=self.network,
            uow=self.uow,
            inbox=self.inbox,
            clock=self.clock,
            ids=self.ids,
        )
