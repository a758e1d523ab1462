"""The Dramatiq broker, configured explicitly by the composition root.

:func:`build_broker` makes the broker a network's workers and task queues share — Redis in
production, Dramatiq's ``StubBroker`` in tests — with the middleware the pipeline relies on:

- ``Retries`` with exponential back-off, bounded (``AIRGAP_RETRY_MAX``), retrying only
  transient failures (:mod:`~airgap.entrypoints.worker.errors`);
- ``TimeLimit`` (``AIRGAP_JOB_TIME_LIMIT_SECONDS``) and ``ShutdownNotifications``;
- :class:`MessageMetrics` (Prometheus) and :class:`DeadLetterOffice`, which keeps every
  message that exhausted its retries in the network's ``dead_letters`` table, where the
  admin API lists, retries and discards them.

It is also installed as Dramatiq's global broker, so nothing ever falls back to Dramatiq's
silent default broker on 127.0.0.1. Actors are declared on it afterwards
(:mod:`~airgap.entrypoints.worker.actors`), never at import time.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import q_name
from dramatiq.middleware import (
    CurrentMessage,
    Middleware,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from airgap.domain.model.operations import DeadLetter
from airgap.entrypoints.worker.config import QUEUE, PipelineSettings
from airgap.entrypoints.worker.errors import retry_when
from airgap.entrypoints.worker.logs import get_logger
from airgap.entrypoints.worker.metrics import PipelineMetrics, pipeline_metrics
from airgap.ports.dead_letters import DeadLetters

_NOT_KEPT = frozenset({"traceback", "redis_message_id"})


class DeadLetterOffice(Middleware):
    """Keeps messages that failed for good in the dead letters (their Redis copy, in the
    broker's own dead-letter set, expires after a week; ours stays until an operator acts).

    It sits before ``Retries`` in the middleware list: Dramatiq runs ``after_*`` hooks in
    reverse order, so by the time this one runs, ``Retries`` has decided whether the message
    failed for good.
    """

    def __init__(self, letters: DeadLetters, network: str, metrics: PipelineMetrics) -> None:
        self._letters = letters
        self._network = network
        self._metrics = metrics
        self._log = get_logger("airgap.worker.dead_letters", network=network)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or not message.failed:
            return
        options = dict(message.options)
        letter = DeadLetter(
            id=uuid.uuid4(),
            message_id=message.message_id,
            queue_name=q_name(message.queue_name),
            actor_name=message.actor_name,
            args=tuple(message.args),
            kwargs=dict(message.kwargs),
            options={k: v for k, v in options.items() if k not in _NOT_KEPT},
            error=options.get("traceback") or f"{type(exception).__name__}: {exception}",
            attempts=int(options.get("retries", 1)),
            failed_at=datetime.now(UTC),
        )
        kept = self._letters.add(letter)
        self._metrics.dead_letters.labels(self._network, message.actor_name).inc()
        self._log.error(
            "task.dead_lettered",
            actor=message.actor_name,
            message_id=message.message_id,
            attempts=letter.attempts,
            error=f"{type(exception).__name__}: {exception}",
            new=kept,
        )


class MessageMetrics(Middleware):
    """Counts and times every message by actor and outcome. Like :class:`DeadLetterOffice`
    it sits before ``Retries``, so it sees whether a failed message will be retried."""

    def __init__(self, network: str, metrics: PipelineMetrics) -> None:
        self._network = network
        self._metrics = metrics
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self._started[message.message_id] = time.perf_counter()
        self._metrics.messages_in_progress.labels(self._network, message.actor_name).inc()

    def _finish(self, message: Any, outcome: str) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        actor = message.actor_name
        self._metrics.messages_in_progress.labels(self._network, actor).dec()
        self._metrics.messages.labels(self._network, actor, outcome).inc()
        if started is not None:
            self._metrics.message_duration.labels(self._network, actor).observe(
                time.perf_counter() - started
            )

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None:
            self._finish(message, "done")
        else:
            self._finish(message, "failed" if message.failed else "retried")

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self._finish(message, "skipped")


def middleware(
    pipeline: PipelineSettings, letters: DeadLetters, metrics: PipelineMetrics
) -> list[Middleware]:
    network = pipeline.network.value
    return [
        TimeLimit(time_limit=int(pipeline.time_limit.total_seconds() * 1000)),
        ShutdownNotifications(),
        CurrentMessage(),
        MessageMetrics(network, metrics),
        DeadLetterOffice(letters, network, metrics),
        Retries(
            max_retries=pipeline.retry_max,
            min_backoff=pipeline.retry_min_backoff_ms,
            max_backoff=pipeline.retry_max_backoff_ms,
            retry_when=retry_when(pipeline.retry_max),
        ),
    ]


def build_broker(
    pipeline: PipelineSettings,
    letters: DeadLetters,
    *,
    client: redis.Redis | None = None,
    stub: bool = False,
) -> dramatiq.Broker:
    """This network's broker: Redis (on ``client``, keys under the network's namespace), or
    a ``StubBroker`` for tests (``stub=True``). Installed as Dramatiq's global broker."""
    chosen = middleware(pipeline, letters, pipeline_metrics())
    broker: dramatiq.Broker
    if stub:
        broker = StubBroker(middleware=chosen)
    else:
        if client is None:
            raise ValueError("a Redis broker needs a Redis client")
        broker = RedisBroker(  # type: ignore[no-untyped-call]
            client=client, namespace=pipeline.namespace, middleware=chosen
        )
    broker.declare_queue(QUEUE)
    dramatiq.set_broker(broker)
    return broker
