"""The two networks the harness drives, on one of two sets of adapters:

- ``memory``: every port in memory (``build_memory_system``): fast, for many examples;
- ``real``: PostgreSQL stores for both networks, Redis rate limits, and filesystem
  outboxes and inboxes with the production settings (manifests signed with Ed25519 and
  required, payloads encrypted with AES-256-GCM): a few examples in every run, many under
  the long profile.

The real world caches answers as production does (Redis in front of the ``query_cache``
table). Both keep the fake clock and the in-memory search backend, so the harness controls
time and can make searches fail. A world also knows how to wreck its outboxes the
way a killed writer would (see :mod:`support.harness.faults`) and how to read everything
each network stores (for the invariants).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import redis
from sqlalchemy import Engine, text

from airgap.adapters.filesystem.inbox import FilesystemInbox
from airgap.adapters.filesystem.outbox import FilesystemOutbox
from airgap.adapters.memory.clock import FakeClock
from airgap.adapters.memory.search import MemorySearchBackend
from airgap.adapters.memory.security import FastPasswordHasher
from airgap.adapters.memory.store import MemoryRequestStore, MemoryResponseStore
from airgap.adapters.memory.transfer import MemoryInbox, MemoryOutbox
from airgap.adapters.postgres.query_cache import PostgresQueryCache, cache_engine
from airgap.adapters.postgres.tables import metadata_for
from airgap.adapters.postgres.unit_of_work import PostgresRequestStore, PostgresResponseStore
from airgap.adapters.redis.query_cache import RedisQueryCache
from airgap.adapters.redis.rate_limit import RedisRateLimitStore
from airgap.adapters.security.encryption import AesGcmCipher, generate_key
from airgap.adapters.security.signing import Ed25519Signer, Ed25519Verifier
from airgap.domain.model.batching import ExportBatch, ImportBatch, Network
from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.requests import Response, SearchRequest
from airgap.domain.services.context import RequestSide, ResponseSide
from airgap.domain.services.query_cache import TieredQueryCache
from airgap.entrypoints.bootstrap.memory import build_memory_system
from support.databases import shared_server
from support.harness.carrier import (
    DirectoryDropoff,
    DirectoryPickup,
    HostileCarrier,
    MemoryDropoff,
    MemoryPickup,
)
from support.harness.faults import DirectoryOutboxWreck, MemoryOutboxWreck, OutboxWreck
from support.pipeline import PRODUCTS


@attrs.frozen
class RequestNetworkState:
    """Everything the request network stores that the invariants look at."""

    requests: list[SearchRequest]
    responses: list[Response]
    export_batches: list[ExportBatch]
    import_batches: list[ImportBatch]


@attrs.frozen
class ResponseNetworkState:
    jobs: list[QueryJob]
    results: list[QueryResult]
    export_batches: list[ExportBatch]
    import_batches: list[ImportBatch]


@attrs.define
class World:
    """Both networks, the carriers between them, and the means to hurt them."""

    name: str
    clock: FakeClock
    request: RequestSide
    response: ResponseSide
    search: MemorySearchBackend
    hasher: FastPasswordHasher
    to_response: HostileCarrier
    to_request: HostileCarrier
    request_wreck: OutboxWreck
    response_wreck: OutboxWreck
    #: Manifests carry a signature the receiver requires (so a changed byte is caught).
    signed: bool = False
    close: Callable[[], None] = lambda: None
    #: Reads both networks' committed state without a unit of work (the memory stores: a
    #: unit of work deep-copies every row it hands out, too slow to do after every step).
    peek: Callable[[], tuple[RequestNetworkState, ResponseNetworkState]] | None = None

    def states(self) -> tuple[RequestNetworkState, ResponseNetworkState]:
        """What both networks have committed."""
        if self.peek is not None:
            return self.peek()
        return self.request_state(), self.response_state()

    def request_state(self) -> RequestNetworkState:
        with self.request.uow() as uow:
            return RequestNetworkState(
                requests=list(uow.requests.all()),  # type: ignore[attr-defined]
                responses=list(uow.responses.all()),  # type: ignore[attr-defined]
                export_batches=list(uow.export_batches.all()),
                import_batches=list(uow.import_batches.all()),
            )

    def response_state(self) -> ResponseNetworkState:
        with self.response.uow() as uow:
            return ResponseNetworkState(
                jobs=list(uow.jobs.all()),  # type: ignore[attr-defined]
                results=list(uow.results.all()),  # type: ignore[attr-defined]
                export_batches=list(uow.export_batches.all()),
                import_batches=list(uow.import_batches.all()),
            )


def _peek_memory(
    request: MemoryRequestStore, response: MemoryResponseStore
) -> tuple[RequestNetworkState, ResponseNetworkState]:
    """The committed rows of both memory stores, as they are (read only, never changed)."""
    ours, theirs = request.state.tables, response.state.tables
    return (
        RequestNetworkState(
            requests=list(ours["requests"].values()),
            responses=list(ours["responses"].values()),
            export_batches=list(ours["export_batches"].values()),
            import_batches=list(ours["import_batches"].values()),
        ),
        ResponseNetworkState(
            jobs=list(theirs["jobs"].values()),
            results=list(theirs["results"].values()),
            export_batches=list(theirs["export_batches"].values()),
            import_batches=list(theirs["import_batches"].values()),
        ),
    )


def memory_world() -> World:
    """Both networks on the in-memory adapters."""
    system = build_memory_system(documents={"products": PRODUCTS})
    request_outbox = system.request.outbox
    response_outbox = system.response.outbox
    assert isinstance(request_outbox, MemoryOutbox)
    assert isinstance(response_outbox, MemoryOutbox)
    assert isinstance(system.request.inbox, MemoryInbox)
    assert isinstance(system.response.inbox, MemoryInbox)
    return World(
        name="memory",
        clock=system.clock,
        request=system.request,
        response=system.response,
        search=system.search,
        hasher=system.hasher,
        to_response=HostileCarrier(
            MemoryPickup(request_outbox), MemoryDropoff(system.response.inbox)
        ),
        to_request=HostileCarrier(
            MemoryPickup(response_outbox), MemoryDropoff(system.request.inbox)
        ),
        request_wreck=MemoryOutboxWreck(request_outbox),
        response_wreck=MemoryOutboxWreck(response_outbox),
        peek=lambda: _peek_memory(system.request_store, system.response_store),
    )


# --- real servers ------------------------------------------------------------------------------


@attrs.frozen
class RealServers:
    """A migrated database per network (reused across examples, emptied between them) and a
    Redis client; keys are made once, since generating them is not what is under test."""

    request_store: PostgresRequestStore
    response_store: PostgresResponseStore
    cache_engine: Engine  # the query_cache table's own pool, as the composition root has
    redis: redis.Redis
    request_signer: Ed25519Signer
    response_signer: Ed25519Signer
    cipher: AesGcmCipher

    def empty_databases(self) -> None:
        """TRUNCATE every table of both networks (milliseconds; a new database is seconds)."""
        for network, store in (
            ("request", self.request_store),
            ("response", self.response_store),
        ):
            names = ", ".join(f'"{t.name}"' for t in metadata_for(network).sorted_tables)
            with store.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@contextmanager
def real_servers(redis_client: redis.Redis) -> Iterator[RealServers]:
    """PostgreSQL databases for both networks on the test server, for as long as the block
    runs (then given back, emptied, for other tests)."""
    server = shared_server()
    names = {network: server.acquire(network) for network in ("request", "response")}
    request_store = PostgresRequestStore.from_url(server.url(names["request"]), pool_size=2)
    response_store = PostgresResponseStore.from_url(server.url(names["response"]), pool_size=2)
    table_engine = cache_engine(server.url(names["response"]), pool_size=2)
    try:
        yield RealServers(
            request_store=request_store,
            response_store=response_store,
            cache_engine=table_engine,
            redis=redis_client,
            request_signer=Ed25519Signer.generate(),
            response_signer=Ed25519Signer.generate(),
            cipher=AesGcmCipher(generate_key()),
        )
    finally:
        request_store.dispose()
        response_store.dispose()
        table_engine.dispose()
        for network, name in names.items():
            server.release(network, name)


def real_world(servers: RealServers) -> World:
    """Both networks on PostgreSQL, Redis and directories (signed and encrypted batches) in
    a new temporary directory, with the databases emptied first."""
    servers.empty_databases()
    root = Path(tempfile.mkdtemp(prefix="airgap-harness-"))
    dirs = {}
    for network in ("request", "response"):
        for box in ("outbox", "inbox"):
            dirs[network, box] = root / network / box
            dirs[network, box].mkdir(parents=True)
    system = build_memory_system(documents={"products": PRODUCTS})
    limits = system.request.limits
    request_outbox = FilesystemOutbox(
        dirs["request", "outbox"],
        signer=servers.request_signer,
        cipher=servers.cipher,
        limits=limits,
    )
    response_outbox = FilesystemOutbox(
        dirs["response", "outbox"],
        signer=servers.response_signer,
        cipher=servers.cipher,
        limits=limits,
    )
    inbox_options: dict[str, Any] = {
        "limits": limits,
        "decipher": servers.cipher,
        "require_signature": True,
        "require_encryption": True,
    }
    request_inbox = FilesystemInbox(
        dirs["request", "inbox"],
        Network.REQUEST,
        verifier=Ed25519Verifier([servers.response_signer.public_key]),
        **inbox_options,
    )
    response_inbox = FilesystemInbox(
        dirs["response", "inbox"],
        Network.RESPONSE,
        verifier=Ed25519Verifier([servers.request_signer.public_key]),
        **inbox_options,
    )
    prefix = f"airgap:harness:{uuid.uuid4().hex}"  # this world's keys in the shared Redis
    rate_limits = RedisRateLimitStore(servers.redis, prefix=f"{prefix}:rate-limit")
    cache = TieredQueryCache(
        RedisQueryCache(servers.redis, prefix=f"{prefix}:query-cache"),
        PostgresQueryCache(servers.cache_engine),
    )
    request = attrs.evolve(
        system.request,
        uow=servers.request_store.unit_of_work,
        outbox=request_outbox,
        inbox=request_inbox,
        rate_limits=rate_limits,
    )
    response = attrs.evolve(
        system.response,
        uow=servers.response_store.unit_of_work,
        outbox=response_outbox,
        inbox=response_inbox,
        cache=cache,
    )
    return World(
        name="real",
        clock=system.clock,
        request=request,
        response=response,
        search=system.search,
        hasher=system.hasher,
        to_response=HostileCarrier(
            DirectoryPickup(dirs["request", "outbox"]), DirectoryDropoff(dirs["response", "inbox"])
        ),
        to_request=HostileCarrier(
            DirectoryPickup(dirs["response", "outbox"]), DirectoryDropoff(dirs["request", "inbox"])
        ),
        request_wreck=DirectoryOutboxWreck(request_outbox),
        response_wreck=DirectoryOutboxWreck(response_outbox),
        signed=True,
        close=lambda: shutil.rmtree(root, ignore_errors=True),
    )
