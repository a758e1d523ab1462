"""Rows ↔ domain objects, explicitly, one pair of functions per table.

The domain classes know nothing of the database; these functions are the only place that
knows which column holds which attribute (``QueryResult.job_id`` is the seeds'
``query_results.request_id``, ``ImportBatch.batch_id`` is ``source_batch_id``, …).
Row-to-object functions take the row's mapping; object-to-row functions return the values
of the columns the domain owns and nothing else, so columns the domain does not know (the
seeds' ``metadata``, ``file_path``, ``elasticsearch_query``) are left as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from airgap.domain.model.audit import AuditEntry, LogLevel, SystemLogEntry
from airgap.domain.model.batching import (
    Acks,
    BatchType,
    Channel,
    ExportBatch,
    ExportStatus,
    ImportBatch,
    ImportStatus,
    InboundChannel,
    Network,
    OutboundChannel,
    ReceivedSequences,
    Rejection,
)
from airgap.domain.model.caching import CachedResult
from airgap.domain.model.jobs import JobStatus, QueryJob, QueryResult
from airgap.domain.model.rate_limit import RateLimits
from airgap.domain.model.requests import RequestStatus, Response, SearchRequest
from airgap.domain.model.users import ApiKey, ProfileType, Role, User

Row = Mapping[Any, Any]  # a RowMapping, or any mapping with the column names


def _dict(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value) if value else {}


def _optional_dict(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)


def _uuids(values: Iterable[uuid.UUID] | None) -> tuple[uuid.UUID, ...]:
    return tuple(values or ())


# --- users ------------------------------------------------------------------------------------


def user_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "hashed_password": user.hashed_password,
        "full_name": user.full_name,
        "profile_type": user.profile_type.value,
        "rate_limit_per_minute": user.rate_limits.per_minute,
        "rate_limit_per_hour": user.rate_limits.per_hour,
        "rate_limit_per_day": user.rate_limits.per_day,
        "priority": user.priority,
        "role": user.role.value,
        "is_active": user.is_active,
        "locally_deactivated": user.locally_deactivated,
        "allowed_indices": (None if user.allowed_indices is None else sorted(user.allowed_indices)),
        "version": user.version,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login": user.last_login,
    }


def user_from(row: Row) -> User:
    allowed = row["allowed_indices"]
    return User(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        hashed_password=row["hashed_password"],
        profile_type=ProfileType(row["profile_type"]),
        rate_limits=RateLimits(
            row["rate_limit_per_minute"], row["rate_limit_per_hour"], row["rate_limit_per_day"]
        ),
        priority=row["priority"],
        role=Role(row["role"]),
        full_name=row["full_name"],
        is_active=row["is_active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_login=row["last_login"],
        version=row["version"],
        locally_deactivated=row["locally_deactivated"],
        allowed_indices=None if allowed is None else frozenset(allowed),
    )


def api_key_row(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "user_id": key.user_id,
        "key_hash": key.key_hash,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": sorted(key.scopes),
        "last_used_at": key.last_used_at,
        "expires_at": key.expires_at,
        "is_active": key.is_active,
        "created_at": key.created_at,
    }


def api_key_from(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        scopes=frozenset(row["scopes"] or ()),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        is_active=row["is_active"],
    )


# --- requests and responses -------------------------------------------------------------------


def request_row(request: SearchRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "user_id": request.user_id,
        "query_type": request.query_type,
        "query_params": _dict(request.query_params),
        "query_hash": request.query_hash,
        "status": request.status.value,
        "priority": request.priority,
        "created_at": request.created_at,
        "expires_at": request.expires_at,
        "exported_at": request.exported_at,
        "export_batch_id": request.export_batch_id,
        "export_count": request.export_count,
        "result_received_at": request.result_received_at,
        "cancelled_at": request.cancelled_at,
        "error_message": request.error_message,
    }


def request_from(row: Row) -> SearchRequest:
    return SearchRequest(
        id=row["id"],
        user_id=row["user_id"],
        query_type=row["query_type"],
        query_params=row["query_params"],
        query_hash=row["query_hash"],
        priority=row["priority"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        status=RequestStatus(row["status"]),
        exported_at=row["exported_at"],
        export_batch_id=row["export_batch_id"],
        export_count=row["export_count"],
        result_received_at=row["result_received_at"],
        cancelled_at=row["cancelled_at"],
        error_message=row["error_message"],
    )


def response_row(response: Response) -> dict[str, Any]:
    return {
        "request_id": response.request_id,
        "status": response.status,
        "result_data": _optional_dict(response.result_data),
        "result_count": response.result_count,
        "execution_time_ms": response.execution_time_ms,
        "received_at": response.received_at,
        "import_batch_id": response.import_batch_id,
        "is_cached": response.cache_hit,
        "from_cache": response.from_cache,
        "error_message": response.error,
        "metadata": _dict(response.metadata),
    }


def response_from(row: Row) -> Response:
    return Response(
        request_id=row["request_id"],
        status=row["status"],
        result_data=row["result_data"],
        result_count=row["result_count"],
        execution_time_ms=row["execution_time_ms"],
        received_at=row["received_at"],
        cache_hit=row["is_cached"],
        from_cache=row["from_cache"],
        import_batch_id=row["import_batch_id"],
        error=row["error_message"],
        metadata=_dict(row["metadata"]),
    )


# --- logs -------------------------------------------------------------------------------------


def audit_row(entry: AuditEntry, ip_address: str | None) -> dict[str, Any]:
    """``ip_address`` is what the ``inet`` column can hold (the caller checks it)."""
    details = _dict(entry.details)
    if entry.ip_address is not None and ip_address is None:
        # Not an IP address (e.g. a test client's host name): kept, but not as inet.
        details = {**details, "ip_address": entry.ip_address}
    return {
        "user_id": entry.user_id,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "ip_address": ip_address,
        "user_agent": entry.user_agent,
        "response_status": entry.status,
        "created_at": entry.created_at,
        "metadata": details,
    }


def audit_from(row: Row) -> AuditEntry:
    details = _dict(row["metadata"])
    ip_address = row["ip_address"]
    if ip_address is None and isinstance(details.get("ip_address"), str):
        ip_address = details.pop("ip_address")
    return AuditEntry(
        action=row["action"],
        created_at=row["created_at"],
        user_id=row["user_id"],
        resource_type=row["resource_type"],
        resource_id=row["resource_id"],
        ip_address=None if ip_address is None else str(ip_address),
        user_agent=row["user_agent"],
        status=row["response_status"],
        details=details,
    )


def system_log_row(entry: SystemLogEntry) -> dict[str, Any]:
    return {
        "level": entry.level.value,
        "component": entry.component,
        "message": entry.message,
        "request_id": entry.request_id,
        "created_at": entry.created_at,
        "metadata": _dict(entry.details),
    }


def system_log_from(row: Row) -> SystemLogEntry:
    return SystemLogEntry(
        level=LogLevel(row["level"]),
        component=row["component"],
        message=row["message"],
        created_at=row["created_at"],
        request_id=row["request_id"],
        details=_dict(row["metadata"]),
    )


# --- transfer bookkeeping ---------------------------------------------------------------------


def _rejections_json(rejections: Iterable[Rejection]) -> list[dict[str, str]]:
    return [{"item_id": r.item_id, "reason": r.reason} for r in rejections]


def _rejections(value: Iterable[Mapping[str, str]] | None) -> tuple[Rejection, ...]:
    return tuple(Rejection(r["item_id"], r["reason"]) for r in value or ())


def channel_key(channel: Channel) -> dict[str, str]:
    return {
        "source_network": channel.source.value,
        "destination_network": channel.destination.value,
    }


def _channel(row: Row) -> Channel:
    return Channel(Network(row["source_network"]), Network(row["destination_network"]))


def export_batch_row(batch: ExportBatch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "batch_type": batch.batch_type.value,
        **channel_key(batch.channel),
        "sequence": batch.sequence,
        "created_at": batch.created_at,
        "record_count": batch.record_count,
        "file_size_bytes": batch.payload_size,
        "checksum": batch.payload_sha256 or None,
        "filename": batch.filename,
        "encrypted": batch.encrypted,
        "signed": batch.signed,
        "status": batch.status.value,
        "acknowledged_at": batch.acknowledged_at,
        "resent_at": batch.resent_at,
        "error_message": batch.error_message,
        "remote_accepted": batch.remote_accepted,
        "remote_duplicates": batch.remote_duplicates,
        "remote_rejections": _rejections_json(batch.remote_rejections),
        "user_ids": list(batch.user_ids),
        "report_ids": list(batch.report_ids),
    }


def export_batch_from(row: Row) -> ExportBatch:
    return ExportBatch(
        id=row["id"],
        batch_type=BatchType(row["batch_type"]),
        channel=_channel(row),
        sequence=row["sequence"],
        created_at=row["created_at"],
        record_count=row["record_count"],
        payload_size=row["file_size_bytes"] or 0,
        payload_sha256=row["checksum"] or "",
        filename=row["filename"],
        encrypted=row["encrypted"],
        signed=row["signed"],
        status=ExportStatus(row["status"]),
        acknowledged_at=row["acknowledged_at"],
        resent_at=row["resent_at"],
        error_message=row["error_message"],
        remote_accepted=row["remote_accepted"],
        remote_duplicates=row["remote_duplicates"],
        remote_rejections=_rejections(row["remote_rejections"]),
        user_ids=_uuids(row["user_ids"]),
        report_ids=_uuids(row["report_ids"]),
    )


def import_batch_row(batch: ImportBatch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "source_batch_id": batch.batch_id,
        "batch_type": None if batch.batch_type is None else batch.batch_type.value,
        "source_network": None if batch.source_network is None else batch.source_network.value,
        "sequence": batch.sequence,
        "filename": batch.filename,
        "status": batch.status.value,
        "created_at": batch.received_at,
        # Imports happen in one transaction: received and processed are the same moment.
        "processed_at": batch.received_at,
        "record_count": batch.record_count,
        "accepted": batch.accepted,
        "duplicates": batch.duplicates,
        "rejections": _rejections_json(batch.rejections),
        "checksum": batch.payload_sha256,
        "error_message": batch.error_message,
        "reported": batch.reported,
    }


def import_batch_from(row: Row) -> ImportBatch:
    return ImportBatch(
        id=row["id"],
        batch_id=row["source_batch_id"],
        batch_type=None if row["batch_type"] is None else BatchType(row["batch_type"]),
        source_network=(None if row["source_network"] is None else Network(row["source_network"])),
        sequence=row["sequence"],
        filename=row["filename"],
        status=ImportStatus(row["status"]),
        received_at=row["created_at"],
        record_count=row["record_count"],
        accepted=row["accepted"],
        duplicates=row["duplicates"],
        rejections=_rejections(row["rejections"]),
        payload_sha256=row["checksum"],
        error_message=row["error_message"],
        reported=row["reported"],
    )


def _ranges(value: Iterable[Iterable[int]] | None) -> list[tuple[int, int]]:
    return [(int(lo), int(hi)) for lo, hi in value or ()]


def _acks_json(acks: Acks | None) -> dict[str, Any] | None:
    if acks is None:
        return None
    return {"received": [list(r) for r in acks.received], "missing": list(acks.missing)}


def _acks(value: Mapping[str, Any] | None) -> Acks | None:
    if value is None:
        return None
    return Acks(
        received=tuple(_ranges(value.get("received"))),
        missing=tuple(int(n) for n in value.get("missing", ())),
    )


def outbound_row(state: OutboundChannel) -> dict[str, Any]:
    return {
        **channel_key(state.channel),
        "last_sequence": state.last_sequence,
        "acks_sent": _acks_json(state.acks_sent),
        "last_sent_at": state.last_sent_at,
        "users_version_sent": state.users_version_sent,
    }


def outbound_from(row: Row) -> OutboundChannel:
    return OutboundChannel(
        channel=_channel(row),
        last_sequence=row["last_sequence"],
        acks_sent=_acks(row["acks_sent"]),
        last_sent_at=row["last_sent_at"],
        users_version_sent=row["users_version_sent"],
    )


def inbound_row(state: InboundChannel) -> dict[str, Any]:
    return {
        **channel_key(state.channel),
        "received": [list(r) for r in state.received.ranges],
        "last_received_at": state.last_received_at,
        "ack_owed": state.ack_owed,
    }


def inbound_from(row: Row) -> InboundChannel:
    return InboundChannel(
        channel=_channel(row),
        received=ReceivedSequences(_ranges(row["received"])),
        last_received_at=row["last_received_at"],
        ack_owed=row["ack_owed"],
    )


# --- jobs and results -------------------------------------------------------------------------


def job_row(job: QueryJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "original_request_id": job.request_id,
        "user_id": job.user_id,
        "query_type": job.query_type,
        "query_params": _dict(job.query_params),
        "query_hash": job.query_hash,
        "priority": job.priority,
        "created_at": job.created_at,
        "expires_at": job.expires_at,
        "imported_at": job.imported_at,
        "import_batch_id": job.import_batch_id,
        "import_batch_sequence": job.import_batch_sequence,
        "status": job.status.value,
        "attempts": job.attempts,
        "assigned_worker": job.assigned_worker,
        "lease_expires_at": job.lease_expires_at,
        "next_attempt_at": job.next_attempt_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "error_message": job.error_message,
    }


def job_from(row: Row) -> QueryJob:
    return QueryJob(
        id=row["id"],
        request_id=row["original_request_id"],
        user_id=row["user_id"],
        query_type=row["query_type"],
        query_params=row["query_params"],
        query_hash=row["query_hash"],
        priority=row["priority"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        imported_at=row["imported_at"],
        import_batch_id=row["import_batch_id"],
        import_batch_sequence=row["import_batch_sequence"],
        status=JobStatus(row["status"]),
        attempts=row["attempts"],
        assigned_worker=row["assigned_worker"],
        lease_expires_at=row["lease_expires_at"],
        next_attempt_at=row["next_attempt_at"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        error_message=row["error_message"],
    )


def result_row(result: QueryResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "request_id": result.job_id,
        "original_request_id": result.request_id,
        "request_batch_id": result.request_batch_id,
        "request_batch_sequence": result.request_batch_sequence,
        "query_hash": result.query_hash,
        "status": result.status,
        "backend": result.backend,
        "index_name": result.index,
        "executed_at": result.executed_at,
        "result_data": _optional_dict(result.result_data),
        "result_count": result.result_count,
        "execution_time_ms": result.execution_time_ms,
        "elasticsearch_took_ms": result.took_ms,
        "cache_hit": result.cache_hit,
        "error_message": result.error,
        "metadata": _dict(result.metadata),
        "exported_at": result.exported_at,
        "export_batch_id": result.export_batch_id,
    }


def result_from(row: Row) -> QueryResult:
    return QueryResult(
        id=row["id"],
        job_id=row["request_id"],
        request_id=row["original_request_id"],
        request_batch_id=row["request_batch_id"],
        request_batch_sequence=row["request_batch_sequence"],
        query_hash=row["query_hash"],
        status=row["status"],
        backend=row["backend"],
        index=row["index_name"],
        executed_at=row["executed_at"],
        result_data=row["result_data"],
        result_count=row["result_count"],
        execution_time_ms=row["execution_time_ms"],
        took_ms=row["elasticsearch_took_ms"],
        cache_hit=row["cache_hit"],
        error=row["error_message"],
        metadata=_dict(row["metadata"]),
        exported_at=row["exported_at"],
        export_batch_id=row["export_batch_id"],
    )


def cached_result_row(entry: CachedResult) -> dict[str, Any]:
    return {
        "key": entry.key,
        "index_name": entry.index,
        "result_data": _dict(entry.result_data),
        "result_count": entry.result_count,
        "took_ms": entry.took_ms,
        "has_aggregations": entry.has_aggregations,
        "stored_at": entry.stored_at,
        "expires_at": entry.expires_at,
        "hit_count": entry.hit_count,
        "last_hit_at": entry.last_hit_at,
    }


def cached_result_from(row: Row) -> CachedResult:
    return CachedResult(
        key=row["key"],
        index=row["index_name"],
        result_data=row["result_data"],
        result_count=row["result_count"],
        took_ms=row["took_ms"],
        stored_at=row["stored_at"],
        expires_at=row["expires_at"],
        has_aggregations=row["has_aggregations"],
        hit_count=row["hit_count"],
        last_hit_at=row["last_hit_at"],
    )
