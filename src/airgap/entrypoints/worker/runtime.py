"""The pipeline's composition root: one network's container, broker, jobs and actors.

:func:`request_pipeline` and :func:`response_pipeline` build, in this order: the network's
container (PostgreSQL, Redis, search, outbox and inbox from :class:`Settings`), the broker on
the container's Redis (or a ``StubBroker``), the task queue on that broker — given to the
container, so every use case enqueues through it — then the jobs, and the actors declared on
the broker. Workers, schedulers and the run-once commands all start here; so do the tests.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
import dramatiq
import redis
from dependency_injector import providers
from sqlalchemy import Engine, text

from airgap.adapters.dramatiq.task_queue import DramatiqTaskQueue
from airgap.adapters.filesystem.retention import JsonlRequestArchive
from airgap.adapters.memory.cache import MemoryQueryCache
from airgap.adapters.postgres.backlog import PostgresRequestBacklog, PostgresResponseBacklog
from airgap.adapters.postgres.dead_letters import PostgresDeadLetters
from airgap.adapters.postgres.locks import PostgresJobLocks
from airgap.adapters.postgres.query_cache import PostgresQueryCache
from airgap.adapters.postgres.retention import PostgresRequestRetention
from airgap.adapters.redis.housekeeping import RedisHousekeeping
from airgap.adapters.webhook.notifier import FileWebhooks, HttpNotifier
from airgap.domain.model.batching import Network
from airgap.domain.services.context import RequestSide, ResponseSide
from airgap.domain.services.query_cache import TieredQueryCache, maintain_query_cache
from airgap.entrypoints.bootstrap.containers import RequestNetwork, ResponseNetwork
from airgap.entrypoints.bootstrap.settings import Settings
from airgap.entrypoints.worker.actors import (
    Actors,
    declare_request_actors,
    declare_response_actors,
)
from airgap.entrypoints.worker.broker import build_broker
from airgap.entrypoints.worker.config import QUEUE, PipelineSettings
from airgap.entrypoints.worker.executor import ExecutorPool
from airgap.entrypoints.worker.jobs import (
    JobSummary,
    RequestJobs,
    ResponseJobs,
    request_jobs,
    response_jobs,
)
from airgap.entrypoints.worker.logs import get_logger
from airgap.entrypoints.worker.metrics import pipeline_metrics

EXPORT_RESULTS_TASK = "results.export"


def worker_name() -> str:
    """``host:pid``: what a job's ``assigned_worker`` and a heartbeat name."""
    return f"{socket.gethostname()}:{os.getpid()}"


@attrs.define
class RequestPipeline:
    settings: Settings
    pipeline: PipelineSettings
    container: RequestNetwork
    broker: dramatiq.Broker
    tasks: DramatiqTaskQueue
    jobs: RequestJobs
    actors: Actors
    redis: redis.Redis

    @property
    def side(self) -> RequestSide:
        return self.jobs.side


@attrs.define
class ResponsePipeline:
    settings: Settings
    pipeline: PipelineSettings
    container: ResponseNetwork
    broker: dramatiq.Broker
    tasks: DramatiqTaskQueue
    jobs: ResponseJobs
    actors: Actors
    redis: redis.Redis
    pool: ExecutorPool | None = None

    @property
    def side(self) -> ResponseSide:
        return self.jobs.side


def _make_directories(settings: Settings) -> None:
    """The outbox and inbox (a fresh data directory has neither)."""
    for directory in (settings.outbox, settings.inbox):
        directory.mkdir(parents=True, exist_ok=True)


def _ping_database(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _cache_argument() -> dict[str, Any]:
    """The response container's query cache, while it is still a dependency to fill: the
    memory cache (the Redis + PostgreSQL cache replaces the dependency in the container)."""
    cache = ResponseNetwork.cls_providers.get("cache")
    if isinstance(cache, providers.Dependency) and cache.last_overriding is None:
        return {"cache": MemoryQueryCache()}
    return {}


@contextmanager
def request_pipeline(
    settings: Settings, pipeline: PipelineSettings, *, stub: bool = False
) -> Iterator[RequestPipeline]:
    """The request network's pipeline; resources are shut down on leaving the block."""
    _make_directories(settings)
    container = RequestNetwork(settings=settings)
    try:
        client = container.redis()
        engine = container.store().engine
        broker = build_broker(
            pipeline,
            PostgresDeadLetters.for_network(engine, Network.REQUEST.value),
            client=client,
            stub=stub,
        )
        tasks = DramatiqTaskQueue(broker, queue_name=QUEUE)
        container.tasks.override(providers.Object(tasks))
        side = container.side()
        webhooks = notifier = None
        if pipeline.notify_webhooks is not None:
            webhooks = FileWebhooks.load(pipeline.notify_webhooks)
            notifier = HttpNotifier()
        backlog = PostgresRequestBacklog(engine)
        housekeeping = RedisHousekeeping(client)

        def sweep() -> Mapping[str, int]:
            return attrs.asdict(housekeeping.sweep())

        jobs = request_jobs(
            side,
            pipeline,
            backlog=backlog,
            answered=backlog,
            locks=PostgresJobLocks(engine),
            outbox=settings.outbox,
            inbox=settings.inbox,
            retention=PostgresRequestRetention(engine),
            archive=JsonlRequestArchive(
                pipeline.retention.archive_dir or settings.network_dir / "archive", side.clock
            ),
            sweep_redis=sweep,
            webhooks=webhooks,
            notifier=notifier,
        )
        actors = declare_request_actors(broker, jobs)
        try:
            yield RequestPipeline(
                settings, pipeline, container, broker, tasks, jobs, actors, client
            )
        finally:
            if notifier is not None:
                notifier.close()
            broker.close()
    finally:
        container.shutdown_resources()


@contextmanager
def response_pipeline(
    settings: Settings,
    pipeline: PipelineSettings,
    *,
    stub: bool = False,
    executors: bool = False,
) -> Iterator[ResponsePipeline]:
    """The response network's pipeline; with ``executors``, a (not yet started) pool of
    ``pipeline.executor_threads`` query executors that ``queries.execute`` wakes."""
    _make_directories(settings)
    container = ResponseNetwork(settings=settings, **_cache_argument())
    try:
        client = container.redis()
        engine = container.store().engine
        broker = build_broker(
            pipeline,
            PostgresDeadLetters.for_network(engine, Network.RESPONSE.value),
            client=client,
            stub=stub,
        )
        tasks = DramatiqTaskQueue(broker, queue_name=QUEUE)
        container.tasks.override(providers.Object(tasks))
        side = attrs.evolve(container.side(), lease=pipeline.job_lease)
        search = container.search()
        name = worker_name()

        def maintain_cache() -> JobSummary:
            cache = container.cache()
            # The tiered cache also flushes the hits Redis served into the table's counts.
            target = cache if isinstance(cache, TieredQueryCache) else PostgresQueryCache(engine)
            report = maintain_query_cache(side, target)
            return JobSummary(
                "cache",
                f"deleted {report.expired_deleted} expired cache entries; "
                f"{len(report.hot_queries)} hot queries",
                {
                    "expired_deleted": report.expired_deleted,
                    "hot_queries": len(report.hot_queries),
                },
            )

        def search_probe() -> None:
            if not search.healthy():
                raise RuntimeError(f"the {search.name} backend reports unhealthy")

        jobs = response_jobs(
            side,
            pipeline,
            backlog=PostgresResponseBacklog(engine),
            locks=PostgresJobLocks(engine),
            worker_name=name,
            data_dir=settings.network_dir,
            maintain_cache_table=maintain_cache,
            probes={
                "database": lambda: _ping_database(engine),
                "redis": lambda: bool(client.ping()),
                "search": search_probe,
            },
        )
        pool = None
        if executors and pipeline.executor_threads > 0:
            pool = ExecutorPool(
                side,
                threads=pipeline.executor_threads,
                name=name,
                metrics=pipeline_metrics(),
                log=get_logger("airgap.worker.executor", network="response"),
                idle_max_s=pipeline.executor_idle_max.total_seconds(),
                on_drained=lambda: tasks.enqueue(EXPORT_RESULTS_TASK),
            )
        actors = declare_response_actors(broker, jobs, pool)
        try:
            yield ResponsePipeline(
                settings, pipeline, container, broker, tasks, jobs, actors, client, pool
            )
        finally:
            broker.close()
    finally:
        container.shutdown_resources()
