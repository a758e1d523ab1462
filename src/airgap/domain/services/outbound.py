"""Writing batches, the same way on both networks.

An export happens in three steps so that a crash at any point loses nothing and never
reuses a sequence number:

1. *plan* (one unit of work): choose the contents, take the channel's next sequence number,
   record the batch as ``pending`` and mark its contents as exported; commit.
2. *write*: the outbox writes payload and manifest atomically.
3. *record* (another unit of work): mark the batch written with its manifest's checksum.

If the process dies between 1 and 3, the next export run finds the ``pending`` batch and
writes it again from the database, with the same id and sequence (the outbox returns the
existing manifest if the first write had finished).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

import attrs

from airgap.domain.model.batching import (
    BatchHeader,
    BatchType,
    Channel,
    ExportBatch,
    ImportBatch,
    Manifest,
    Network,
    TransferPolicy,
    owes_acks,
)
from airgap.domain.model.records import ImportReportRecord, TransferRecord
from airgap.ports.batch_records import TransferUnitOfWork
from airgap.ports.clock import Clock
from airgap.ports.ids import IdGenerator
from airgap.ports.transfer import BatchOutbox


class TransferStore(TransferUnitOfWork, AbstractContextManager["TransferStore"], Protocol):
    """A unit of work that can be entered and holds the transfer repositories."""


@attrs.frozen
class Planned:
    """What a planner chose for one batch. ``mark`` stamps the chosen items with the batch
    id inside the planning unit of work."""

    batch_type: BatchType
    record_count: int
    mark: Callable[[uuid.UUID, datetime], None]
    user_ids: tuple[uuid.UUID, ...] = ()
    #: The chosen items' records as planning saw (and committed) them, so the first write
    #: need not load them again; a rewrite after a crash renders them from the store.
    records: Callable[[], Sequence[TransferRecord]] | None = None


Planner = Callable[[TransferStore, datetime, int], Planned | None]
"""Chooses contents given the unit of work, the time, and how many records may go."""

Renderer = Callable[[TransferStore, ExportBatch], Sequence[TransferRecord]]
"""Loads the records of a planned batch (used for the first write and for rewrites)."""


def report_record(batch: ImportBatch) -> ImportReportRecord:
    """The import report of ``batch`` as it travels back to the sender."""
    return ImportReportRecord(
        batch_id=batch.batch_id or batch.id,
        sequence=batch.sequence,
        batch_type=batch.batch_type,
        status=batch.status,
        accepted=batch.accepted,
        duplicates=batch.duplicates,
        rejections=batch.rejections,
        error=batch.error_message,
    )


@attrs.frozen
class Exporter:
    """Writes batches on one network's outbound channel."""

    network: Network
    uow: Callable[[], TransferStore]
    outbox: BatchOutbox
    clock: Clock
    ids: IdGenerator
    policy: TransferPolicy
    max_records: int

    @property
    def channel(self) -> Channel:
        return Channel.from_(self.network)

    @property
    def report_room(self) -> int:
        """Import reports ride along in any batch, but never take more than a tenth of it."""
        return max(1, self.max_records // 10)

    @property
    def content_room(self) -> int:
        return self.max_records - self.report_room

    def _records(
        self,
        uow: TransferStore,
        batch: ExportBatch,
        render: Renderer,
        planned: Callable[[], Sequence[TransferRecord]] | None,
    ) -> list[TransferRecord]:
        records: list[TransferRecord] = list(planned() if planned else render(uow, batch))
        for import_id in batch.report_ids:
            found = _find_import(uow, import_id)
            if found is not None:
                records.append(report_record(found))
        return records

    def _write(
        self,
        batch: ExportBatch,
        render: Renderer,
        planned: Callable[[], Sequence[TransferRecord]] | None = None,
    ) -> Manifest:
        with self.uow() as uow:
            records = self._records(uow, batch, render, planned)
            acks = uow.channels.inbound(Channel.from_(self.network.other)).acks()
        header = BatchHeader(
            batch_id=batch.id,
            batch_type=batch.batch_type,
            channel=batch.channel,
            sequence=batch.sequence,
            created_at=batch.created_at,
            acks=acks,
        )
        manifest = self.outbox.write(header, records)
        with self.uow() as uow:
            stored = uow.export_batches.get(batch.id)
            if stored is not None:
                stored.mark_written(manifest)
                uow.export_batches.save(stored)
                uow.commit()
        return manifest

    def flush_unwritten(self, renderers: dict[BatchType, Renderer]) -> list[Manifest]:
        """Write batches planned by a run that died before writing them — those of the
        kinds this caller can render; the others wait for their own exporter."""
        with self.uow() as uow:
            unwritten = list(uow.export_batches.unwritten(self.channel))
        return [
            self._write(b, renderers[b.batch_type]) for b in unwritten if b.batch_type in renderers
        ]

    def export(self, plan: Planner, render: Renderer) -> Manifest | None:
        """Plan, write and record one batch; None when there is nothing to send."""
        with self.uow() as uow:
            now = self.clock.now()
            reports = list(uow.import_batches.unreported())[: self.report_room]
            room = self.max_records - len(reports)
            planned = plan(uow, now, room)
            if planned is None:
                uow.commit()  # keep what planning decided on the way (e.g. expired requests)
                return None
            batch = self._plan(uow, now, planned, reports)
            uow.commit()
        return self._write(batch, render, planned.records)

    def _plan(
        self,
        uow: TransferStore,
        now: datetime,
        planned: Planned,
        reports: Sequence[ImportBatch],
    ) -> ExportBatch:
        outbound = uow.channels.outbound(self.channel)
        inbound = uow.channels.inbound(Channel.from_(self.network.other))
        batch = ExportBatch.planned(
            id=self.ids.new_id(),
            batch_type=planned.batch_type,
            channel=self.channel,
            sequence=outbound.next_sequence(now),
            created_at=now,
            record_count=planned.record_count + len(reports),
            user_ids=planned.user_ids,
            report_ids=tuple(r.id for r in reports),
        )
        planned.mark(batch.id, now)
        for report in reports:
            report.reported = True
            uow.import_batches.save(report)
        outbound.acks_sent = inbound.acks()
        inbound.ack_owed = False
        uow.channels.save_outbound(outbound)
        uow.channels.save_inbound(inbound)
        uow.export_batches.add(batch)
        return batch

    def send_acks_if_owed(self) -> Manifest | None:
        """A ``system`` batch carrying only acks and import reports, when the other side
        has not heard what arrived and nothing else is going out (at most once per
        ``ack_interval``, unless reports are waiting)."""

        def plan(uow: TransferStore, now: datetime, room: int) -> Planned | None:
            outbound = uow.channels.outbound(self.channel)
            inbound = uow.channels.inbound(Channel.from_(self.network.other))
            has_reports = bool(uow.import_batches.unreported())
            if not (has_reports or owes_acks(inbound)):
                return None
            recently = (
                outbound.last_sent_at is not None
                and now - outbound.last_sent_at < self.policy.ack_interval
            )
            if recently and not has_reports:
                return None
            return Planned(BatchType.SYSTEM, 0, lambda _b, _n: None)

        return self.export(plan, _no_records)


def _no_records(_uow: TransferStore, _batch: ExportBatch) -> Sequence[TransferRecord]:
    return ()


def _find_import(uow: TransferStore, import_id: uuid.UUID) -> ImportBatch | None:
    return uow.import_batches.get(import_id)
