"""Persistence of the transfer bookkeeping both networks keep: export and import batches and
the two ends of each channel."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from airgap.domain.model.batching import (
    Channel,
    ExportBatch,
    ImportBatch,
    InboundChannel,
    OutboundChannel,
)


class ExportBatchRepository(Protocol):
    def add(self, batch: ExportBatch) -> None: ...

    def save(self, batch: ExportBatch) -> None: ...

    def get(self, batch_id: uuid.UUID) -> ExportBatch | None: ...

    def by_sequence(self, channel: Channel, sequence: int) -> ExportBatch | None: ...

    def awaiting_ack(self, channel: Channel) -> Sequence[ExportBatch]:
        """Written batches not yet acknowledged, by sequence."""
        ...

    def unwritten(self, channel: Channel) -> Sequence[ExportBatch]:
        """Batches committed but whose files were never written (a crash), by sequence."""
        ...


class ImportBatchRepository(Protocol):
    def add(self, batch: ImportBatch) -> None: ...

    def save(self, batch: ImportBatch) -> None: ...

    def get(self, import_id: uuid.UUID) -> ImportBatch | None: ...

    def was_imported(self, batch_id: uuid.UUID) -> bool:
        """True if a batch with this id was imported successfully before."""
        ...

    def unreported(self) -> Sequence[ImportBatch]:
        """Imports whose report has not yet gone back to the sender, oldest first."""
        ...


class ChannelRepository(Protocol):
    def outbound(self, channel: Channel) -> OutboundChannel:
        """The sending end, created on first use. Holding it (until commit) serialises
        sequence allocation between concurrent exporters."""
        ...

    def inbound(self, channel: Channel) -> InboundChannel: ...

    def save_outbound(self, state: OutboundChannel) -> None: ...

    def save_inbound(self, state: InboundChannel) -> None: ...


class TransferUnitOfWork(Protocol):
    """The part of either network's unit of work that transfer bookkeeping needs."""

    @property
    def export_batches(self) -> ExportBatchRepository: ...

    @property
    def import_batches(self) -> ImportBatchRepository: ...

    @property
    def channels(self) -> ChannelRepository: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
