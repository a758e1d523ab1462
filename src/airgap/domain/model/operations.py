"""What the response network's operators watch and act on: pages of lists, the queue, worker
heartbeats, quarantined batches, dead letters, and the transfer channels' state."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import attrs

from airgap.domain.model.audit import SystemLogEntry
from airgap.domain.model.batching import InboundChannel, OutboundChannel

T = TypeVar("T")

#: A worker that has not beaten for this long is shown as gone.
HEARTBEAT_STALE_AFTER = timedelta(seconds=60)


@attrs.frozen
class Page(Generic[T]):
    """One page of a list and the size of the whole list (``{items, total, limit, offset}``,
    SPEC §10)."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


@attrs.frozen
class QueueBucket:
    """How many jobs are in one status at one priority, and when the oldest was imported."""

    status: str
    priority: int
    count: int
    oldest_imported_at: datetime | None


@attrs.frozen
class WorkerHeartbeat:
    """What a worker process says about itself, every few seconds while it runs.

    ``worker`` is a stable name (``host:pid`` by default); ``jobs_in_hand`` how many jobs it
    holds at that moment; ``last_seen`` when it said so. A heartbeat that is not renewed
    expires on its own, so a killed worker disappears without anyone cleaning up.
    """

    worker: str
    last_seen: datetime
    jobs_in_hand: int = 0
    started_at: datetime | None = None
    queues: tuple[str, ...] = ()
    details: Mapping[str, Any] = attrs.field(factory=dict)

    def alive_at(self, now: datetime, stale_after: timedelta = HEARTBEAT_STALE_AFTER) -> bool:
        return now - self.last_seen < stale_after


@attrs.frozen
class QuarantinedFile:
    """A batch the inbox refused, with the reason it was refused."""

    name: str
    reason: str
    quarantined_at: datetime
    size_bytes: int


@attrs.frozen
class DeadLetter:
    """A task message that exhausted its retries (SPEC §11), kept until an operator retries
    or discards it."""

    id: uuid.UUID
    message_id: str
    queue_name: str
    actor_name: str
    args: Sequence[Any]
    kwargs: Mapping[str, Any]
    options: Mapping[str, Any]
    error: str | None
    attempts: int
    failed_at: datetime
    retried_at: datetime | None = None


@attrs.frozen
class SystemLogRecord:
    """A system log entry as stored, with its id."""

    id: int
    entry: SystemLogEntry


@attrs.frozen
class TransferState:
    """Both ends of this network's channels and what still waits for an acknowledgement."""

    outbound: OutboundChannel
    inbound: InboundChannel
    awaiting_ack: int
    unwritten: int
    oldest_unacknowledged_at: datetime | None

    @property
    def missing(self) -> tuple[int, ...]:
        """Sequence numbers from the other side that never arrived (below the highest)."""
        return self.inbound.received.missing()


@attrs.frozen
class ExecutionSummary:
    """How queries ran over a period: counts, cache hits and latency percentiles."""

    since: datetime
    executed: int
    completed: int
    failed: int
    cache_hits: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: int | None

    @property
    def hit_ratio(self) -> float | None:
        return None if self.executed == 0 else self.cache_hits / self.executed


def percentile(values: Sequence[int], fraction: float) -> float | None:
    """The ``fraction`` percentile of ``values`` by linear interpolation (as PostgreSQL's
    ``percentile_cont``), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
