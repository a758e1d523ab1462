"""The records that cross the gap, as the domain sees them.

The wire spelling (JSON Lines, field names, the ``type`` tag) belongs to the serialization
adapter; these classes are what use cases build and consume.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from airgap.domain.model.batching import BatchType, ImportStatus, Rejection


@attrs.frozen
class RequestRecord:
    """A request on its way to the response network."""

    request_id: uuid.UUID
    user_id: uuid.UUID
    query_type: str
    query_params: Mapping[str, Any]
    query_hash: str
    priority: int
    created_at: datetime
    expires_at: datetime


@attrs.frozen
class ResultRecord:
    """An answer on its way back, bound to its question (SPEC §4)."""

    request_id: uuid.UUID
    request_batch_id: uuid.UUID
    request_batch_sequence: int
    query_hash: str
    status: str  # "completed" or "failed"
    backend: str
    index: str
    executed_at: datetime
    result_data: Mapping[str, Any] | None = None
    result_count: int | None = None
    execution_time_ms: int | None = None
    took_ms: int | None = None
    cache_hit: bool = False
    error: str | None = None
    metadata: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class UserRecord:
    """One account in a users snapshot. ``version`` is the account's own change counter; the
    replica applies a record only if it is newer than what it holds, so snapshots may arrive
    late, twice or out of order without harm."""

    user_id: uuid.UUID
    username: str
    email: str
    hashed_password: str
    profile_type: str
    rate_limit_per_minute: int | None
    rate_limit_per_hour: int | None
    rate_limit_per_day: int | None
    priority: int
    role: str
    is_active: bool
    version: int
    snapshot_version: int
    full_name: str | None = None


@attrs.frozen
class ImportReportRecord:
    """What became of one batch the other side sent: counts and reasons (SPEC §4)."""

    batch_id: uuid.UUID
    sequence: int | None
    batch_type: BatchType | None
    status: ImportStatus
    accepted: int
    duplicates: int
    rejections: tuple[Rejection, ...] = ()
    error: str | None = None


TransferRecord = RequestRecord | ResultRecord | UserRecord | ImportReportRecord

#: The record types each batch type may carry (import reports ride along in any batch).
ALLOWED_RECORDS: dict[BatchType, tuple[type, ...]] = {
    BatchType.REQUESTS: (RequestRecord, ImportReportRecord),
    BatchType.RESPONSES: (ResultRecord, ImportReportRecord),
    BatchType.USERS: (UserRecord, ImportReportRecord),
    BatchType.SYSTEM: (ImportReportRecord,),
}
