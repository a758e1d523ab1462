"""The request network's public API: ``create_app(container)`` builds the Litestar app from
the composition root; :func:`app_from_env` is the factory ``airgap request api`` gives
uvicorn (one call per worker process).

Routes (under ``/api/v1`` unless noted): ``/auth/*``, ``/users/me``, ``/api-keys``,
``/requests``, ``/responses``, ``/admin/*``; ``/health``, ``/health/ready``,
``/health/detailed``, ``/metrics`` and ``/schema`` at the root.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dependency_injector import providers
from litestar import Litestar, Router
from litestar.middleware import DefineMiddleware
from litestar.openapi.spec import Tag
from litestar.types import LifespanHook

from airgap.adapters.postgres.unit_of_work import PostgresRequestStore
from airgap.domain.model.rate_limit import RateLimitDecision
from airgap.domain.services.auth import Principal
from airgap.entrypoints.bootstrap.containers import RequestNetwork, database_url
from airgap.entrypoints.bootstrap.settings import Settings
from airgap.entrypoints.http.common.app import build_app
from airgap.entrypoints.http.common.health import Probe
from airgap.entrypoints.http.common.metrics import Metrics
from airgap.entrypoints.http.common.threads import WorkerThreads
from airgap.entrypoints.http.request_network.access import may_monitor
from airgap.entrypoints.http.request_network.account import account_router
from airgap.entrypoints.http.request_network.admin import admin_router
from airgap.entrypoints.http.request_network.audit import AuditMiddleware
from airgap.entrypoints.http.request_network.auth import auth_router
from airgap.entrypoints.http.request_network.metrics import request_network_metrics
from airgap.entrypoints.http.request_network.requests import requests_router
from airgap.entrypoints.http.request_network.tasks import CoalescingTaskQueue
from airgap.entrypoints.http.request_network.wiring import ApiReads, dependencies

API_PREFIX = "/api/v1"
API_THREADS = 16
"""Worker threads per API process for the blocking work (use cases, lookups), and as many
pooled database connections: more threads than connections would make the pool open and
close connections under load, which costs far more than waiting for one."""
TITLE = "airgap request network API"
DESCRIPTION = """Submit search requests that cross an air gap, and fetch their answers.

Sign in at `POST /api/v1/auth/login` (JSON or an OAuth2 password form) and send the access
token as `Authorization: Bearer <token>`, or send an API key as `X-API-Key`. A request is
accepted at once (`202`, with its `Location`) and answered when the batch that carries it has
crossed to the isolated network and back: poll `GET /api/v1/requests/{id}/status`, then read
`GET /api/v1/requests/{id}/response`.

Every authenticated answer carries the caller's rate-limit state (`RateLimit-Policy`,
`RateLimit`, `X-RateLimit-*`); a refused submission is `429` with `Retry-After`. Every error
is `{"error": {"code", "message", "details"?, "request_id"}}`."""

TAGS = (
    Tag(name="auth", description="Sign in, rotate tokens, sign out."),
    Tag(name="account", description="Your account, password and API keys."),
    Tag(name="requests", description="Search requests and their answers."),
    Tag(name="admin", description="Monitoring (operator) and administration (admin)."),
    Tag(name="health", description="Liveness, readiness and dependency detail."),
)


def _disk(path: Path) -> dict[str, Any]:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    usage = shutil.disk_usage(existing)
    return {
        "path": str(path),
        "free_bytes": usage.free,
        "total_bytes": usage.total,
        "used_percent": round(100 * (usage.total - usage.free) / usage.total, 2),
    }


def create_app(
    container: RequestNetwork,
    *,
    on_startup: Sequence[LifespanHook] = (),
    on_shutdown: Sequence[LifespanHook] = (),
    threads: int = API_THREADS,
) -> Litestar:
    """The request network's API over ``container`` (whose ``tasks`` must be provided).
    Nothing is connected here: the container's resources start on first use (or in an
    ``on_startup`` hook the caller passes). ``threads`` bounds the blocking work done at
    once (see :data:`API_THREADS`)."""
    settings: Settings = container.settings()
    worker_threads = WorkerThreads(threads)
    reads = ApiReads(network=container)
    metrics = Metrics()
    api_metrics = request_network_metrics(
        metrics,
        active_accounts=lambda: reads.api_queries().account_counts().active,
        request_counts=lambda: reads.queries().request_counts(),
    )

    def authenticate(bearer: str | None, api_key: str | None) -> Principal:
        authenticator = container.authenticator()
        if bearer is not None:
            principal: Principal = authenticator.from_access_token(bearer)
        else:
            principal = authenticator.from_api_key(api_key or "")
        return principal

    def quota(principal: Principal) -> RateLimitDecision | None:
        user = principal.user
        if user.rate_limits.unlimited:
            return None
        decision: RateLimitDecision = container.rate_limits().peek(
            str(user.id), user.rate_limits, container.transfer.clock().now()
        )
        return decision

    def probes() -> list[Probe]:
        return [
            Probe("database", lambda: reads.api_queries().ping()),
            Probe("redis", lambda: {"ping": bool(container.redis().ping())}),
        ]

    def health_details() -> Mapping[str, Any]:
        counts = reads.queries().request_counts()
        return {
            "disk": {"outbox": _disk(settings.outbox), "inbox": _disk(settings.inbox)},
            "requests": {
                "pending": counts.get("pending", 0),
                "exported": counts.get("exported", 0),
            },
        }

    api = Router(
        path=API_PREFIX,
        route_handlers=[auth_router, account_router, requests_router, admin_router],
        middleware=[
            DefineMiddleware(
                AuditMiddleware,
                units_of_work=lambda: container.store().unit_of_work,
                clock=container.transfer.clock,
            )
        ],
    )
    return build_app(
        title=TITLE,
        description=DESCRIPTION,
        route_handlers=[api],
        authenticate=authenticate,
        quota=quota,
        probes=probes,
        metrics=metrics,
        dependencies=dependencies(container, reads, api_metrics),
        tags=TAGS,
        token_url=f"{API_PREFIX}/auth/login",
        health_details=health_details,
        monitoring_guards=[may_monitor],
        cors_origins=settings.cors_origins,
        log_level=settings.log_level,
        on_startup=[worker_threads.start, *on_startup],
        on_shutdown=[*on_shutdown, worker_threads.stop],
    )


def api_request_store(settings: Settings, pool_size: int) -> Iterator[PostgresRequestStore]:
    """The network's database with a pool as large as the API's thread limit."""
    store = PostgresRequestStore.from_url(database_url(settings), pool_size=pool_size)
    try:
        yield store
    finally:
        store.dispose()


def app_from_env() -> Litestar:
    """uvicorn's app factory: settings from ``AIRGAP_*`` (``airgap request api`` has already
    resolved the embedded servers and checked the schema), tasks through Dramatiq on the
    network's Redis. Resources start with the app and stop with it."""
    from dramatiq.brokers.redis import RedisBroker  # noqa: PLC0415 - only in API processes

    from airgap.adapters.dramatiq.task_queue import DramatiqTaskQueue  # noqa: PLC0415
    from airgap.domain.model.batching import Network  # noqa: PLC0415

    settings = Settings.from_env(network=Network.REQUEST)
    container = RequestNetwork(settings=settings)
    container.store.override(providers.Resource(api_request_store, settings, API_THREADS))

    made: list[CoalescingTaskQueue] = []

    def tasks() -> CoalescingTaskQueue:
        # Enqueue only: no worker middleware, and never Dramatiq's default broker.
        broker = RedisBroker(client=container.redis(), middleware=[])  # type: ignore[no-untyped-call]
        made.append(CoalescingTaskQueue(DramatiqTaskQueue(broker)))
        return made[-1]

    container.tasks.override(providers.Singleton(tasks))

    def start() -> None:
        container.init_resources()

    def stop() -> None:
        for queue in made:
            queue.flush()  # the last asks of the window, before Redis goes
        container.shutdown_resources()

    return create_app(container, on_startup=[start], on_shutdown=[stop])
