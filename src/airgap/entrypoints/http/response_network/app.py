"""The response network's API: monitoring, operations, and the users source of truth
(SPEC §10), on the shared HTTP plumbing (:mod:`airgap.entrypoints.http.common`).

:func:`create_app` takes a built :class:`~airgap.entrypoints.bootstrap.containers.
ResponseNetwork` container and hands Litestar plain ``Provide`` functions that ask it, so
nothing is built until a request needs it. Handlers are thin: read the input, call a use
case, shape the answer; domain errors become the shared JSON errors.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi.spec import Tag
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from airgap.entrypoints.bootstrap.containers import ResponseNetwork
from airgap.entrypoints.http.common.app import build_app
from airgap.entrypoints.http.common.health import Probe
from airgap.entrypoints.http.common.metrics import Metrics
from airgap.entrypoints.http.common.pagination import page_params
from airgap.entrypoints.http.response_network.auth import (
    ApiKeyController,
    AuthController,
    authenticate_with,
)
from airgap.entrypoints.http.response_network.monitoring import StatsController
from airgap.entrypoints.http.response_network.operations import (
    BatchController,
    CacheController,
    DeadLetterController,
    IncomingRequestController,
    LogController,
    ResultController,
)
from airgap.entrypoints.http.response_network.security import READ
from airgap.entrypoints.http.response_network.users import UserController

TITLE = "airgap response network"
DESCRIPTION = (
    "The isolated network's monitoring and admin API: queue, workers, search, cache and "
    "transfer statistics; incoming requests, results, the cache, batches, dead letters and "
    "the system log; and the user accounts, of which this network is the source of truth. "
    "Operators (role `operator`) read; admins (role `admin`) act. Sign in at "
    "`/api/v1/auth/login`, or send an API key in `X-API-Key`."
)
TAGS = (
    Tag(name="auth", description="Sign in (operators and admins), refresh, sign out"),
    Tag(name="api keys", description="The caller's API keys, for scripts"),
    Tag(name="monitoring", description="Queue, workers, search, cache and transfer figures"),
    Tag(name="incoming requests", description="Imported requests (query jobs)"),
    Tag(name="results", description="Answers, with a preview and execution details"),
    Tag(name="cache", description="The query cache"),
    Tag(name="batches", description="Batches written and received"),
    Tag(name="dead letters", description="Task messages that exhausted their retries"),
    Tag(name="logs", description="The system log and audit trail"),
    Tag(name="users", description="Accounts: the source of truth"),
    Tag(name="health", description="Liveness, readiness, details"),
)


def _probes(container: ResponseNetwork) -> Sequence[Probe]:
    def database() -> Mapping[str, Any]:
        with container.store().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {}

    def redis() -> Mapping[str, Any]:
        container.redis().ping()
        return {}

    def search() -> Mapping[str, Any]:
        backend = container.search()
        if not backend.healthy():
            raise RuntimeError(f"the {backend.name} backend reports unhealthy")
        return {"backend": backend.name}

    return (Probe("database", database), Probe("redis", redis), Probe("search", search))


def _details(container: ResponseNetwork) -> Mapping[str, Any]:
    settings = container.settings()
    queue = container.monitoring().queue()
    quarantined = container.quarantine().files()
    details: dict[str, Any] = {
        "network": settings.network.value,
        "queue": {line.status: line.count for line in queue.statuses},
        "oldest_waiting_age_seconds": queue.oldest_waiting_age_seconds,
        "quarantined_batches": len(quarantined),
    }
    try:
        usage = shutil.disk_usage(settings.data_dir)
        details["disk"] = {"path": str(settings.data_dir), "free_bytes": usage.free}
    except OSError as error:
        details["disk"] = {"path": str(settings.data_dir), "error": str(error)}
    return details


def _metrics(container: ResponseNetwork) -> Metrics:
    metrics = Metrics()

    def collect() -> Iterable[object]:
        family = GaugeMetricFamily(
            "airgap_response_jobs", "Incoming requests by status", labels=["status"]
        )
        try:
            for bucket_status, count in _job_counts(container).items():
                family.add_metric([bucket_status], count)
        except Exception:  # a scrape never fails because the database is away
            return []
        return [family]

    metrics.on_scrape(collect)
    return metrics


def _job_counts(container: ResponseNetwork) -> dict[str, int]:
    counts: dict[str, int] = {}
    for bucket in container.read_model().queue():
        counts[bucket.status] = counts.get(bucket.status, 0) + bucket.count
    return counts


def _ask(provider: Callable[[], object]) -> Provide:
    """A dependency that asks the container (built on first use, then the same)."""

    def dependency() -> Any:
        return provider()

    return Provide(dependency, sync_to_thread=False)


def create_app(container: ResponseNetwork, *, shutdown_container: bool = False) -> Litestar:
    """The response network's Litestar app on ``container``. With ``shutdown_container``
    the app shuts the container's resources down when it stops (``airgap response api``);
    otherwise the caller owns them (tests, embedding)."""
    settings = container.settings()

    def shutdown() -> None:
        if shutdown_container:
            container.shutdown_resources()

    dependencies = {
        "authenticator": _ask(container.authenticator),
        "monitoring": _ask(container.monitoring),
        "operations": _ask(container.operations),
        "user_admin": _ask(container.user_admin),
        "read": _ask(container.read_model),
        "dead_letters": _ask(container.dead_letters),
        "cache_inspector": _ask(container.cache_inspector),
        "clock": _ask(container.transfer.clock),
        "page": Provide(page_params, sync_to_thread=False),
    }
    authenticate = authenticate_with(container.authenticator())
    return build_app(
        title=TITLE,
        description=DESCRIPTION,
        route_handlers=[
            AuthController,
            ApiKeyController,
            StatsController,
            IncomingRequestController,
            ResultController,
            CacheController,
            BatchController,
            DeadLetterController,
            LogController,
            UserController,
        ],
        authenticate=authenticate,
        probes=lambda: _probes(container),
        metrics=_metrics(container),
        dependencies=dependencies,
        tags=TAGS,
        token_url="/api/v1/auth/login",  # noqa: S106 - a path, not a password
        health_details=lambda: _details(container),
        monitoring_guards=[READ],
        cors_origins=settings.cors_origins,
        log_level=settings.log_level,
        on_shutdown=[shutdown],
    )
