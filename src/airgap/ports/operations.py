"""The response network's read side for monitoring and operations: pages of jobs, results,
batches, users and system logs, the queue by status and priority, execution latency, and the
transfer channels' state.

Lists are read outside any unit of work and never lock anything. Every list takes ``limit``
(1–500) and ``offset`` (≥ 0) and a ``sort`` that names one allow-listed field, ``-field`` for
descending; an adapter raises :class:`~airgap.domain.model.errors.ValidationFailed` for
anything else, naming what it accepts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from airgap.domain.model.batching import ExportBatch, ImportBatch
from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.operations import (
    ExecutionSummary,
    Page,
    QueueBucket,
    SystemLogRecord,
    TransferState,
)
from airgap.domain.model.users import User

#: The fields each list may be sorted by (the adapters index these).
JOB_SORTS = ("imported_at", "priority", "status", "attempts")
RESULT_SORTS = ("executed_at", "execution_time_ms", "status")
LOG_SORTS = ("created_at", "level", "component")
BATCH_SORTS = ("created_at", "sequence", "status")
USER_SORTS = ("username", "created_at", "updated_at", "version")
MAX_PAGE = 500


class ResponseNetworkReadModel(Protocol):
    def queue(self) -> Sequence[QueueBucket]:
        """Jobs counted by status and priority, with the oldest ``imported_at`` of each."""
        ...

    def jobs(
        self,
        *,
        status: str | None = None,
        user_id: uuid.UUID | None = None,
        import_batch_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-imported_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[QueryJob]:
        """Incoming requests; ``since``/``until`` bound ``imported_at``."""
        ...

    def job(self, job_id: uuid.UUID) -> QueryJob | None: ...

    def results(
        self,
        *,
        status: str | None = None,
        exported: bool | None = None,
        cache_hit: bool | None = None,
        index: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-executed_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[QueryResult]:
        """Query results; ``since``/``until`` bound ``executed_at``."""
        ...

    def result(self, result_id: uuid.UUID) -> QueryResult | None: ...

    def results_of_job(self, job_id: uuid.UUID) -> Sequence[QueryResult]:
        """Every result a job produced, newest first (a retried job has several)."""
        ...

    def execution_summary(self, since: datetime) -> ExecutionSummary:
        """Results executed at or after ``since``: counts, cache hits, latency."""
        ...

    def system_logs(
        self,
        *,
        level: str | None = None,
        component: str | None = None,
        request_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[SystemLogRecord]: ...

    def export_batches(
        self,
        *,
        batch_type: str | None = None,
        status: str | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ExportBatch]: ...

    def import_batches(
        self,
        *,
        batch_type: str | None = None,
        status: str | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ImportBatch]:
        """Import batches; ``created_at`` is when the batch was received."""
        ...

    def export_batch(self, batch_id: uuid.UUID) -> ExportBatch | None: ...

    def import_batch(self, import_id: uuid.UUID) -> ImportBatch | None: ...

    def users(
        self,
        *,
        profile_type: str | None = None,
        role: str | None = None,
        is_active: bool | None = None,
        search: str | None = None,
        sort: str = "username",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[User]:
        """Accounts; ``search`` matches the start of the username or e-mail, any case."""
        ...

    def transfer(self) -> TransferState:
        """Sequence numbers, acks and missing batches on this network's two channels."""
        ...
