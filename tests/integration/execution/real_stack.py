"""The executor on the real stack (helpers and fixtures): the response network's database on
PostgreSQL (a fresh one per test), the embedded tantivy engine, and the tiered query cache on
the shared test Redis (a fresh key prefix per test) and the ``query_cache`` table. The
request network stays in memory: it only submits requests and reads answers here."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
import redis

from airgap.adapters.memory.clock import FakeClock
from airgap.adapters.memory.transfer import BatchFile, MemoryOutbox
from airgap.adapters.postgres.query_cache import PostgresQueryCache
from airgap.adapters.postgres.unit_of_work import PostgresResponseStore
from airgap.adapters.redis.query_cache import RedisQueryCache
from airgap.adapters.tantivy import EmbeddedIndex, TantivySearchBackend
from airgap.domain.model.batching import Acks, BatchHeader, BatchType, Channel, Network
from airgap.domain.model.caching import CachePolicy
from airgap.domain.model.errors import PermanentSearchError, TransientSearchError
from airgap.domain.model.export_guard import ExportGuard
from airgap.domain.model.records import RequestRecord
from airgap.domain.model.search import SearchResult
from airgap.domain.services.query_cache import TieredQueryCache
from airgap.entrypoints.bootstrap.memory import MemorySystem, build_memory_system
from support.pipeline import make_user

MAPPING = {
    "properties": {
        "name": {"type": "text"},
        "brand": {"type": "keyword"},
        "price": {"type": "double"},
        "internal_notes": {"type": "text"},
        "supplier_email": {"type": "keyword"},
    }
}
DOCUMENTS = [
    {
        "_id": str(n),
        "name": f"{colour} {thing}",
        "brand": brand,
        "price": 10.0 * n,
        "internal_notes": f"margin {n}%",
        "supplier_email": f"sales{n % 3}@{brand}.example",
    }
    for n, (colour, thing, brand) in enumerate(
        [
            ("red", "kettle", "acme"),
            ("blue", "kettle", "acme"),
            ("red", "toaster", "toastco"),
            ("green", "kettle", "brewer"),
            ("black", "toaster", "acme"),
            ("white", "kettle", "brewer"),
        ],
        start=1,
    )
]
POLICY = CachePolicy()


class FlakyEngine:
    """The real engine, counting calls, made to fail on purpose when a test says so."""

    def __init__(self, inner: TantivySearchBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self._failures: list[Exception] = []
        self._lock = threading.Lock()

    def fail_next(self, times: int = 1, *, transient: bool = True) -> None:
        error: Exception = (
            TransientSearchError("connection reset by the engine")
            if transient
            else PermanentSearchError("parsing_exception: unknown query [matchh]")
        )
        with self._lock:
            self._failures.extend([error] * times)

    def search(self, index: str, body: Mapping[str, Any], *, timeout_s: float) -> SearchResult:
        with self._lock:
            self.calls += 1
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            raise failure
        return self.inner.search(index, body, timeout_s=timeout_s)

    def healthy(self) -> bool:
        return self.inner.healthy()


@attrs.frozen
class Stack:
    """A two-network system whose response network runs on the real adapters."""

    system: MemorySystem
    store: PostgresResponseStore
    engine: FlakyEngine
    cache: TieredQueryCache
    redis_tier: RedisQueryCache
    table: PostgresQueryCache
    client: redis.Redis
    prefix: str

    @property
    def clock(self) -> FakeClock:
        return self.system.clock

    def redis_entry(self, key: str) -> dict[str, str]:
        raw = self.client.hgetall(f"{self.prefix}:entry:{key}")
        return {k.decode(): v.decode() for k, v in raw.items()}

    def redis_ttl_s(self, key: str) -> float:
        return int(self.client.pttl(f"{self.prefix}:entry:{key}")) / 1000


@pytest.fixture(scope="session")
def engine_index() -> EmbeddedIndex:
    return EmbeddedIndex.build("products", MAPPING, DOCUMENTS)


def build_stack(
    store: PostgresResponseStore,
    client: redis.Redis,
    index: EmbeddedIndex,
    *,
    export_guard: ExportGuard | None = None,
) -> Stack:
    # The clock starts now: Redis keeps keys for real time, and the test moves on from here.
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    system = build_memory_system(clock=clock, allowed_indices=frozenset({"products", "orders"}))
    prefix = f"test:{uuid.uuid4()}"
    redis_tier = RedisQueryCache(client, POLICY, prefix=prefix)
    table = PostgresQueryCache(store.engine, POLICY)
    cache = TieredQueryCache(redis_tier, table)
    engine = FlakyEngine(TantivySearchBackend([index]))
    response = attrs.evolve(
        system.response,
        uow=store.unit_of_work,
        search=engine,
        cache=cache,
        cache_policy=POLICY,
        export_guard=export_guard or ExportGuard(),
    )
    return Stack(
        system=attrs.evolve(system, response=response),
        store=store,
        engine=engine,
        cache=cache,
        redis_tier=redis_tier,
        table=table,
        client=client,
        prefix=prefix,
    )


@pytest.fixture
def stack(
    pg_response_store: PostgresResponseStore,
    redis_client: redis.Redis,
    engine_index: EmbeddedIndex,
) -> Stack:
    return build_stack(pg_response_store, redis_client, engine_index)


@pytest.fixture
def alice(stack: Stack) -> uuid.UUID:
    return make_user(stack.system, "alice")


def requests_batch(records: list[RequestRecord], sequence: int) -> BatchFile:
    """A valid ``requests`` batch as the request network would send it."""
    outbox = MemoryOutbox()
    header = BatchHeader(
        batch_id=uuid.uuid4(),
        batch_type=BatchType.REQUESTS,
        channel=Channel.from_(Network.REQUEST),
        sequence=sequence,
        created_at=datetime.now(UTC),
        acks=Acks(),
    )
    outbox.write(header, records)
    (file,) = outbox.take()
    return file


def hostile_record(query_params: Mapping[str, Any]) -> RequestRecord:
    now = datetime.now(UTC)
    return RequestRecord(
        request_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        query_type="match",
        query_params=dict(query_params),
        query_hash="0" * 64,
        priority=5,
        created_at=now,
        expires_at=now + timedelta(days=7),
    )
