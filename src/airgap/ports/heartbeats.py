"""Worker heartbeats: each worker process says, every few seconds, that it is alive and how
many jobs it holds; a heartbeat not renewed within its time to live disappears by itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from airgap.domain.model.operations import WorkerHeartbeat


class WorkerHeartbeats(Protocol):
    def beat(self, heartbeat: WorkerHeartbeat, ttl: timedelta) -> None:
        """Store (replace) the worker's heartbeat; it is forgotten ``ttl`` after this call
        unless beaten again."""
        ...

    def recent(self) -> Sequence[WorkerHeartbeat]:
        """The heartbeats not yet expired, by worker name."""
        ...

    def forget(self, worker: str) -> None:
        """Remove a worker's heartbeat (a worker shutting down cleanly)."""
        ...
