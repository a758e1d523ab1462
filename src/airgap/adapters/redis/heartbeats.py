"""Worker heartbeats in Redis.

One key per worker, ``{prefix}:<worker>``, holding the heartbeat as JSON with an expiry of
the heartbeat's time to live, so a killed worker's key disappears by itself; and a sorted set
``{prefix}`` of worker names scored by their last beat, so listing needs no ``SCAN``. Names
whose key has expired are pruned from the set as they are found.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import redis

from airgap.domain.model.operations import WorkerHeartbeat

DEFAULT_PREFIX = "airgap:response:workers"


def _encode(heartbeat: WorkerHeartbeat) -> str:
    return json.dumps(
        {
            "worker": heartbeat.worker,
            "last_seen": heartbeat.last_seen.isoformat(),
            "jobs_in_hand": heartbeat.jobs_in_hand,
            "started_at": heartbeat.started_at.isoformat() if heartbeat.started_at else None,
            "queues": list(heartbeat.queues),
            "details": dict(heartbeat.details),
        },
        default=str,
    )


def _decode(raw: bytes | str) -> WorkerHeartbeat | None:
    try:
        data: dict[str, Any] = json.loads(raw)
        return WorkerHeartbeat(
            worker=str(data["worker"]),
            last_seen=datetime.fromisoformat(data["last_seen"]),
            jobs_in_hand=int(data.get("jobs_in_hand") or 0),
            started_at=(
                datetime.fromisoformat(data["started_at"]) if data.get("started_at") else None
            ),
            queues=tuple(str(q) for q in data.get("queues") or ()),
            details=dict(data.get("details") or {}),
        )
    except (ValueError, KeyError, TypeError):
        return None  # a key someone else wrote: not a heartbeat of ours


class RedisWorkerHeartbeats:
    def __init__(self, client: redis.Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix

    def _key(self, worker: str) -> str:
        return f"{self._prefix}:{worker}"

    def beat(self, heartbeat: WorkerHeartbeat, ttl: timedelta) -> None:
        milliseconds = max(math.ceil(ttl.total_seconds() * 1000), 1)
        pipe = self._client.pipeline(transaction=True)
        pipe.set(self._key(heartbeat.worker), _encode(heartbeat), px=milliseconds)
        pipe.zadd(self._prefix, {heartbeat.worker: heartbeat.last_seen.timestamp()})
        pipe.execute()

    def recent(self) -> Sequence[WorkerHeartbeat]:
        names = [
            n.decode() if isinstance(n, bytes) else str(n)
            for n in self._client.zrange(self._prefix, 0, -1)
        ]
        if not names:
            return []
        values = self._client.mget([self._key(n) for n in names])
        found: list[WorkerHeartbeat] = []
        gone: list[str] = []
        for name, raw in zip(names, values, strict=True):
            heartbeat = None if raw is None else _decode(raw)
            if heartbeat is None:
                gone.append(name)
            else:
                found.append(heartbeat)
        if gone:
            self._client.zrem(self._prefix, *gone)
        return sorted(found, key=lambda h: h.worker)

    def forget(self, worker: str) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(self._key(worker))
        pipe.zrem(self._prefix, worker)
        pipe.execute()
