"""The ASGI factory ``airgap response api`` serves (``uvicorn --factory``): settings from the
environment (``AIRGAP_*``, network ``response``), the container with Dramatiq on the
network's Redis for tasks and the in-memory query cache, and the app that owns them."""

from __future__ import annotations

import redis
from dependency_injector import providers
from dramatiq.brokers.redis import RedisBroker
from litestar import Litestar

from airgap.adapters.dramatiq.task_queue import DramatiqTaskQueue
from airgap.adapters.memory.cache import MemoryQueryCache
from airgap.domain.model.batching import Network
from airgap.entrypoints.bootstrap.containers import ResponseNetwork
from airgap.entrypoints.bootstrap.settings import Settings
from airgap.entrypoints.http.response_network.app import create_app


def dramatiq_tasks(client: redis.Redis) -> DramatiqTaskQueue:
    """Tasks go to Dramatiq on the network's own Redis (the workers' broker)."""
    return DramatiqTaskQueue(RedisBroker(client=client))  # type: ignore[no-untyped-call]


def build() -> Litestar:
    """Build the app from the environment (one per worker process)."""
    settings = Settings.from_env(network=Network.RESPONSE)
    container = ResponseNetwork(settings=settings, cache=MemoryQueryCache())
    container.tasks.override(providers.Singleton(dramatiq_tasks, container.redis))
    return create_app(container, shutdown_container=True)
