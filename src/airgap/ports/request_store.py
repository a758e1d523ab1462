"""The request network's persistence: users replica, requests, responses, API keys, audit,
and transfer bookkeeping, behind one unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from airgap.domain.model.requests import Response, SearchRequest
from airgap.domain.model.users import ApiKey, User
from airgap.ports.audit import AuditLog
from airgap.ports.batch_records import (
    ChannelRepository,
    ExportBatchRepository,
    ImportBatchRepository,
)


class UserReplicaRepository(Protocol):
    def get(self, user_id: uuid.UUID) -> User | None: ...

    def get_by_username(self, username: str) -> User | None: ...

    def add(self, user: User) -> None: ...

    def save(self, user: User) -> None: ...


class RequestRepository(Protocol):
    def get(self, request_id: uuid.UUID) -> SearchRequest | None: ...

    def get_many(self, request_ids: Sequence[uuid.UUID]) -> Mapping[uuid.UUID, SearchRequest]:
        """The stored requests among ``request_ids``, by id (one round trip)."""
        ...

    def add(self, request: SearchRequest) -> None: ...

    def save(self, request: SearchRequest) -> None: ...

    def save_all(self, requests: Sequence[SearchRequest]) -> None: ...

    def pending_for_export(self, limit: int) -> Sequence[SearchRequest]:
        """Pending requests, priority DESC then created_at ASC, at most ``limit``."""
        ...

    def in_export_batch(self, batch_id: uuid.UUID) -> Sequence[SearchRequest]: ...


class ResponseRepository(Protocol):
    def get_for_request(self, request_id: uuid.UUID) -> Response | None: ...

    def add(self, response: Response) -> None: ...

    def add_all(self, responses: Sequence[Response]) -> None: ...

    def answered(self, request_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``request_ids`` already have a response."""
        ...

    def find_fresh(self, query_hash: str, since: datetime) -> Response | None:
        """The newest completed answer to a query with this hash that crossed the gap at or
        after ``since`` (for ``max_age_seconds``). Answers that were themselves served from
        a stored answer are not candidates: their data is older than their timestamp."""
        ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...

    def save(self, key: ApiKey) -> None: ...

    def get(self, key_id: uuid.UUID) -> ApiKey | None: ...

    def get_by_hash(self, key_hash: str) -> ApiKey | None: ...

    def for_user(self, user_id: uuid.UUID) -> Sequence[ApiKey]: ...


class RequestNetworkUnitOfWork(Protocol):
    """One per request or job, never shared. Rolls back on exit unless committed;
    repositories never commit."""

    @property
    def users(self) -> UserReplicaRepository: ...

    @property
    def requests(self) -> RequestRepository: ...

    @property
    def responses(self) -> ResponseRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def export_batches(self) -> ExportBatchRepository: ...

    @property
    def import_batches(self) -> ImportBatchRepository: ...

    @property
    def channels(self) -> ChannelRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
