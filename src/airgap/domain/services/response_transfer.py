"""The response network's side of the crossing: import request batches as query jobs,
export results (every answer bound to its question), and re-send what the request network
never acknowledged."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from airgap.domain.model.audit import LogLevel, SystemLogEntry
from airgap.domain.model.batching import (
    BatchType,
    Channel,
    ExportBatch,
    ImportBatch,
    Manifest,
    Rejection,
)
from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.records import RequestRecord, ResultRecord, TransferRecord
from airgap.domain.services.context import ResponseSide
from airgap.domain.services.inbound import ApplyResult, Outcome
from airgap.domain.services.outbound import Planned, TransferStore
from airgap.ports.response_store import ResponseNetworkUnitOfWork

EXECUTE_TASK = "queries.execute"


def _apply(
    store: TransferStore, manifest: Manifest, records: Sequence[TransferRecord], now: datetime
) -> list[ApplyResult]:
    uow = cast(ResponseNetworkUnitOfWork, store)
    jobs: list[QueryJob] = []
    for record in records:
        if not isinstance(record, RequestRecord):
            continue
        jobs.append(
            QueryJob(
                id=uuid.uuid5(manifest.batch_id, str(record.request_id)),
                request_id=record.request_id,
                user_id=record.user_id,
                query_type=record.query_type,
                query_params=record.query_params,
                query_hash=record.query_hash,
                priority=record.priority,
                created_at=record.created_at,
                expires_at=record.expires_at,
                imported_at=now,
                import_batch_id=manifest.batch_id,
                import_batch_sequence=manifest.sequence,
            )
        )
    # Requests already present (a re-sent request, or two files carrying it) are skipped;
    # one carried twice within this chunk counts once.
    inserted = uow.jobs.add_all_if_absent(jobs)
    outcomes: list[ApplyResult] = []
    for record in records:
        if not isinstance(record, RequestRecord):
            outcomes.append(Rejection("?", f"unexpected record {type(record).__name__}"))
        elif record.request_id in inserted:
            inserted.discard(record.request_id)
            outcomes.append(Outcome.ACCEPTED)
        else:
            outcomes.append(Outcome.DUPLICATE)
    return outcomes


def import_batches(side: ResponseSide) -> list[ImportBatch]:
    """Import every complete batch in the inbox (requests, acks); queue the new jobs."""
    imported = side.importer().import_all(_apply)
    with side.uow() as uow:
        for batch in imported:
            uow.system_logs.record(
                SystemLogEntry(
                    level=LogLevel.ERROR if batch.error_message else LogLevel.INFO,
                    component="import",
                    message=(
                        f"batch {batch.filename}: {batch.status}"
                        + (f" ({batch.error_message})" if batch.error_message else "")
                    ),
                    created_at=side.clock.now(),
                    details={
                        "batch_id": str(batch.batch_id) if batch.batch_id else None,
                        "sequence": batch.sequence,
                        "accepted": batch.accepted,
                        "duplicates": batch.duplicates,
                        "rejected": batch.rejected,
                    },
                )
            )
        uow.commit()
    if any(b.accepted for b in imported):
        side.tasks.enqueue(EXECUTE_TASK)
    return imported


def result_record(result: QueryResult) -> ResultRecord:
    return ResultRecord(
        request_id=result.request_id,
        request_batch_id=result.request_batch_id,
        request_batch_sequence=result.request_batch_sequence,
        query_hash=result.query_hash,
        status=result.status,
        backend=result.backend,
        index=result.index,
        executed_at=result.executed_at,
        result_data=result.result_data,
        result_count=result.result_count,
        execution_time_ms=result.execution_time_ms,
        took_ms=result.took_ms,
        cache_hit=result.cache_hit,
        error=result.error,
        metadata=result.metadata,
    )


def _render(store: TransferStore, batch: ExportBatch) -> Sequence[TransferRecord]:
    uow = cast(ResponseNetworkUnitOfWork, store)
    return _records_of(uow.results.in_export_batch(batch.id))


def _records_of(results: Sequence[QueryResult]) -> list[TransferRecord]:
    return [result_record(r) for r in sorted(results, key=lambda r: (r.executed_at, r.id))]


def _none(_store: TransferStore, _batch: ExportBatch) -> Sequence[TransferRecord]:
    return ()


def export_results(side: ResponseSide, *, max_batches: int = 100) -> list[Manifest]:
    """Pack finished results (oldest first) into ``responses`` batches; send acks on their
    own if owed and nothing else is going out."""
    exporter = side.exporter()
    manifests = exporter.flush_unwritten({BatchType.RESPONSES: _render, BatchType.SYSTEM: _none})

    def plan(store: TransferStore, _now: datetime, room: int) -> Planned | None:
        uow = cast(ResponseNetworkUnitOfWork, store)
        chosen = list(uow.results.unexported(room))
        if not chosen:
            return None

        def mark(batch_id: uuid.UUID, at: datetime) -> None:
            for result in chosen:
                result.mark_exported(batch_id, at)
            uow.results.save_all(chosen)

        return Planned(BatchType.RESPONSES, len(chosen), mark, records=lambda: _records_of(chosen))

    for _ in range(max_batches):
        manifest = exporter.export(plan, _render)
        if manifest is None:
            break
        manifests.append(manifest)
    ack_only = exporter.send_acks_if_owed()
    if ack_only is not None:
        manifests.append(ack_only)
    return manifests


def resend_unacknowledged(side: ResponseSide) -> int:
    """Results whose batch stayed unacknowledged past the timeout go out again in a new
    batch; the request network drops the ones it already has. Returns how many."""
    with side.uow() as uow:
        now = side.clock.now()
        count = 0
        for batch in uow.export_batches.awaiting_ack(Channel.from_(side.network)):
            if batch.batch_type is not BatchType.RESPONSES:
                continue
            if not batch.overdue(now, side.transfer.ack_timeout):
                continue
            results = list(uow.results.in_export_batch(batch.id))
            for result in results:
                result.unmark_exported()
            uow.results.save_all(results)
            batch.mark_resent(now)
            uow.export_batches.save(batch)
            count += len(results)
        uow.commit()
    return count
