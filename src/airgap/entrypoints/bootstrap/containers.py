"""The composition roots: one dependency-injector container per network.

Nothing is built at import time. A process builds its container from :class:`Settings`,
calls ``init_resources()`` (which starts embedded PostgreSQL / Redis when no address is
configured), and ``shutdown_resources()`` on the way out. Entrypoints ask the container for
what they need; the Litestar apps receive plain ``Provide`` functions that call it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import redis
from dependency_injector import containers, providers

from airgap.adapters.elasticsearch.backend import ElasticsearchSearchBackend
from airgap.adapters.elasticsearch.settings import ElasticsearchSettings
from airgap.adapters.filesystem.inbox import FilesystemInbox
from airgap.adapters.filesystem.outbox import FilesystemOutbox
from airgap.adapters.filesystem.quarantine import FilesystemQuarantine
from airgap.adapters.postgres.dead_letters import PostgresDeadLetters
from airgap.adapters.postgres.embedded import resolve_database_url
from airgap.adapters.postgres.operations_queries import PostgresResponseReadModel
from airgap.adapters.postgres.query_cache import PostgresQueryCache, cache_engine
from airgap.adapters.postgres.unit_of_work import PostgresRequestStore, PostgresResponseStore
from airgap.adapters.redis.denylist import RedisTokenDenyList
from airgap.adapters.redis.embedded import resolve_redis_url
from airgap.adapters.redis.heartbeats import RedisWorkerHeartbeats
from airgap.adapters.redis.query_cache import RedisQueryCache, fail_fast_client
from airgap.adapters.redis.rate_limit import RedisRateLimitStore
from airgap.adapters.security.encryption import AesGcmCipher
from airgap.adapters.security.keyfiles import load_cipher, load_signer, load_verifier
from airgap.adapters.security.passwords import Argon2PasswordHasher
from airgap.adapters.security.signing import Ed25519Signer, Ed25519Verifier
from airgap.adapters.security.tokens import JwtTokenIssuer
from airgap.adapters.system import RandomIds, SystemClock
from airgap.adapters.tantivy.backend import TantivySearchBackend
from airgap.domain.model.queries import QueryPolicy
from airgap.domain.services.auth import Authenticator
from airgap.domain.services.context import RequestSide, ResponseSide
from airgap.domain.services.monitoring import Monitoring
from airgap.domain.services.operations import Operations
from airgap.domain.services.query_cache import TieredQueryCache
from airgap.domain.services.staff_auth import staff_only
from airgap.domain.services.user_admin import UserAdmin
from airgap.entrypoints.bootstrap.export_guard import configured_export_guard
from airgap.entrypoints.bootstrap.settings import Settings
from airgap.ports.cache import QueryCache
from airgap.ports.cache_admin import QueryCacheInspector
from airgap.ports.search import SearchBackend
from airgap.ports.task_queue import TaskQueue


def database_url(settings: Settings) -> str:
    """The configured database, or this network's database on the embedded server."""
    return resolve_database_url(settings.network.value, settings.database_url, settings.data_dir)


def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    url, embedded = resolve_redis_url(settings.redis_url, settings.network_dir)
    client = redis.Redis.from_url(url)
    try:
        yield client
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()


def request_store(settings: Settings) -> Iterator[PostgresRequestStore]:
    store = PostgresRequestStore.from_url(database_url(settings))
    try:
        yield store
    finally:
        store.dispose()


def response_store(settings: Settings) -> Iterator[PostgresResponseStore]:
    store = PostgresResponseStore.from_url(database_url(settings))
    try:
        yield store
    finally:
        store.dispose()


def secret_key(settings: Settings) -> str:
    """The configured JWT secret, or one generated once and kept (0600) beside the data."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.network_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value, encoding="utf-8")
    return value


def signer(settings: Settings) -> Ed25519Signer | None:
    return load_signer(settings.signing_key) if settings.signing_key else None


def verifier(settings: Settings) -> Ed25519Verifier | None:
    return load_verifier(settings.verify_keys) if settings.verify_keys else None


def encryptor(settings: Settings) -> AesGcmCipher | None:
    return load_cipher([settings.encryption_key]) if settings.encryption_key else None


def decryptor(settings: Settings) -> AesGcmCipher | None:
    keys: list[Path] = list(settings.decryption_keys)
    if settings.encryption_key and settings.encryption_key not in keys:
        keys.append(settings.encryption_key)
    return load_cipher(keys) if keys else None


class Transfer(containers.DeclarativeContainer):
    """What both networks share: time, ids, the query policy, outbox and inbox."""

    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    policy = providers.Singleton(QueryPolicy, allowed_indices=settings.provided.allowed_indices)
    outbox = providers.Singleton(
        FilesystemOutbox,
        directory=settings.provided.outbox,
        signer=providers.Callable(signer, settings),
        cipher=providers.Callable(encryptor, settings),
        limits=settings.provided.limits,
    )
    inbox = providers.Singleton(
        FilesystemInbox,
        directory=settings.provided.inbox,
        destination=settings.provided.network,
        limits=settings.provided.limits,
        verifier=providers.Callable(verifier, settings),
        decipher=providers.Callable(decryptor, settings),
        require_signature=settings.provided.require_signature,
        require_encryption=settings.provided.require_encryption,
    )


class RequestNetwork(containers.DeclarativeContainer):
    """The request network: PostgreSQL, Redis, the filesystem crossing, argon2 and JWT."""

    settings = providers.Dependency(instance_of=Settings)
    transfer = providers.Container(Transfer, settings=settings)
    tasks: providers.Dependency[TaskQueue] = providers.Dependency()  # Dramatiq, or in-process
    redis = providers.Resource(redis_client, settings)
    store = providers.Resource(request_store, settings)
    hasher = providers.Singleton(Argon2PasswordHasher)
    rate_limits = providers.Singleton(RedisRateLimitStore, redis)
    denylist = providers.Singleton(RedisTokenDenyList, redis)
    tokens = providers.Singleton(
        JwtTokenIssuer,
        secret=providers.Callable(secret_key, settings),
        denylist=denylist,
        issuer="airgap-request-network",
    )
    side = providers.Singleton(
        RequestSide,
        uow=store.provided.unit_of_work,
        clock=transfer.clock,
        ids=transfer.ids,
        policy=transfer.policy,
        rate_limits=rate_limits,
        outbox=transfer.outbox,
        inbox=transfer.inbox,
        tasks=tasks,
        transfer=settings.provided.transfer,
        limits=settings.provided.limits,
        request_ttl=settings.provided.request_ttl,
        sessions=tokens,
    )
    authenticator = providers.Singleton(
        Authenticator,
        uow=store.provided.unit_of_work,
        clock=transfer.clock,
        ids=transfer.ids,
        hasher=hasher,
        tokens=tokens,
    )


def search_backend(settings: Settings) -> Iterator[SearchBackend]:
    """Elasticsearch when ``AIRGAP_ELASTICSEARCH_URL`` is set, else the embedded engine
    serving every index loaded under the data directory (``airgap search load``)."""
    if settings.elasticsearch_url:
        backend = ElasticsearchSearchBackend(
            ElasticsearchSettings(
                url=settings.elasticsearch_url,
                username=settings.elasticsearch_username,
                password=settings.elasticsearch_password,
                api_key=settings.elasticsearch_api_key,
                ca_certs=settings.elasticsearch_ca_certs,
                request_timeout_s=settings.search_timeout_s,
            ),
            settings.allowed_indices,
        )
        try:
            yield backend
        finally:
            backend.close()
        return
    settings.search_dir.mkdir(parents=True, exist_ok=True)
    yield TantivySearchBackend.open(settings.search_dir)


def search_indices(search: SearchBackend, settings: Settings) -> Callable[[], Sequence[str]]:
    """The indices ``/stats/search`` probes: those the embedded engine serves, else the
    allowed index names that are not patterns."""

    def names() -> Sequence[str]:
        served = getattr(search, "index_names", None)
        if served is not None:
            return list(served)
        return sorted(i for i in settings.allowed_indices if not set(i) & set("*?[]"))

    return names


def query_cache_redis(client: redis.Redis) -> Iterator[redis.Redis]:
    """The query cache's own client to the network's Redis: it fails fast, so a Redis
    outage turns lookups into misses at once instead of after redis-py's retries."""
    fast = fail_fast_client(client)
    try:
        yield fast
    finally:
        fast.close()


def query_cache_table(store: PostgresResponseStore) -> Iterator[PostgresQueryCache]:
    """The query_cache table on a small pool of its own (commits that do not wait for the
    disk: see ``cache_engine``)."""
    engine = cache_engine(store.engine.url, pool_size=3)
    try:
        yield PostgresQueryCache(engine)
    finally:
        engine.dispose()


class ResponseNetwork(containers.DeclarativeContainer):
    """The response network: PostgreSQL, Redis, the search backend, the crossing."""

    settings = providers.Dependency(instance_of=Settings)
    transfer = providers.Container(Transfer, settings=settings)
    tasks: providers.Dependency[TaskQueue] = providers.Dependency()
    redis = providers.Resource(redis_client, settings)
    store = providers.Resource(response_store, settings)
    search = providers.Resource(search_backend, settings)
    # The query cache: Redis first, then the query_cache table (SPEC §8). The table is also
    # what the hourly maintenance sweeps (maintain_query_cache(side, cache_table)).
    cache_redis = providers.Resource(query_cache_redis, redis)
    cache_table = providers.Resource(query_cache_table, store)
    cache: providers.Provider[QueryCache] = providers.Singleton(
        TieredQueryCache,
        first=providers.Singleton(RedisQueryCache, cache_redis),
        second=cache_table,
    )
    export_guard = providers.Singleton(configured_export_guard, settings)
    hasher = providers.Singleton(Argon2PasswordHasher)
    denylist = providers.Singleton(RedisTokenDenyList, redis)
    tokens = providers.Singleton(
        JwtTokenIssuer,
        secret=providers.Callable(secret_key, settings),
        denylist=denylist,
        issuer="airgap-response-network",
    )
    side = providers.Singleton(
        ResponseSide,
        uow=store.provided.unit_of_work,
        clock=transfer.clock,
        ids=transfer.ids,
        policy=transfer.policy,
        search=search,
        cache=cache,
        outbox=transfer.outbox,
        inbox=transfer.inbox,
        tasks=tasks,
        transfer=settings.provided.transfer,
        limits=settings.provided.limits,
        search_timeout_s=settings.provided.search_timeout_s,
        export_guard=export_guard,
    )
    # --- the monitoring and admin API (and what workers report to it) ---------------------
    # The cache as operators see it: the cache itself unless a separate inspector is given.
    cache_inspector: providers.Dependency[QueryCacheInspector] = providers.Dependency(default=cache)
    read_model = providers.Singleton(PostgresResponseReadModel, store.provided.engine)
    dead_letters = providers.Singleton(PostgresDeadLetters, store.provided.engine)
    heartbeats = providers.Singleton(RedisWorkerHeartbeats, redis)
    quarantine = providers.Singleton(FilesystemQuarantine, settings.provided.inbox)
    authenticator = providers.Singleton(
        Authenticator,
        uow=providers.Callable(staff_only, store.provided.unit_of_work),
        clock=transfer.clock,
        ids=transfer.ids,
        hasher=hasher,
        tokens=tokens,
    )
    user_admin = providers.Singleton(
        UserAdmin,
        uow=store.provided.unit_of_work,
        clock=transfer.clock,
        ids=transfer.ids,
        hasher=hasher,
        tasks=tasks,
    )
    operations = providers.Singleton(Operations, side=side, dead_letters=dead_letters)
    monitoring = providers.Singleton(
        Monitoring,
        read=read_model,
        heartbeats=heartbeats,
        quarantine=quarantine,
        search=search,
        indices=providers.Callable(search_indices, search, settings),
        cache=cache_inspector,
        clock=transfer.clock,
    )
