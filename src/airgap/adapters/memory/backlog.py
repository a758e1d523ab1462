"""Counts of waiting work on the in-memory stores (for embedding and unit tests)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from airgap.adapters.memory.store import MemoryRequestStore, MemoryResponseStore
from airgap.domain.model.jobs import JobStatus

_OPEN = (JobStatus.PENDING, JobStatus.RETRY, JobStatus.PROCESSING)


class MemoryRequestBacklog:
    def __init__(self, store: MemoryRequestStore) -> None:
        self._store = store

    def pending_requests(self, up_to: int) -> int:
        with self._store.unit_of_work() as uow:
            return len(uow.requests.pending_for_export(max(up_to, 0)))

    def answered_in(self, import_batch_id: uuid.UUID) -> Sequence[uuid.UUID]:
        with self._store.unit_of_work() as uow:
            return [
                r.request_id for r in uow.responses.all() if r.import_batch_id == import_batch_id
            ]


class MemoryResponseBacklog:
    def __init__(self, store: MemoryResponseStore) -> None:
        self._store = store

    def unexported_results(self, up_to: int) -> int:
        with self._store.unit_of_work() as uow:
            return len(uow.results.unexported(max(up_to, 0)))

    def open_jobs(self) -> int:
        with self._store.unit_of_work() as uow:
            return sum(1 for job in uow.jobs.all() if job.status in _OPEN)
