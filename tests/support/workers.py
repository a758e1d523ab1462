"""Both networks' pipelines on real PostgreSQL, Redis and the filesystem, for the pipeline
tests: settings in a temporary data directory, fresh migrated databases, a small product
index for the embedded search engine, an account created on the response network and
carried to the request network, and the carrier between the two directories."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import dramatiq

from airgap.adapters.filesystem.carrier import FilesystemCarrier
from airgap.adapters.memory.security import FastPasswordHasher
from airgap.adapters.tantivy.index import write_index
from airgap.adapters.tantivy.sample import PRODUCTS_INDEX, generate_products, products_mapping
from airgap.domain.model.batching import Network
from airgap.domain.model.users import ProfileType, User
from airgap.domain.services.users import CreateUser, create_user
from airgap.entrypoints.bootstrap.settings import Settings
from airgap.entrypoints.worker.config import QUEUE, PipelineSettings
from airgap.entrypoints.worker.runtime import (
    RequestPipeline,
    ResponsePipeline,
    request_pipeline,
    response_pipeline,
)
from airgap.ports.transfer import CarryReport

SAMPLE_SIZE = 300
KETTLES = {"index": "products", "query": {"match": {"name": "kettle"}}, "size": 5}


def fast_pipeline(network: Network, tag: str, **changes: Any) -> PipelineSettings:
    """Pipeline settings for tests: quick retries and shutdown, no /metrics port, queues in
    a namespace of this test's own."""
    return attrs.evolve(
        PipelineSettings(
            network=network,
            threads=2,
            executor_threads=2,
            executor_idle_max=timedelta(milliseconds=200),
            metrics_port=None,
            broker_namespace=f"airgap-test-{tag}-{network.value}",
            retry_max=2,
            retry_min_backoff_ms=20,
            retry_max_backoff_ms=200,
            shutdown_grace=timedelta(seconds=5),
        ),
        **changes,
    )


@attrs.frozen
class Networks:
    """Settings of both networks in one data directory (each with its own database)."""

    data_dir: Path
    request: Settings
    response: Settings
    request_pipeline: PipelineSettings
    response_pipeline: PipelineSettings
    redis_url: str
    tag: str

    def carry_to_response(self) -> CarryReport:
        return FilesystemCarrier(self.request.outbox, self.response.inbox).carry()

    def carry_to_request(self) -> CarryReport:
        return FilesystemCarrier(self.response.outbox, self.request.inbox).carry()

    def environment(self, **extra: str) -> dict[str, str]:
        """What a worker or scheduler subprocess of either network needs to find the same
        databases, Redis and queues."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRGAP_")}
        env.update(
            AIRGAP_DATA_DIR=str(self.data_dir),
            AIRGAP_REQUEST_DATABASE_URL=str(self.request.database_url),
            AIRGAP_RESPONSE_DATABASE_URL=str(self.response.database_url),
            AIRGAP_REDIS_URL=self.redis_url,
            AIRGAP_REQUEST_BROKER_NAMESPACE=self.request_pipeline.namespace,
            AIRGAP_RESPONSE_BROKER_NAMESPACE=self.response_pipeline.namespace,
            AIRGAP_METRICS_PORT="0",
            AIRGAP_WORKER_THREADS="2",
            AIRGAP_EXECUTOR_THREADS="2",
            AIRGAP_EXECUTOR_IDLE_MAX_MS="200",
            AIRGAP_RETRY_MIN_BACKOFF_MS="20",
            AIRGAP_RETRY_MAX_BACKOFF_MS="200",
            AIRGAP_SHUTDOWN_GRACE_SECONDS="5",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env


def make_networks(data_dir: Path, request_url: str, response_url: str, redis_url: str) -> Networks:
    tag = uuid.uuid4().hex[:10]
    request = Settings(
        network=Network.REQUEST, data_dir=data_dir, database_url=request_url, redis_url=redis_url
    )
    response = Settings(
        network=Network.RESPONSE,
        data_dir=data_dir,
        database_url=response_url,
        redis_url=redis_url,
    )
    write_index(
        response.search_dir, PRODUCTS_INDEX, products_mapping(), generate_products(SAMPLE_SIZE)
    )
    return Networks(
        data_dir,
        request,
        response,
        fast_pipeline(Network.REQUEST, tag),
        fast_pipeline(Network.RESPONSE, tag),
        redis_url,
        tag,
    )


@attrs.define
class Running:
    """Both pipelines on StubBrokers, each with a Dramatiq worker running."""

    networks: Networks
    request: RequestPipeline
    response: ResponsePipeline
    request_worker: dramatiq.Worker
    response_worker: dramatiq.Worker

    def send(self, network: Network, task: str, **kwargs: str | int) -> None:
        """Send ``task`` and wait until both networks' queues are empty (the task and what
        it asked for in turn)."""
        side = self.request if network is Network.REQUEST else self.response
        side.tasks.enqueue(task, **kwargs)
        self.settle()

    def settle(self) -> None:
        for _ in range(3):  # a message may enqueue another one
            for pipeline, worker in (
                (self.request, self.request_worker),
                (self.response, self.response_worker),
            ):
                pipeline.broker.join(QUEUE, fail_fast=True)  # type: ignore[attr-defined]
                worker.join()

    def create_user(
        self, username: str = "alice", profile: ProfileType = ProfileType.BASIC
    ) -> User:
        """An account made on the response network and carried to the request network by
        the ``users.export`` and ``users.import`` actors."""
        user = create_user(
            self.response.side,
            FastPasswordHasher(),
            CreateUser(
                username, f"{username}@example.org", "correct horse battery staple", profile
            ),
        )
        self.send(Network.RESPONSE, "users.export")
        self.networks.carry_to_request()
        self.send(Network.REQUEST, "users.import")
        return user


@contextmanager
def running_on_stub_brokers(
    networks: Networks,
    *,
    executors: bool = False,
    request_changes: dict[str, Any] | None = None,
    response_changes: dict[str, Any] | None = None,
) -> Iterator[Running]:
    """Both pipelines on StubBrokers, each with a Dramatiq worker (two threads); with
    ``executors``, the response network's executor pool runs too."""
    request_settings = attrs.evolve(networks.request_pipeline, **(request_changes or {}))
    response_settings = attrs.evolve(networks.response_pipeline, **(response_changes or {}))
    with ExitStack() as stack:
        request = stack.enter_context(
            request_pipeline(networks.request, request_settings, stub=True)
        )
        response = stack.enter_context(
            response_pipeline(networks.response, response_settings, stub=True, executors=executors)
        )
        workers = []
        for broker in (request.broker, response.broker):
            worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=2)
            worker.start()
            stack.callback(worker.stop)
            workers.append(worker)
        if response.pool is not None:
            response.pool.start()
            stack.callback(response.pool.stop, 5.0)
        yield Running(networks, request, response, workers[0], workers[1])


def wait_for(
    condition: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(interval)


def airgap_command(*args: str) -> list[str]:
    """The ``airgap`` command of this environment, as a subprocess argument list."""
    return [sys.executable, "-m", "airgap", *args]


def user_on_both_networks(
    request: RequestPipeline, response: ResponsePipeline, networks: Networks, name: str = "alice"
) -> User:
    """Create an account on the response network and carry it over with the jobs (no
    worker needed)."""
    user = create_user(
        response.side,
        FastPasswordHasher(),
        CreateUser(name, f"{name}@example.org", "correct horse battery staple"),
    )
    response.jobs.export_users()
    networks.carry_to_request()
    request.jobs.import_inbox()
    return user


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess writing to ``log``; stopped (SIGTERM, then SIGKILL) on the way out, and
    its log shown if the block failed."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        child = subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield child
        except BaseException:
            sys.stderr.write(f"--- {' '.join(args[-3:])} log ---\n")
            sys.stderr.write(log.read_text(errors="replace")[-6000:])
            raise
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(15)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
