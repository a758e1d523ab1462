"""Batches: what crosses the gap, in what order, and how each side learns what arrived.

A channel is one direction (request → response, or response → request). Every batch a
network sends on a channel takes the next sequence number (1, 2, 3, … with no gaps), and
carries ``acks``: the sequence numbers it has imported from the other side, as ranges, and
the ones it is missing. A sender re-sends the contents of batches that stay unacknowledged
past a timeout; the receiver drops what it already has. Together with idempotent import this
makes delivery exactly-once in effect whatever the carrier drops, duplicates or reorders.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import attrs

from airgap.domain.model.errors import IllegalTransition

FORMAT_VERSION = 1


class Network(enum.StrEnum):
    REQUEST = "request"
    RESPONSE = "response"

    @property
    def other(self) -> Network:
        return Network.RESPONSE if self is Network.REQUEST else Network.REQUEST


class BatchType(enum.StrEnum):
    REQUESTS = "requests"
    RESPONSES = "responses"
    USERS = "users"
    SYSTEM = "system"


#: Which network may send which kind of batch.
SENDERS: dict[BatchType, frozenset[Network]] = {
    BatchType.REQUESTS: frozenset({Network.REQUEST}),
    BatchType.RESPONSES: frozenset({Network.RESPONSE}),
    BatchType.USERS: frozenset({Network.RESPONSE}),
    BatchType.SYSTEM: frozenset({Network.REQUEST, Network.RESPONSE}),
}


@attrs.frozen
class Channel:
    """One direction across the gap."""

    source: Network
    destination: Network

    @classmethod
    def from_(cls, source: Network) -> Channel:
        return cls(source, source.other)

    @property
    def name(self) -> str:
        return f"{self.source.value}->{self.destination.value}"


@attrs.frozen
class TransferPolicy:
    """When to re-send and when to send acks on their own (SPEC §4)."""

    ack_timeout: timedelta = timedelta(minutes=30)
    ack_interval: timedelta = timedelta(minutes=5)


@attrs.frozen
class BatchLimits:
    """Configurable caps (SPEC §4)."""

    max_records: int = attrs.field(default=500, validator=attrs.validators.ge(1))
    max_payload_bytes: int = attrs.field(default=64 * 1024 * 1024, validator=attrs.validators.ge(1))
    max_record_bytes: int = attrs.field(default=1024 * 1024, validator=attrs.validators.ge(1))
    max_json_depth: int = attrs.field(default=32, validator=attrs.validators.ge(1))

    def __attrs_post_init__(self) -> None:
        # A record allowed by the record cap but not by the payload cap would never fit
        # any batch and block its channel.
        if self.max_record_bytes > self.max_payload_bytes:
            raise ValueError("max_record_bytes cannot exceed max_payload_bytes")


# --- sequence bookkeeping -------------------------------------------------------------------


def _ranges(numbers: Iterable[int]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return tuple(out)


@attrs.frozen
class Acks:
    """What a receiver has imported from the other side, as sent in a manifest."""

    received: tuple[tuple[int, int], ...] = ()
    missing: tuple[int, ...] = ()

    def contains(self, sequence: int) -> bool:
        return any(lo <= sequence <= hi for lo, hi in self.received)

    def sequences(self) -> Iterator[int]:
        for lo, hi in self.received:
            yield from range(lo, hi + 1)


@attrs.define
class ReceivedSequences:
    """The set of sequence numbers received on a channel, kept as sorted disjoint ranges."""

    ranges: list[tuple[int, int]] = attrs.field(factory=list)

    def add(self, sequence: int) -> bool:
        """Record ``sequence``; False if it was already there."""
        if sequence < 1:
            raise ValueError("sequence numbers start at 1")
        ranges = self.ranges
        # Find the first range whose upper end reaches sequence - 1 (a neighbour or holder).
        i = 0
        while i < len(ranges) and ranges[i][1] < sequence - 1:
            i += 1
        if i < len(ranges) and ranges[i][0] <= sequence <= ranges[i][1]:
            return False
        lo, hi = sequence, sequence
        if i < len(ranges) and ranges[i][1] == sequence - 1:
            lo = ranges[i][0]
            del ranges[i]
        if i < len(ranges) and ranges[i][0] == sequence + 1:
            hi = ranges[i][1]
            del ranges[i]
        ranges.insert(i, (lo, hi))
        return True

    def contains(self, sequence: int) -> bool:
        return any(lo <= sequence <= hi for lo, hi in self.ranges)

    @property
    def highest(self) -> int:
        return self.ranges[-1][1] if self.ranges else 0

    def missing(self) -> tuple[int, ...]:
        """Sequence numbers below the highest received that never arrived."""
        gaps: list[int] = []
        expected = 1
        for lo, hi in self.ranges:
            gaps.extend(range(expected, lo))
            expected = hi + 1
        return tuple(gaps)

    def acks(self) -> Acks:
        return Acks(received=tuple(self.ranges), missing=self.missing())


@attrs.define(slots=False, eq=False)
class OutboundChannel:
    """The sending end of a channel: hands out sequence numbers and remembers what acks it
    last told the other side, so it knows when it owes them an acks-only batch."""

    channel: Channel
    last_sequence: int = 0
    acks_sent: Acks | None = None
    last_sent_at: datetime | None = None
    # Response network only: the highest user version already sent in a users snapshot.
    users_version_sent: int = 0

    def next_sequence(self, now: datetime) -> int:
        self.last_sequence += 1
        self.last_sent_at = now
        return self.last_sequence


@attrs.define(slots=False, eq=False)
class InboundChannel:
    """The receiving end of a channel: which sequence numbers arrived, and whether the
    sender still needs to hear about one (acks-only batches are not themselves
    acknowledged, or two idle networks would ping-pong acks forever)."""

    channel: Channel
    received: ReceivedSequences = attrs.field(factory=ReceivedSequences)
    last_received_at: datetime | None = None
    ack_owed: bool = False

    def record(self, sequence: int, now: datetime, *, wants_ack: bool = True) -> bool:
        """Note that ``sequence`` arrived; False if it had arrived before."""
        self.last_received_at = now
        added = self.received.add(sequence)
        if added and wants_ack:
            self.ack_owed = True
        return added

    def acks(self) -> Acks:
        return self.received.acks()


def owes_acks(inbound: InboundChannel) -> bool:
    """True when the other side has not yet been told of a batch that wants an ack."""
    return inbound.ack_owed


# --- manifest -------------------------------------------------------------------------------


@attrs.frozen
class EncryptionInfo:
    """How the payload is encrypted: in segments of ``segment_size`` plaintext bytes, so a
    reader decrypts as it streams (docs/transfer-format.md gives the layout)."""

    algorithm: str  # "AES-256-GCM"
    key_id: str
    nonce: str  # base64 of the 12-byte base nonce; segment i uses it XOR i
    segment_size: int


@attrs.frozen
class SignatureInfo:
    algorithm: str  # "Ed25519"
    key_id: str
    value: str  # base64 of the signature over the canonical manifest without "signature"


@attrs.frozen
class Manifest:
    """The manifest of a batch (SPEC §4). Written last; its presence commits the batch."""

    batch_id: uuid.UUID
    batch_type: BatchType
    source_network: Network
    destination_network: Network
    sequence: int
    created_at: datetime
    record_count: int
    payload_size: int
    payload_sha256: str
    acks: Acks = Acks()
    encryption: EncryptionInfo | None = None
    signature: SignatureInfo | None = None
    format_version: int = FORMAT_VERSION

    @property
    def channel(self) -> Channel:
        return Channel(self.source_network, self.destination_network)

    @property
    def stem(self) -> str:
        """``{type}_{YYYYMMDD}_{HHMMSS}_{batch_id}``: the name both files share."""
        return f"{self.batch_type.value}_{self.created_at:%Y%m%d_%H%M%S}_{self.batch_id}"

    @property
    def payload_name(self) -> str:
        return f"{self.stem}.jsonl.enc" if self.encryption else f"{self.stem}.jsonl"

    @property
    def manifest_name(self) -> str:
        return f"{self.stem}.manifest.json"


@attrs.frozen
class BatchHeader:
    """What a use case decides about a batch before it is written; the outbox adds sizes,
    checksum, signature and encryption and returns the full :class:`Manifest`."""

    batch_id: uuid.UUID
    batch_type: BatchType
    channel: Channel
    sequence: int
    created_at: datetime
    acks: Acks


# --- selection ------------------------------------------------------------------------------

T = TypeVar("T")


def batch_order_key(priority: int, created_at: datetime, ident: uuid.UUID) -> tuple[Any, ...]:
    """Priority DESC, then oldest first; the id makes the order total."""
    return (-priority, created_at, ident.bytes)


@attrs.frozen
class Selection(Generic[T]):
    """Items chosen for one batch, and items that can never fit any batch."""

    chosen: tuple[T, ...]
    oversized: tuple[T, ...] = ()


def select_for_batch(
    candidates: Sequence[T],
    *,
    order_key: Callable[[T], tuple[Any, ...]],
    size_of: Callable[[T], int],
    limits: BatchLimits,
) -> Selection[T]:
    """Choose items for one batch in priority order, within the record and byte caps.

    Items bigger than ``limits.max_record_bytes`` are set aside (the caller fails them with
    a reason) rather than blocking the channel. Selection stops at the first item that would
    overflow the byte cap, so the order is never broken to squeeze a smaller item in.
    """
    chosen: list[T] = []
    oversized: list[T] = []
    total = 0
    for item in sorted(candidates, key=order_key):
        size = size_of(item)
        if size > limits.max_record_bytes:
            oversized.append(item)
            continue
        if len(chosen) >= limits.max_records or total + size > limits.max_payload_bytes:
            break
        chosen.append(item)
        total += size
    return Selection(tuple(chosen), tuple(oversized))


# --- batch bookkeeping ----------------------------------------------------------------------


@attrs.frozen
class Rejection:
    """One record refused on import, and why."""

    item_id: str
    reason: str


class ExportStatus(enum.StrEnum):
    PENDING = "pending"  # committed in the database, file not yet written
    COMPLETED = "completed"  # written to the outbox
    ACKNOWLEDGED = "acknowledged"  # the other side says it imported it
    RESENT = "resent"  # unacknowledged past the timeout; its contents went out again
    FAILED = "failed"


@attrs.define(slots=False, eq=False)
class ExportBatch:
    """A batch this network wrote to its outbox."""

    id: uuid.UUID
    batch_type: BatchType
    channel: Channel
    sequence: int
    created_at: datetime
    record_count: int
    payload_size: int
    payload_sha256: str
    filename: str
    encrypted: bool = False
    signed: bool = False
    status: ExportStatus = ExportStatus.COMPLETED
    acknowledged_at: datetime | None = None
    resent_at: datetime | None = None
    error_message: str | None = None
    # What the other side reported when it imported this batch (SPEC §4, per-item report).
    remote_accepted: int | None = None
    remote_duplicates: int | None = None
    remote_rejections: tuple[Rejection, ...] = ()
    # Contents that are not found through a column of their own: the users a users batch
    # carries, and the import batches whose reports ride along. Rewriting a batch after a
    # crash reloads exactly these.
    user_ids: tuple[uuid.UUID, ...] = ()
    report_ids: tuple[uuid.UUID, ...] = ()

    @classmethod
    def planned(
        cls,
        *,
        id: uuid.UUID,
        batch_type: BatchType,
        channel: Channel,
        sequence: int,
        created_at: datetime,
        record_count: int,
        user_ids: tuple[uuid.UUID, ...] = (),
        report_ids: tuple[uuid.UUID, ...] = (),
    ) -> ExportBatch:
        """A batch whose contents are committed but whose file is not written yet; if the
        writer dies, the next export run writes it again from the database, same id and
        sequence, so sequence numbers are never reused or skipped."""
        return cls(
            id=id,
            batch_type=batch_type,
            channel=channel,
            sequence=sequence,
            created_at=created_at,
            record_count=record_count,
            payload_size=0,
            payload_sha256="",
            filename="",
            status=ExportStatus.PENDING,
            user_ids=user_ids,
            report_ids=report_ids,
        )

    def mark_written(self, manifest: Manifest) -> None:
        if manifest.batch_id != self.id or manifest.sequence != self.sequence:
            raise IllegalTransition("export batch", "another batch", "mark written")
        if self.status is not ExportStatus.PENDING:
            return  # written twice (a retry after a crash): the first write stands
        self.status = ExportStatus.COMPLETED
        self.record_count = manifest.record_count
        self.payload_size = manifest.payload_size
        self.payload_sha256 = manifest.payload_sha256
        self.filename = manifest.payload_name
        self.encrypted = manifest.encryption is not None
        self.signed = manifest.signature is not None

    def record_report(
        self, accepted: int, duplicates: int, rejections: tuple[Rejection, ...]
    ) -> None:
        self.remote_accepted = accepted
        self.remote_duplicates = duplicates
        self.remote_rejections = rejections

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> ExportBatch:
        return cls(
            id=manifest.batch_id,
            batch_type=manifest.batch_type,
            channel=manifest.channel,
            sequence=manifest.sequence,
            created_at=manifest.created_at,
            record_count=manifest.record_count,
            payload_size=manifest.payload_size,
            payload_sha256=manifest.payload_sha256,
            filename=manifest.payload_name,
            encrypted=manifest.encryption is not None,
            signed=manifest.signature is not None,
        )

    @property
    def awaits_ack(self) -> bool:
        return self.status is ExportStatus.COMPLETED

    def acknowledge(self, now: datetime) -> bool:
        """Mark acknowledged; False if it already was. A resent batch may still be
        acknowledged late (its first copy arrived after all)."""
        if self.status is ExportStatus.ACKNOWLEDGED:
            return False
        if self.status in (ExportStatus.FAILED, ExportStatus.PENDING):
            raise IllegalTransition("export batch", self.status.value, "acknowledge")
        self.status = ExportStatus.ACKNOWLEDGED
        self.acknowledged_at = now
        return True

    def overdue(self, now: datetime, timeout: timedelta) -> bool:
        return self.awaits_ack and now - self.created_at >= timeout

    def mark_resent(self, now: datetime) -> None:
        if not self.awaits_ack:
            raise IllegalTransition("export batch", self.status.value, "re-send")
        self.status = ExportStatus.RESENT
        self.resent_at = now


class ImportStatus(enum.StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    DUPLICATE = "duplicate"


@attrs.define(slots=False, eq=False)
class ImportBatch:
    """A batch this network found in its inbox, and what became of it."""

    id: uuid.UUID
    batch_id: uuid.UUID | None  # None when the manifest was unreadable
    batch_type: BatchType | None
    source_network: Network | None
    sequence: int | None
    filename: str
    status: ImportStatus
    received_at: datetime
    record_count: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejections: tuple[Rejection, ...] = ()
    payload_sha256: str | None = None
    error_message: str | None = None
    reported: bool = False  # its import report has gone back to the sender

    @property
    def rejected(self) -> int:
        return len(self.rejections)
