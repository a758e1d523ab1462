"""The request lifecycle on the request network (SPEC §5).

``pending`` → ``exported`` → ``completed`` | ``failed``; ``pending`` → ``cancelled`` (only while
pending); ``exported`` → ``pending`` again only by the re-send rule (the batch that carried it
stayed unacknowledged). A result that arrives for a request the re-send rule put back to
``pending`` is still accepted: it was exported, and its answer is the answer.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from airgap.domain.model.errors import IllegalTransition

DEFAULT_REQUEST_TTL = timedelta(days=7)


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    EXPORTED = "exported"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({RequestStatus.COMPLETED, RequestStatus.FAILED, RequestStatus.CANCELLED})


@attrs.define(slots=False, eq=False)
class Response:
    """The answer a request received (result data or an explicit failure)."""

    request_id: uuid.UUID
    status: str  # "completed" or "failed"
    result_data: Mapping[str, Any] | None
    result_count: int | None
    execution_time_ms: int | None
    received_at: datetime
    cache_hit: bool = False
    from_cache: bool = False  # answered on the request network from a stored answer
    import_batch_id: uuid.UUID | None = None
    error: str | None = None
    metadata: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.define(slots=False, eq=False)
class SearchRequest:
    """A user's search request as the request network stores it."""

    id: uuid.UUID
    user_id: uuid.UUID
    query_type: str
    query_params: Mapping[str, Any]
    query_hash: str
    priority: int
    created_at: datetime
    expires_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    exported_at: datetime | None = None
    export_batch_id: uuid.UUID | None = None
    export_count: int = 0
    result_received_at: datetime | None = None
    cancelled_at: datetime | None = None
    error_message: str | None = None

    @classmethod
    def submit(
        cls,
        *,
        id: uuid.UUID,
        user_id: uuid.UUID,
        query_type: str,
        query_params: Mapping[str, Any],
        query_hash: str,
        priority: int,
        now: datetime,
        ttl: timedelta = DEFAULT_REQUEST_TTL,
    ) -> SearchRequest:
        return cls(
            id=id,
            user_id=user_id,
            query_type=query_type,
            query_params=query_params,
            query_hash=query_hash,
            priority=priority,
            created_at=now,
            expires_at=now + ttl,
        )

    def _refuse(self, action: str) -> IllegalTransition:
        return IllegalTransition("request", self.status.value, action)

    @property
    def was_exported(self) -> bool:
        return self.export_count > 0

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def mark_exported(self, batch_id: uuid.UUID, now: datetime) -> None:
        if self.status is not RequestStatus.PENDING:
            raise self._refuse("export")
        self.status = RequestStatus.EXPORTED
        self.exported_at = now
        self.export_batch_id = batch_id
        self.export_count += 1

    def return_to_pending(self) -> None:
        """The re-send rule: the batch that carried this request was never acknowledged."""
        if self.status is not RequestStatus.EXPORTED:
            raise self._refuse("re-send")
        self.status = RequestStatus.PENDING

    def cancel(self, now: datetime) -> None:
        if self.status is not RequestStatus.PENDING:
            raise self._refuse("cancel")
        self.status = RequestStatus.CANCELLED
        self.cancelled_at = now

    def _may_receive_answer(self) -> bool:
        return self.status is RequestStatus.EXPORTED or (
            self.status is RequestStatus.PENDING and self.was_exported
        )

    def complete(self, now: datetime) -> None:
        if not self._may_receive_answer():
            raise self._refuse("complete")
        self.status = RequestStatus.COMPLETED
        self.result_received_at = now

    def fail(self, reason: str, now: datetime) -> None:
        # A pending request may fail without a crossing (e.g. it expired before export).
        if self.status.is_final:
            raise self._refuse("fail")
        self.status = RequestStatus.FAILED
        self.error_message = reason
        self.result_received_at = now

    def answer_from_stored(self, now: datetime) -> None:
        """``max_age_seconds``: answered at once from a fresh stored answer, no crossing."""
        if self.status is not RequestStatus.PENDING or self.was_exported:
            raise self._refuse("answer from a stored response")
        self.status = RequestStatus.COMPLETED
        self.result_received_at = now
