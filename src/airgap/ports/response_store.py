"""The response network's persistence: users (the source of truth), their API keys, query
jobs (``incoming_requests``), results, system logs and transfer bookkeeping, behind one unit
of work."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.users import User
from airgap.ports.accounts import ApiKeys
from airgap.ports.audit import SystemLog
from airgap.ports.batch_records import (
    ChannelRepository,
    ExportBatchRepository,
    ImportBatchRepository,
)


class UserRepository(Protocol):
    def get(self, user_id: uuid.UUID) -> User | None: ...

    def get_by_username(self, username: str) -> User | None: ...

    def add(self, user: User) -> None: ...

    def save(self, user: User) -> None: ...

    def changed_since(self, version: int) -> Sequence[User]:
        """Users whose version is greater than ``version``."""
        ...

    def all(self) -> Sequence[User]: ...


class JobRepository(Protocol):
    def get(self, job_id: uuid.UUID) -> QueryJob | None: ...

    def get_by_request(self, request_id: uuid.UUID) -> QueryJob | None: ...

    def add_if_absent(self, job: QueryJob) -> bool:
        """Insert unless a job for the same request id exists; True if inserted."""
        ...

    def add_all_if_absent(self, jobs: Sequence[QueryJob]) -> set[uuid.UUID]:
        """The bulk form (one round trip): returns the request ids that were inserted."""
        ...

    def save(self, job: QueryJob) -> None: ...

    def claim_next(self, worker: str, now: datetime, lease: timedelta) -> QueryJob | None:
        """Claim the most urgent claimable job (priority DESC, imported_at ASC), skipping
        jobs another worker holds, apply :meth:`QueryJob.claim` and return it — marked
        ``processing``, or ``failed`` when a dead worker's lease ran out on its last attempt
        (the caller then records the failure)."""
        ...


class ResultRepository(Protocol):
    def get(self, result_id: uuid.UUID) -> QueryResult | None: ...

    def get_for_job(self, job_id: uuid.UUID) -> QueryResult | None: ...

    def add(self, result: QueryResult) -> None: ...

    def save_all(self, results: Sequence[QueryResult]) -> None: ...

    def unexported(self, limit: int) -> Sequence[QueryResult]:
        """Results not yet exported, oldest first, at most ``limit``."""
        ...

    def in_export_batch(self, batch_id: uuid.UUID) -> Sequence[QueryResult]: ...

    def withdraw(self, result_id: uuid.UUID) -> bool:
        """Delete a result that has not been exported (an operator retries its job, so only
        the new outcome crosses); False, and nothing changes, if it was exported or is
        unknown."""
        ...


class ResponseNetworkUnitOfWork(Protocol):
    """One per request or job, never shared. Rolls back on exit unless committed."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def api_keys(self) -> ApiKeys:
        """API keys of this network's operators and admins (for scripts)."""
        ...

    @property
    def jobs(self) -> JobRepository: ...

    @property
    def results(self) -> ResultRepository: ...

    @property
    def export_batches(self) -> ExportBatchRepository: ...

    @property
    def import_batches(self) -> ImportBatchRepository: ...

    @property
    def channels(self) -> ChannelRepository: ...

    @property
    def system_logs(self) -> SystemLog: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
