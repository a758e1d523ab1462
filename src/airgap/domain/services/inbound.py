"""Importing batches, the same way on both networks.

Each batch is imported in one unit of work: acks, import reports and records all land, or
none do. A batch that fails verification (in the inbox's reader or here) is rolled back,
quarantined with its reason, and recorded as a ``failed`` import; a batch id imported before
is recorded as ``duplicate`` and archived. The inbox is only touched after the database has
committed, so a crash in between leaves the batch in the inbox to be seen (as a duplicate)
next time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from airgap.domain.model.batching import (
    SENDERS,
    BatchType,
    Channel,
    ImportBatch,
    ImportStatus,
    Manifest,
    Network,
    Rejection,
)
from airgap.domain.model.errors import BatchRejected
from airgap.domain.model.records import ALLOWED_RECORDS, ImportReportRecord, TransferRecord
from airgap.domain.services.outbound import TransferStore
from airgap.ports.clock import Clock
from airgap.ports.ids import IdGenerator
from airgap.ports.transfer import BatchInbox, InboundBatch


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


ApplyResult = Outcome | Rejection
Applier = Callable[
    [TransferStore, Manifest, Sequence[TransferRecord], datetime], Sequence[ApplyResult]
]
"""Applies a chunk of domain records inside the batch's unit of work, one result per
record in order. Chunks let adapters use one round trip for many records while the payload
is still read as a stream."""

CHUNK = 500


def record_id(record: TransferRecord) -> str:
    """The id a rejection names."""
    for field in ("request_id", "user_id", "batch_id"):
        value = getattr(record, field, None)
        if value is not None:
            return str(value)
    return "?"


@attrs.frozen
class Importer:
    """Imports the batches waiting in one network's inbox."""

    network: Network
    uow: Callable[[], TransferStore]
    inbox: BatchInbox
    clock: Clock
    ids: IdGenerator

    def import_all(self, apply: Applier) -> list[ImportBatch]:
        """Import every complete batch waiting; one bad batch never stops the others."""
        return [self.import_one(batch, apply) for batch in self.inbox.pending()]

    def import_one(self, inbound: InboundBatch, apply: Applier) -> ImportBatch:
        manifest: Manifest | None = None
        try:
            manifest = inbound.manifest()
            self._check_route(manifest)
            result = self._import(inbound, manifest, apply)
        except BatchRejected as rejected:
            return self._reject(inbound, manifest, rejected.reason)
        inbound.archive()
        return result

    def _check_route(self, manifest: Manifest) -> None:
        if manifest.destination_network is not self.network:
            raise BatchRejected(
                f"wrong destination: batch is for the {manifest.destination_network} network"
            )
        if manifest.source_network is not self.network.other:
            raise BatchRejected(f"wrong source: {manifest.source_network}")
        if manifest.source_network not in SENDERS[manifest.batch_type]:
            raise BatchRejected(
                f"the {manifest.source_network} network does not send {manifest.batch_type}"
            )

    def _import(self, inbound: InboundBatch, manifest: Manifest, apply: Applier) -> ImportBatch:
        with self.uow() as uow:
            now = self.clock.now()
            self._apply_acks(uow, manifest, now)
            if uow.import_batches.was_imported(manifest.batch_id):
                batch = self._record(manifest, inbound.name, ImportStatus.DUPLICATE, now)
                batch.reported = True  # the first import already reported
                uow.import_batches.add(batch)
                uow.commit()
                return batch
            batch = self._record(manifest, inbound.name, ImportStatus.COMPLETED, now)
            rejections: list[Rejection] = []
            allowed = ALLOWED_RECORDS[manifest.batch_type]
            count = 0
            chunk: list[TransferRecord] = []

            def flush() -> None:
                for outcome in apply(uow, manifest, chunk, now):
                    if isinstance(outcome, Rejection):
                        rejections.append(outcome)
                    elif outcome is Outcome.ACCEPTED:
                        batch.accepted += 1
                    else:
                        batch.duplicates += 1
                chunk.clear()

            for count, record in enumerate(inbound.records(), start=1):
                if not isinstance(record, allowed):
                    raise BatchRejected(
                        f"record {count}: a {manifest.batch_type} batch may not carry "
                        f"{type(record).__name__}"
                    )
                if isinstance(record, ImportReportRecord):
                    self._apply_report(uow, record)
                    continue
                chunk.append(record)
                if len(chunk) >= CHUNK:
                    flush()
            flush()
            if count != manifest.record_count:
                raise BatchRejected(
                    f"record count mismatch: manifest says {manifest.record_count}, "
                    f"payload has {count}"
                )
            batch.record_count = count
            batch.rejections = tuple(rejections)
            inbound_channel = uow.channels.inbound(manifest.channel)
            inbound_channel.record(
                manifest.sequence, now, wants_ack=manifest.batch_type is not BatchType.SYSTEM
            )
            uow.channels.save_inbound(inbound_channel)
            uow.import_batches.add(batch)
            uow.commit()
            return batch

    def _record(
        self, manifest: Manifest, name: str, status: ImportStatus, now: datetime
    ) -> ImportBatch:
        return ImportBatch(
            id=self.ids.new_id(),
            batch_id=manifest.batch_id,
            batch_type=manifest.batch_type,
            source_network=manifest.source_network,
            sequence=manifest.sequence,
            filename=name,
            status=status,
            received_at=now,
            record_count=manifest.record_count,
            payload_sha256=manifest.payload_sha256,
            # Reports about acks-only batches would be answered by more reports, forever.
            reported=manifest.batch_type is BatchType.SYSTEM,
        )

    def _apply_acks(self, uow: TransferStore, manifest: Manifest, now: datetime) -> None:
        ours = Channel.from_(self.network)
        for sent in uow.export_batches.awaiting_ack(ours):
            if manifest.acks.contains(sent.sequence) and sent.acknowledge(now):
                uow.export_batches.save(sent)

    def _apply_report(self, uow: TransferStore, report: ImportReportRecord) -> None:
        sent = uow.export_batches.get(report.batch_id)
        if sent is not None:
            sent.record_report(report.accepted, report.duplicates, report.rejections)
            uow.export_batches.save(sent)

    def _reject(self, inbound: InboundBatch, manifest: Manifest | None, reason: str) -> ImportBatch:
        now = self.clock.now()
        batch = ImportBatch(
            id=self.ids.new_id(),
            batch_id=manifest.batch_id if manifest else None,
            batch_type=manifest.batch_type if manifest else None,
            source_network=manifest.source_network if manifest else None,
            sequence=manifest.sequence if manifest else None,
            filename=inbound.name,
            status=ImportStatus.FAILED,
            received_at=now,
            record_count=manifest.record_count if manifest else 0,
            payload_sha256=manifest.payload_sha256 if manifest else None,
            error_message=reason,
            # A failure is reported back only when the sender can tell which batch it was.
            reported=manifest is None,
        )
        with self.uow() as uow:
            uow.import_batches.add(batch)
            uow.commit()
        inbound.quarantine(reason)
        return batch
