"""Dramatiq actors: thin, idempotent, named ``"<area>.<verb>"``, taking ids or nothing.

Actors are declared on a broker the composition root built (:func:`declare_request_actors`,
:func:`declare_response_actors`), never at import time, so no actor can ever land on
Dramatiq's default broker and two networks in one process (the tests) keep separate
brokers. Each actor calls one job of :mod:`~airgap.entrypoints.worker.jobs`, which calls a
use case with its own units of work; a transient failure propagates and the broker's
``Retries`` middleware tries again with back-off, anything else goes to the dead letters.

Request network: ``requests.export``, ``results.import``, ``users.import``,
``requests.resend``, ``maintenance.cleanup``, ``notifications.send``.
Response network: ``requests.import``, ``queries.execute``, ``results.export``,
``users.export``, ``results.resend``, ``cache.maintain``, ``health.check``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import dramatiq

from airgap.entrypoints.worker.config import QUEUE
from airgap.entrypoints.worker.executor import ExecutorPool
from airgap.entrypoints.worker.jobs import RequestJobs, ResponseJobs

Actors = dict[str, dramatiq.Actor[Any, Any]]

REQUEST_ACTORS = (
    "requests.export",
    "results.import",
    "users.import",
    "requests.resend",
    "maintenance.cleanup",
    "notifications.send",
)
RESPONSE_ACTORS = (
    "requests.import",
    "queries.execute",
    "results.export",
    "users.export",
    "results.resend",
    "cache.maintain",
    "health.check",
)


def _declare(
    broker: dramatiq.Broker,
    actors: Actors,
    name: str,
    fn: Callable[..., None],
    time_limit: timedelta | None = None,
) -> None:
    options: dict[str, Any] = {}
    if time_limit is not None:
        options["time_limit"] = int(time_limit.total_seconds() * 1000)
    decorate = dramatiq.actor(actor_name=name, queue_name=QUEUE, broker=broker, **options)
    actors[name] = decorate(fn)


def declare_request_actors(broker: dramatiq.Broker, jobs: RequestJobs) -> Actors:
    actors: Actors = {}

    def export_requests(scope: str = "full") -> None:
        jobs.export_requests(scope)

    def import_inbox() -> None:
        jobs.import_inbox()

    def resend() -> None:
        jobs.resend()

    def cleanup() -> None:
        jobs.cleanup()

    def notify(request_id: str) -> None:
        jobs.notify(uuid.UUID(request_id))

    _declare(broker, actors, "requests.export", export_requests)
    _declare(broker, actors, "results.import", import_inbox)
    # Users arrive in the same inbox as results; importing it imports both.
    _declare(broker, actors, "users.import", import_inbox)
    _declare(broker, actors, "requests.resend", resend)
    _declare(broker, actors, "maintenance.cleanup", cleanup, time_limit=timedelta(hours=2))
    _declare(broker, actors, "notifications.send", notify, time_limit=timedelta(seconds=60))
    return actors


def declare_response_actors(
    broker: dramatiq.Broker, jobs: ResponseJobs, pool: ExecutorPool | None = None
) -> Actors:
    """With a ``pool``, ``queries.execute`` wakes its executor threads; without one (a
    worker with no executor threads, or a test), the actor runs queries itself, at most
    ``max_jobs`` per message, and asks for another round while more wait."""
    actors: Actors = {}

    def import_inbox() -> None:
        jobs.import_inbox()

    def execute(max_jobs: int = 100) -> None:
        if pool is not None:
            pool.wake()
            return
        summary = jobs.execute(max_jobs)
        if summary.fields.get("executed", 0) >= max_jobs:
            jobs.side.tasks.enqueue("queries.execute", max_jobs=max_jobs)

    def export_results(scope: str = "full") -> None:
        jobs.export_results(scope)

    def export_users() -> None:
        jobs.export_users()

    def resend() -> None:
        jobs.resend()

    def maintain_cache() -> None:
        jobs.maintain_cache()

    def health_check() -> None:
        jobs.health_check()

    _declare(broker, actors, "requests.import", import_inbox)
    _declare(broker, actors, "queries.execute", execute)
    _declare(broker, actors, "results.export", export_results)
    _declare(broker, actors, "users.export", export_users)
    _declare(broker, actors, "results.resend", resend)
    _declare(broker, actors, "cache.maintain", maintain_cache, time_limit=timedelta(hours=1))
    _declare(broker, actors, "health.check", health_check, time_limit=timedelta(seconds=120))
    return actors
