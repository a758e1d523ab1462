"""Worker and scheduler processes: start, serve ``/metrics``, stop gracefully.

``airgap <network> worker`` runs :func:`run_worker`: a Dramatiq worker with
``AIRGAP_WORKER_THREADS`` threads on the network's queue and, on the response network,
``AIRGAP_EXECUTOR_THREADS`` query executors; with ``AIRGAP_WORKER_PROCESSES`` > 1 a parent
starts that many such processes (restarting one that dies) and forwards the stop signal.
SIGTERM or Ctrl-C stops claiming work, lets jobs in hand finish within
``AIRGAP_SHUTDOWN_GRACE_SECONDS``, releases query jobs still held after that, requeues
unstarted messages, and exits; a second signal exits at once.

(The scheduler process is :func:`airgap.entrypoints.worker.scheduler.run_scheduler`.)
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import dramatiq
import redis

from airgap.adapters.redis.heartbeats import RedisWorkerHeartbeats
from airgap.domain.model.batching import Network
from airgap.domain.services.monitoring import HEARTBEAT_INTERVAL, record_heartbeat
from airgap.entrypoints.bootstrap.settings import Settings
from airgap.entrypoints.worker.config import QUEUE, PipelineSettings
from airgap.entrypoints.worker.logs import configure_logging, get_logger
from airgap.entrypoints.worker.metrics import serve_metrics
from airgap.entrypoints.worker.runtime import (
    ResponsePipeline,
    request_pipeline,
    response_pipeline,
)

#: An idle Dramatiq consumer backs off up to this long between looks at Redis (Dramatiq's
#: default is a second): a watcher's import request then starts within a quarter second.
WORKER_POLL_MS = 250


def _stop_on_signals(stop: threading.Event) -> None:
    """The first SIGTERM/SIGINT asks for a graceful stop; a second exits at once."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            os._exit(128 + signum)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _beat(pipeline: ResponsePipeline, stop: threading.Event, started: datetime) -> None:
    """Tell ``/stats/workers`` this worker is alive, every ``HEARTBEAT_INTERVAL``."""
    heartbeats = RedisWorkerHeartbeats(pipeline.redis)
    name = pipeline.jobs.worker_name
    log = get_logger("airgap.worker", network="response")
    while True:
        try:
            record_heartbeat(
                heartbeats,
                pipeline.side.clock,
                name,
                jobs_in_hand=pipeline.pool.jobs_in_hand if pipeline.pool else 0,
                started_at=started,
                queues=(QUEUE,),
                details={"executor_threads": pipeline.pipeline.executor_threads},
            )
        except Exception as error:  # Redis away: the heartbeat lapses, nothing else
            log.warning("worker.heartbeat_failed", error=str(error))
        if stop.wait(HEARTBEAT_INTERVAL.total_seconds()):
            break
    with contextlib.suppress(redis.RedisError):
        heartbeats.forget(name)


def run_one_worker(
    network: Network, settings: Settings, pipeline: PipelineSettings, index: int = 0
) -> int:
    """One worker process (blocks until stopped)."""
    configure_logging(settings.log_level)
    log = get_logger("airgap.worker", network=network.value, pid=os.getpid())
    stop = threading.Event()
    _stop_on_signals(stop)
    if pipeline.metrics_port:
        serve_metrics(pipeline.metrics_port + index)
    grace = pipeline.shutdown_grace.total_seconds()
    started = datetime.now(UTC)
    if network is Network.REQUEST:
        with request_pipeline(settings, pipeline) as request:
            worker = dramatiq.Worker(
                request.broker, worker_threads=pipeline.threads, worker_timeout=WORKER_POLL_MS
            )
            worker.start()
            log.info(
                "worker.started",
                threads=pipeline.threads,
                actors=sorted(request.actors),
                metrics_port=pipeline.metrics_port and pipeline.metrics_port + index,
            )
            stop.wait()
            log.info("worker.stopping", grace_s=grace)
            worker.stop(timeout=int(grace * 1000))
    else:
        with response_pipeline(settings, pipeline, executors=True) as response:
            worker = dramatiq.Worker(
                response.broker, worker_threads=pipeline.threads, worker_timeout=WORKER_POLL_MS
            )
            worker.start()
            if response.pool is not None:
                response.pool.start()
            beating = threading.Thread(
                target=_beat, args=(response, stop, started), name="heartbeat", daemon=True
            )
            beating.start()
            log.info(
                "worker.started",
                threads=pipeline.threads,
                executor_threads=pipeline.executor_threads,
                worker=response.jobs.worker_name,
                actors=sorted(response.actors),
                metrics_port=pipeline.metrics_port and pipeline.metrics_port + index,
            )
            stop.wait()
            log.info("worker.stopping", grace_s=grace)
            if response.pool is not None:
                response.pool.stop(grace)
            worker.stop(timeout=int(grace * 1000))
            beating.join(2)
    log.info("worker.stopped")
    return 0


def _child(network: Network, settings: Settings, pipeline: PipelineSettings, index: int) -> None:
    raise SystemExit(run_one_worker(network, settings, pipeline, index))


def run_worker(network: Network, settings: Settings, pipeline: PipelineSettings) -> int:
    """``pipeline.processes`` worker processes (one: this process)."""
    if pipeline.processes <= 1:
        return run_one_worker(network, settings, pipeline)
    configure_logging(settings.log_level)
    log = get_logger("airgap.worker.supervisor", network=network.value, pid=os.getpid())
    stop = threading.Event()
    _stop_on_signals(stop)
    context = multiprocessing.get_context("spawn")
    children: dict[int, Any] = {}

    def spawn(index: int) -> None:
        child = context.Process(
            target=_child, args=(network, settings, pipeline, index), name=f"worker-{index}"
        )
        child.start()
        children[index] = child
        log.info("worker.process_started", index=index, pid=child.pid)

    for index in range(pipeline.processes):
        spawn(index)
    while not stop.wait(1.0):
        for index, child in list(children.items()):
            if not child.is_alive():
                log.error("worker.process_died", index=index, exitcode=child.exitcode)
                time.sleep(1.0)
                spawn(index)
    for child in children.values():
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + pipeline.shutdown_grace.total_seconds() + 10
    for child in children.values():
        child.join(max(deadline - time.monotonic(), 0.1))
        if child.is_alive():
            child.kill()
    return 0
