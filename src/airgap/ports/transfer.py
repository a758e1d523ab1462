"""The crossing: outboxes that write batches, inboxes that verify and hand them over, and
the carrier that moves them (a person with a USB stick, a one-way link, or a process)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import attrs

from airgap.domain.model.batching import BatchHeader, Manifest
from airgap.domain.model.records import TransferRecord


class BatchOutbox(Protocol):
    """Writes batches atomically: payload first, manifest last as the commit marker."""

    def write(self, header: BatchHeader, records: Sequence[TransferRecord]) -> Manifest:
        """Write the batch and return the full manifest (sizes, checksum, signature,
        encryption filled in). If a manifest for ``header.batch_id`` already exists (a retry
        after a crash between writing and recording), return that one and write nothing."""
        ...


class InboundBatch(Protocol):
    """A complete batch found in an inbox (its manifest is present)."""

    @property
    def name(self) -> str:
        """The file stem, for reports and logs."""
        ...

    def manifest(self) -> Manifest:
        """The verified manifest: schema, size limits, destination, signature (when
        required), payload checksum. Raises BatchRejected with a one-line reason."""
        ...

    def records(self) -> Iterator[TransferRecord]:
        """Decrypt and parse the payload as a stream. Raises BatchRejected (e.g.
        ``malformed record 3: ...``) for the first bad record; the caller rolls back."""
        ...

    def archive(self) -> None:
        """Move the pair to ``archive/`` (done with it)."""
        ...

    def quarantine(self, reason: str) -> None:
        """Move the pair to ``quarantine/`` with a ``.reason.txt``."""
        ...


class BatchInbox(Protocol):
    def pending(self) -> Sequence[InboundBatch]:
        """Complete batches waiting, oldest first. Payloads without a manifest and files
        still being written are not listed."""
        ...


@attrs.frozen
class CarryReport:
    batches: int
    records: int
    bytes: int
    sequences: tuple[int, ...]


class Carrier(Protocol):
    """Moves complete, verified batches from one network's outbox to the other's inbox,
    each at most once."""

    def carry(self) -> CarryReport: ...
