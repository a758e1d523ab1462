"""Sending tasks without running a worker: the scheduler, and any API process.

An API process gives its container ``tasks=sending_task_queue(pipeline, container.redis())``
(``pipeline = PipelineSettings.from_env(network)``), so what its use cases enqueue lands in
the queue — and the Redis namespace (``AIRGAP_BROKER_NAMESPACE``) — the network's workers
consume. A plain ``RedisBroker(client=…)`` reaches them too, as long as the namespace is
left at Dramatiq's default.
"""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from airgap.adapters.dramatiq.task_queue import DramatiqTaskQueue
from airgap.entrypoints.worker.config import QUEUE, PipelineSettings


def sending_broker(pipeline: PipelineSettings, client: redis.Redis) -> dramatiq.Broker:
    """A Redis broker that only sends: the network's namespace, no middleware, no
    actors. It is also installed as Dramatiq's global broker (never the default one)."""
    broker: dramatiq.Broker = RedisBroker(  # type: ignore[no-untyped-call]
        client=client, namespace=pipeline.namespace, middleware=[]
    )
    broker.declare_queue(QUEUE)
    dramatiq.set_broker(broker)
    return broker


def sending_task_queue(pipeline: PipelineSettings, client: redis.Redis) -> DramatiqTaskQueue:
    """The task-queue port on :func:`sending_broker`."""
    return DramatiqTaskQueue(sending_broker(pipeline, client), queue_name=QUEUE)
