"""The request network's side of the crossing: export pending requests, import results and
user snapshots, and re-send what the response network never acknowledged."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import cast

import attrs

from airgap.domain.model.audit import AuditEntry
from airgap.domain.model.batching import (
    BatchType,
    Channel,
    ExportBatch,
    ImportBatch,
    Manifest,
    Rejection,
    batch_order_key,
    select_for_batch,
)
from airgap.domain.model.records import RequestRecord, ResultRecord, TransferRecord, UserRecord
from airgap.domain.model.requests import RequestStatus, Response, SearchRequest
from airgap.domain.model.users import ProfileType, Role, User
from airgap.domain.services.context import RequestSide
from airgap.domain.services.inbound import ApplyResult, Outcome
from airgap.domain.services.outbound import Planned, TransferStore
from airgap.domain.services.users import rate_limits_of
from airgap.ports.request_store import RequestNetworkUnitOfWork
from airgap.ports.tokens import TokenIssuer


def request_record(request: SearchRequest) -> RequestRecord:
    return RequestRecord(
        request_id=request.id,
        user_id=request.user_id,
        query_type=request.query_type,
        query_params=request.query_params,
        query_hash=request.query_hash,
        priority=request.priority,
        created_at=request.created_at,
        expires_at=request.expires_at,
    )


def _record_size(request: SearchRequest) -> int:
    # Close enough to the wire size to enforce the caps; the writer checks exactly.
    return len(json.dumps(request.query_params, ensure_ascii=False)) + 400


def _render(store: TransferStore, batch: ExportBatch) -> Sequence[TransferRecord]:
    uow = cast(RequestNetworkUnitOfWork, store)
    return _records_of(uow.requests.in_export_batch(batch.id))


def _records_of(requests: Sequence[SearchRequest]) -> list[TransferRecord]:
    ordered = sorted(requests, key=lambda r: batch_order_key(r.priority, r.created_at, r.id))
    return [request_record(r) for r in ordered]


@attrs.frozen
class ExportReport:
    manifests: tuple[Manifest, ...]
    requests: int  # requests that left in this run (rewrites of crashed runs not counted)
    expired: int


def export_requests(side: RequestSide, *, max_batches: int = 100) -> ExportReport:
    """Pack pending requests (priority DESC, oldest first) into batches of at most
    ``limits.max_records``; fail expired ones; send acks on their own if owed."""
    exporter = side.exporter()
    manifests = exporter.flush_unwritten({BatchType.REQUESTS: _render, BatchType.SYSTEM: _none})
    expired = 0
    exported = 0

    def plan(store: TransferStore, now: datetime, room: int) -> Planned | None:
        nonlocal expired
        uow = cast(RequestNetworkUnitOfWork, store)
        candidates = list(uow.requests.pending_for_export(room))
        live = []
        for request in candidates:
            if request.is_expired(now):
                request.fail("expired", now)
                uow.requests.save(request)
                expired += 1
            else:
                live.append(request)
        selection = select_for_batch(
            live,
            order_key=lambda r: batch_order_key(r.priority, r.created_at, r.id),
            size_of=_record_size,
            limits=attrs.evolve(side.limits, max_records=room),
        )
        for request in selection.oversized:
            request.fail("request too large to cross", now)
            uow.requests.save(request)
        if not selection.chosen:
            return None

        def mark(batch_id: uuid.UUID, at: datetime) -> None:
            nonlocal exported
            exported += len(selection.chosen)
            for request in selection.chosen:
                request.mark_exported(batch_id, at)
            uow.requests.save_all(selection.chosen)

        chosen = selection.chosen
        return Planned(BatchType.REQUESTS, len(chosen), mark, records=lambda: _records_of(chosen))

    for _ in range(max_batches):
        expired_before = expired
        manifest = exporter.export(plan, _render)
        if manifest is None:
            if expired == expired_before:
                break
            continue  # a page of expired requests: look at the next page
        manifests.append(manifest)
        _audit_export(side, manifest)
    ack_only = exporter.send_acks_if_owed()
    if ack_only is not None:
        manifests.append(ack_only)
    return ExportReport(tuple(manifests), exported, expired)


def _none(_store: TransferStore, _batch: ExportBatch) -> Sequence[TransferRecord]:
    return ()


def _audit_export(side: RequestSide, manifest: Manifest) -> None:
    with side.uow() as uow:
        uow.audit.record(
            AuditEntry(
                action="batch.export",
                created_at=side.clock.now(),
                resource_type="export_batch",
                resource_id=str(manifest.batch_id),
                details={"sequence": manifest.sequence, "records": manifest.record_count},
            )
        )
        uow.commit()


def resend_unacknowledged(side: RequestSide) -> int:
    """The re-send rule: requests whose batch stayed unacknowledged past the timeout go back
    to ``pending`` and leave again in a new batch. Returns how many."""
    with side.uow() as uow:
        now = side.clock.now()
        count = 0
        for batch in uow.export_batches.awaiting_ack(Channel.from_(side.network)):
            if batch.batch_type is not BatchType.REQUESTS:
                continue
            if not batch.overdue(now, side.transfer.ack_timeout):
                continue
            waiting = [
                r
                for r in uow.requests.in_export_batch(batch.id)
                if r.status is RequestStatus.EXPORTED
            ]
            for request in waiting:
                request.return_to_pending()
            uow.requests.save_all(waiting)
            batch.mark_resent(now)
            uow.export_batches.save(batch)
            count += len(waiting)
        uow.commit()
    return count


def _apply(
    store: TransferStore,
    manifest: Manifest,
    records: Sequence[TransferRecord],
    now: datetime,
    sessions: TokenIssuer | None = None,
) -> list[ApplyResult]:
    uow = cast(RequestNetworkUnitOfWork, store)
    wanted = [r.request_id for r in records if isinstance(r, ResultRecord)]
    requests = uow.requests.get_many(wanted)
    answered = uow.responses.answered(wanted)
    changed: dict[uuid.UUID, SearchRequest] = {}
    responses: list[Response] = []
    outcomes: list[ApplyResult] = []
    for record in records:
        if isinstance(record, ResultRecord):
            outcome = _apply_result(record, requests, answered, now)
            if outcome is Outcome.ACCEPTED:
                changed[record.request_id] = requests[record.request_id]
                answered.add(record.request_id)
                responses.append(_response(manifest, record, now))
            outcomes.append(outcome)
        elif isinstance(record, UserRecord):
            outcomes.append(apply_user_record(uow, record, now, sessions))
        else:
            outcomes.append(Rejection("?", f"unexpected record {type(record).__name__}"))
    uow.requests.save_all(list(changed.values()))
    uow.responses.add_all(responses)
    return outcomes


def _apply_result(
    record: ResultRecord,
    requests: Mapping[uuid.UUID, SearchRequest],
    answered: set[uuid.UUID],
    now: datetime,
) -> ApplyResult:
    """Accept an answer only for a request this network exported, whose query hash
    matches (SPEC §4, answers are bound to questions)."""
    request_id = str(record.request_id)
    request = requests.get(record.request_id)
    if request is None:
        return Rejection(request_id, "unknown request")
    if request.id in answered:
        return Outcome.DUPLICATE
    if not request.was_exported:
        return Rejection(request_id, "request was never exported")
    if record.query_hash != request.query_hash:
        return Rejection(request_id, "query hash does not match the request")
    if request.status.is_final:
        return Rejection(request_id, f"request is already {request.status}")
    if record.status == "completed":
        request.complete(now)
    else:
        request.fail(record.error or "failed on the response network", now)
    return Outcome.ACCEPTED


def _response(manifest: Manifest, record: ResultRecord, now: datetime) -> Response:
    return Response(
        request_id=record.request_id,
        status=record.status,
        result_data=record.result_data,
        result_count=record.result_count,
        execution_time_ms=record.execution_time_ms,
        received_at=now,
        cache_hit=record.cache_hit,
        import_batch_id=manifest.batch_id,
        error=record.error,
        metadata={
            "backend": record.backend,
            "index": record.index,
            "executed_at": record.executed_at.isoformat(),
            "took_ms": record.took_ms,
            **dict(record.metadata),
        },
    )


def apply_user_record(
    uow: RequestNetworkUnitOfWork,
    record: UserRecord,
    now: datetime,
    sessions: TokenIssuer | None = None,
) -> ApplyResult:
    """Apply one account from a users snapshot to the replica, if it is newer. A new
    password ends, through ``sessions``, the sessions opened with the old one (revoked
    before the commit: should it fail, the worst is signing in again)."""
    try:
        profile = ProfileType(record.profile_type)
        role = Role(record.role)
    except ValueError:
        return Rejection(str(record.user_id), "unknown profile or role")
    current = uow.users.get(record.user_id)
    if current is not None and current.version >= record.version:
        return Outcome.DUPLICATE
    limits = rate_limits_of(record)
    if current is None:
        uow.users.add(
            User(
                id=record.user_id,
                username=record.username,
                email=record.email,
                hashed_password=record.hashed_password,
                profile_type=profile,
                rate_limits=limits,
                priority=record.priority,
                role=role,
                full_name=record.full_name,
                is_active=record.is_active,
                created_at=now,
                updated_at=now,
                version=record.version,
            )
        )
        return Outcome.ACCEPTED
    if sessions is not None and current.hashed_password != record.hashed_password:
        sessions.revoke_all(record.user_id, now)
    current.username = record.username
    current.email = record.email
    current.hashed_password = record.hashed_password
    current.profile_type = profile
    current.rate_limits = limits
    current.priority = record.priority
    current.role = role
    current.full_name = record.full_name
    current.is_active = record.is_active
    current.version = record.version
    current.updated_at = now
    uow.users.save(current)
    return Outcome.ACCEPTED


def import_batches(side: RequestSide) -> list[ImportBatch]:
    """Import every complete batch in the inbox (results, user snapshots, acks)."""

    def apply(
        store: TransferStore, manifest: Manifest, records: Sequence[TransferRecord], now: datetime
    ) -> list[ApplyResult]:
        return _apply(store, manifest, records, now, side.sessions)

    imported = side.importer().import_all(apply)
    with side.uow() as uow:
        for batch in imported:
            uow.audit.record(
                AuditEntry(
                    action="batch.import",
                    created_at=side.clock.now(),
                    resource_type="import_batch",
                    resource_id=str(batch.batch_id or batch.id),
                    details={
                        "status": batch.status.value,
                        "accepted": batch.accepted,
                        "duplicates": batch.duplicates,
                        "rejected": batch.rejected,
                        "error": batch.error_message,
                    },
                )
            )
        uow.commit()
    return imported
