"""An in-memory crossing: outbox, inbox and carrier that hold batch files as bytes.

The bytes are the real transfer format (the shared serialization module writes them), so
everything that passes through here would pass through the filesystem too; only the disk,
signatures and encryption are left out. The carrier exposes what is in flight so a test
harness can drop, duplicate, reorder or corrupt batches on the way.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence

import attrs
import orjson

from airgap.adapters.serialization import (
    check_manifest_values,
    decode_record,
    encode_record,
    manifest_from_json,
    manifest_to_json,
)
from airgap.domain.model.batching import BatchHeader, BatchLimits, Manifest, Network
from airgap.domain.model.errors import BatchRejected
from airgap.domain.model.records import TransferRecord
from airgap.ports.transfer import CarryReport


@attrs.define
class BatchFile:
    """A manifest and its payload, as bytes, under the batch's file stem."""

    name: str
    manifest: bytes
    payload: bytes


class MemoryOutbox:
    """Writes batches as bytes; what it wrote waits for the carrier."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waiting: list[BatchFile] = []
        self._written: dict[str, Manifest] = {}

    def write(self, header: BatchHeader, records: Sequence[TransferRecord]) -> Manifest:
        with self._lock:
            existing = self._written.get(str(header.batch_id))
            if existing is not None:
                return existing
            payload = b"".join(encode_record(r) for r in records)
            manifest = Manifest(
                batch_id=header.batch_id,
                batch_type=header.batch_type,
                source_network=header.channel.source,
                destination_network=header.channel.destination,
                sequence=header.sequence,
                created_at=header.created_at,
                record_count=len(records),
                payload_size=len(payload),
                payload_sha256=hashlib.sha256(payload).hexdigest(),
                acks=header.acks,
            )
            self._written[str(header.batch_id)] = manifest
            self.waiting.append(
                BatchFile(manifest.stem, orjson.dumps(manifest_to_json(manifest)), payload)
            )
            return manifest

    def take(self) -> list[BatchFile]:
        """Everything written and not yet carried (the carrier's pick-up)."""
        with self._lock:
            files, self.waiting = self.waiting, []
            return files


class MemoryInboundBatch:
    def __init__(self, inbox: MemoryInbox, file: BatchFile) -> None:
        self._inbox = inbox
        self._file = file
        self._manifest: Manifest | None = None

    @property
    def name(self) -> str:
        return self._file.name

    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = self._inbox.verify(self._file)
        return self._manifest

    def records(self) -> Iterator[TransferRecord]:
        manifest = self.manifest()
        lines = self._file.payload.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for number, line in enumerate(lines, start=1):
            if len(line) > self._inbox.limits.max_record_bytes:
                raise BatchRejected(f"record {number} is larger than the record size limit")
            try:
                yield decode_record(line, max_depth=self._inbox.limits.max_json_depth)
            except ValueError as error:
                raise BatchRejected(f"malformed record {number}: {error}") from None
        if len(lines) != manifest.record_count:
            raise BatchRejected(
                f"record count mismatch: manifest says {manifest.record_count}, "
                f"payload has {len(lines)}"
            )

    def archive(self) -> None:
        self._inbox.settle(self._file, self._inbox.archived)

    def quarantine(self, reason: str) -> None:
        self._inbox.settle(self._file, self._inbox.quarantined, reason)


class MemoryInbox:
    """Holds delivered batches until they are imported, archived or quarantined."""

    def __init__(self, network: Network, limits: BatchLimits | None = None) -> None:
        self.network = network
        self.limits = limits or BatchLimits()
        self._lock = threading.Lock()
        self.waiting: list[BatchFile] = []
        self.archived: list[BatchFile] = []
        self.quarantined: list[BatchFile] = []
        self.reasons: dict[str, str] = {}

    def deliver(self, file: BatchFile) -> None:
        with self._lock:
            self.waiting.append(attrs.evolve(file))

    def pending(self) -> Sequence[MemoryInboundBatch]:
        with self._lock:
            return [MemoryInboundBatch(self, f) for f in self.waiting]

    def settle(self, file: BatchFile, into: list[BatchFile], reason: str | None = None) -> None:
        with self._lock:
            for i, candidate in enumerate(self.waiting):
                if candidate is file:
                    del self.waiting[i]
                    break
            into.append(file)
            if reason is not None:
                self.reasons[file.name] = reason

    def verify(self, file: BatchFile) -> Manifest:
        """Manifest schema, size limit, destination, checksum — in the format's order."""
        try:
            manifest = manifest_from_json(orjson.loads(file.manifest))
            check_manifest_values(manifest)
        except (orjson.JSONDecodeError, ValueError) as error:
            raise BatchRejected(f"unreadable manifest: {error}") from None
        if manifest.payload_size > self.limits.max_payload_bytes:
            raise BatchRejected("payload larger than the size limit")
        if manifest.record_count > self.limits.max_records:
            raise BatchRejected("more records than the batch limit")
        if manifest.destination_network is not self.network:
            raise BatchRejected(
                f"wrong destination: batch is for the {manifest.destination_network} network"
            )
        if len(file.payload) != manifest.payload_size:
            raise BatchRejected(
                f"payload size mismatch: manifest says {manifest.payload_size}, "
                f"file has {len(file.payload)} (truncated?)"
            )
        if hashlib.sha256(file.payload).hexdigest() != manifest.payload_sha256:
            raise BatchRejected("payload checksum mismatch")
        return manifest


class MemoryCarrier:
    """Moves every waiting batch from an outbox to an inbox, each exactly once."""

    def __init__(self, outbox: MemoryOutbox, inbox: MemoryInbox) -> None:
        self.outbox = outbox
        self.inbox = inbox

    def carry(self) -> CarryReport:
        files = self.outbox.take()
        sequences: list[int] = []
        records = 0
        for file in files:
            self.inbox.deliver(file)
            manifest = manifest_from_json(orjson.loads(file.manifest))
            sequences.append(manifest.sequence)
            records += manifest.record_count
        return CarryReport(
            batches=len(files),
            records=records,
            bytes=sum(len(f.payload) + len(f.manifest) for f in files),
            sequences=tuple(sequences),
        )
