"""Contract of the crossing: ``BatchOutbox``, ``BatchInbox`` / ``InboundBatch`` and ``Carrier``,
written against the ports only.

To check another adapter, add its name to the ``params`` of the ``crossing_to`` fixture and a
branch that builds an outbox, an inbox for the given destination network, a carrier between
them, and ``carry_altered``: the adapter's way of moving every waiting batch into the inbox
after passing its manifest and payload bytes through a function (a broken or hostile
carrier). Build the crossing with signing and encryption off, so the tests can edit the
manifest and read the payload; the security ports have their own contract.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from builders import Make

from airgap.adapters.filesystem.carrier import FilesystemCarrier
from airgap.adapters.filesystem.inbox import FilesystemInbox
from airgap.adapters.filesystem.outbox import FilesystemOutbox
from airgap.adapters.memory.transfer import BatchFile, MemoryCarrier, MemoryInbox, MemoryOutbox
from airgap.domain.model.batching import (
    Acks,
    BatchHeader,
    BatchType,
    Channel,
    ImportStatus,
    Manifest,
    Network,
    Rejection,
)
from airgap.domain.model.errors import BatchRejected
from airgap.domain.model.records import (
    ImportReportRecord,
    RequestRecord,
    ResultRecord,
    TransferRecord,
    UserRecord,
)
from airgap.ports.transfer import BatchInbox, BatchOutbox, Carrier, InboundBatch
from support.manifests import resealed

Alteration = Callable[[bytes, bytes], tuple[bytes, bytes]]
"""What a carrier does to a batch on the way: ``(manifest, payload) -> (manifest, payload)``."""


@attrs.frozen
class CrossingUnderTest:
    adapter: str
    outbox: BatchOutbox
    inbox: BatchInbox
    carrier: Carrier
    carry_altered: Callable[[Alteration], None]


def _memory(destination: Network) -> CrossingUnderTest:
    outbox, inbox = MemoryOutbox(), MemoryInbox(destination)

    def carry_altered(alter: Alteration) -> None:
        for file in outbox.take():
            manifest, payload = alter(file.manifest, file.payload)
            inbox.deliver(BatchFile(file.name, manifest, payload))

    carrier = MemoryCarrier(outbox, inbox)
    return CrossingUnderTest("memory", outbox, inbox, carrier, carry_altered)


def _filesystem(root: Path) -> Callable[[Network], CrossingUnderTest]:
    def build(destination: Network) -> CrossingUnderTest:
        base = Path(tempfile.mkdtemp(dir=root))
        outbox_dir, inbox_dir = base / "outbox", base / "inbox"
        outbox_dir.mkdir()
        inbox_dir.mkdir()
        outbox, inbox = FilesystemOutbox(outbox_dir), FilesystemInbox(inbox_dir, destination)

        def carry_altered(alter: Alteration) -> None:
            (outbox_dir / "carried").mkdir(exist_ok=True)
            for manifest_path in sorted(outbox_dir.glob("*.manifest.json")):
                (payload_path,) = outbox_dir.glob(
                    manifest_path.name.replace(".manifest.json", ".jsonl*")
                )
                manifest, payload = alter(manifest_path.read_bytes(), payload_path.read_bytes())
                (inbox_dir / payload_path.name).write_bytes(payload)
                (inbox_dir / manifest_path.name).write_bytes(manifest)
                for taken in (manifest_path, payload_path):
                    taken.rename(outbox_dir / "carried" / taken.name)

        carrier = FilesystemCarrier(outbox_dir, inbox_dir)
        return CrossingUnderTest("filesystem", outbox, inbox, carrier, carry_altered)

    return build


@pytest.fixture(params=["memory", "filesystem"])
def crossing_to(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[Network], CrossingUnderTest]:
    """Builds a crossing into the given network, per adapter under test."""
    if request.param == "memory":
        return _memory
    if request.param == "filesystem":
        return _filesystem(tmp_path)
    raise ValueError(f"no crossing builder for {request.param!r}")  # pragma: no cover


@pytest.fixture
def crossing(crossing_to: Callable[[Network], CrossingUnderTest]) -> CrossingUnderTest:
    """A crossing from the request network into the response network."""
    return crossing_to(Network.RESPONSE)


@pytest.fixture
def make() -> Make:
    return Make()


# --- records and headers ----------------------------------------------------------------------


def header(
    make: Make,
    sequence: int = 1,
    *,
    batch_type: BatchType = BatchType.REQUESTS,
    destination: Network = Network.RESPONSE,
    batch_id: uuid.UUID | None = None,
) -> BatchHeader:
    return BatchHeader(
        batch_id=batch_id or make.ids.new_id(),
        batch_type=batch_type,
        channel=Channel(destination.other, destination),
        sequence=sequence,
        # Microseconds on purpose: the format keeps them.
        created_at=make.now + timedelta(seconds=sequence, microseconds=123_456),
        acks=Acks(received=((1, 3), (5, 5)), missing=(4,)),
    )


def request_record(make: Make, query: str = "kettle") -> RequestRecord:
    return RequestRecord(
        request_id=make.ids.new_id(),
        user_id=make.ids.new_id(),
        query_type="match",
        query_params={"index": "products", "query": {"match": {"name": query}}, "size": 10},
        query_hash="a1" * 32,
        priority=7,
        created_at=make.now + timedelta(microseconds=1),
        expires_at=make.now + timedelta(days=7),
    )


def result_record(make: Make) -> ResultRecord:
    return ResultRecord(
        request_id=make.ids.new_id(),
        request_batch_id=make.ids.new_id(),
        request_batch_sequence=4,
        query_hash="b2" * 32,
        status="completed",
        backend="elasticsearch",
        index="products",
        executed_at=make.now + timedelta(microseconds=999_999),
        result_data={
            "hits": {
                "total": {"value": 2, "relation": "eq"},
                "hits": [
                    {"_id": "1", "_source": {"name": "Wasserkocher – rot ☕", "price": 19.5}},
                    {"_id": "2", "_source": {"name": "kettle", "price": 20, "tags": [], "x": None}},
                ],
            },
            "aggregations": {"brands": {"buckets": [{"key": "acme", "doc_count": 2}]}},
        },
        result_count=2,
        execution_time_ms=41,
        took_ms=3,
        cache_hit=True,
        metadata={"guard": {"removed_fields": 1}, "flag": True},
    )


def failed_result_record(make: Make) -> ResultRecord:
    return ResultRecord(
        request_id=make.ids.new_id(),
        request_batch_id=make.ids.new_id(),
        request_batch_sequence=4,
        query_hash="c3" * 32,
        status="failed",
        backend="elasticsearch",
        index="products",
        executed_at=make.now,
        error="expired",
    )


def user_record(make: Make) -> UserRecord:
    return UserRecord(
        user_id=make.ids.new_id(),
        username="alice",
        email="alice@example.org",
        hashed_password="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        profile_type="premium",
        rate_limit_per_minute=60,
        rate_limit_per_hour=1000,
        rate_limit_per_day=None,
        priority=7,
        role="user",
        is_active=True,
        version=3,
        snapshot_version=12,
        full_name="Alice Ångström",
    )


def report_records(make: Make) -> list[ImportReportRecord]:
    return [
        ImportReportRecord(
            batch_id=make.ids.new_id(),
            sequence=2,
            batch_type=BatchType.RESPONSES,
            status=ImportStatus.COMPLETED,
            accepted=3,
            duplicates=1,
            rejections=(Rejection("r-1", "query hash mismatch"), Rejection("r-2", "unknown")),
        ),
        ImportReportRecord(
            batch_id=make.ids.new_id(),
            sequence=None,
            batch_type=None,
            status=ImportStatus.FAILED,
            accepted=0,
            duplicates=0,
            error="unreadable manifest",
        ),
    ]


def write_and_carry(
    crossing: CrossingUnderTest, batch: BatchHeader, records: Sequence[TransferRecord]
) -> tuple[Manifest, InboundBatch]:
    manifest = crossing.outbox.write(batch, records)
    crossing.carrier.carry()
    (arrived,) = crossing.inbox.pending()
    return manifest, arrived


# --- the happy path ---------------------------------------------------------------------------


def test_a_carried_batch_arrives_with_the_manifest_the_outbox_returned(
    crossing: CrossingUnderTest, make: Make
) -> None:
    batch = header(make, 3)
    records = [request_record(make), request_record(make, "toaster")]
    manifest = crossing.outbox.write(batch, records)
    report = crossing.carrier.carry()
    assert report.batches == 1
    assert report.records == 2
    assert report.sequences == (3,)
    assert report.bytes >= manifest.payload_size > 0
    (arrived,) = crossing.inbox.pending()
    assert arrived.name == manifest.stem
    assert arrived.manifest() == manifest
    assert manifest.batch_id == batch.batch_id
    assert manifest.batch_type is BatchType.REQUESTS
    assert manifest.channel == batch.channel
    assert manifest.sequence == 3
    assert manifest.created_at == batch.created_at
    assert manifest.acks == batch.acks
    assert manifest.record_count == 2
    assert len(manifest.payload_sha256) == 64
    assert manifest.format_version == 1


@pytest.mark.parametrize(
    ("batch_type", "destination", "build"),
    [
        (
            BatchType.REQUESTS,
            Network.RESPONSE,
            lambda make: [request_record(make), *report_records(make)],
        ),
        (
            BatchType.RESPONSES,
            Network.REQUEST,
            lambda make: [result_record(make), failed_result_record(make), *report_records(make)],
        ),
        (BatchType.USERS, Network.REQUEST, lambda make: [user_record(make)]),
        (BatchType.SYSTEM, Network.REQUEST, report_records),
        (BatchType.SYSTEM, Network.RESPONSE, lambda make: []),
    ],
    ids=["requests", "responses", "users", "system-reports", "system-acks-only"],
)
def test_every_record_type_round_trips(
    crossing_to: Callable[[Network], CrossingUnderTest],
    make: Make,
    batch_type: BatchType,
    destination: Network,
    build: Callable[[Make], list[TransferRecord]],
) -> None:
    crossing = crossing_to(destination)
    records = build(make)
    manifest, arrived = write_and_carry(
        crossing, header(make, batch_type=batch_type, destination=destination), records
    )
    assert manifest.record_count == len(records)
    assert arrived.manifest() == manifest
    assert list(arrived.records()) == records


def test_writing_a_batch_id_again_returns_the_first_manifest_and_it_crosses_once(
    crossing: CrossingUnderTest, make: Make
) -> None:
    batch = header(make)
    first_records = [request_record(make)]
    first = crossing.outbox.write(batch, first_records)
    retry = crossing.outbox.write(batch, [request_record(make), request_record(make)])
    assert retry == first
    assert crossing.carrier.carry().batches == 1
    assert crossing.carrier.carry().batches == 0
    (arrived,) = crossing.inbox.pending()
    assert arrived.manifest() == first
    assert list(arrived.records()) == first_records


def test_an_empty_outbox_carries_nothing(crossing: CrossingUnderTest) -> None:
    report = crossing.carrier.carry()
    assert (report.batches, report.records, report.bytes, report.sequences) == (0, 0, 0, ())
    assert crossing.inbox.pending() == []


def test_batches_wait_oldest_first(crossing: CrossingUnderTest, make: Make) -> None:
    manifests = [crossing.outbox.write(header(make, n), [request_record(make)]) for n in (1, 2, 3)]
    assert crossing.carrier.carry().sequences == (1, 2, 3)
    assert [b.name for b in crossing.inbox.pending()] == [m.stem for m in manifests]


def test_archive_and_quarantine_take_a_batch_out_of_pending(
    crossing: CrossingUnderTest, make: Make
) -> None:
    manifests = [crossing.outbox.write(header(make, n), [request_record(make)]) for n in (1, 2, 3)]
    crossing.carrier.carry()
    first, second, _ = crossing.inbox.pending()
    first.archive()
    assert [b.name for b in crossing.inbox.pending()] == [manifests[1].stem, manifests[2].stem]
    second.quarantine("payload checksum mismatch")
    assert [b.name for b in crossing.inbox.pending()] == [manifests[2].stem]


# --- what the inbox refuses -------------------------------------------------------------------


def edit_manifest(*, reseal: bool = True, **changes: Any) -> Alteration:
    def alter(manifest: bytes, payload: bytes) -> tuple[bytes, bytes]:
        data = json.loads(manifest)
        for key, value in changes.items():
            if value is _DROP:
                del data[key]
            else:
                data[key] = value
        return json.dumps(resealed(data) if reseal else data).encode(), payload

    return alter


def replace_payload(edit: Callable[[bytes], bytes], *, rehash: bool) -> Alteration:
    """Change the payload; with ``rehash`` the manifest's size and checksum are made to match,
    so only the reader's record checks can catch it."""

    def alter(manifest: bytes, payload: bytes) -> tuple[bytes, bytes]:
        changed = edit(payload)
        if not rehash:
            return manifest, changed
        data = json.loads(manifest)
        data["payload_size"] = len(changed)
        data["payload_sha256"] = hashlib.sha256(changed).hexdigest()
        return json.dumps(resealed(data)).encode(), changed

    return alter


def flip_a_byte(payload: bytes) -> bytes:
    middle = len(payload) // 2
    return payload[:middle] + bytes([payload[middle] ^ 0x20]) + payload[middle + 1 :]


def second_line(line: bytes) -> Callable[[bytes], bytes]:
    def edit(payload: bytes) -> bytes:
        lines = payload.split(b"\n")
        lines[1] = line
        return b"\n".join(lines)

    return edit


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


_DROP = object()

# (alteration, where the reader must notice it, what the reason must name)
MANIFEST_PROBLEMS: dict[str, tuple[Alteration, str]] = {
    "flipped payload byte": (replace_payload(flip_a_byte, rehash=False), "checksum"),
    "truncated payload": (replace_payload(lambda p: p[:-7], rehash=False), "size|truncat"),
    "appended payload": (replace_payload(lambda p: p + b"{}\n", rehash=False), "size"),
    "another destination": (
        edit_manifest(source_network="response", destination_network="request"),
        "destination",
    ),
    "unreadable manifest": (lambda m, p: (m[: len(m) // 2], p), "manifest"),
    "manifest is a list": (lambda m, p: (b"[]", p), "manifest"),
    "manifest without checksum": (edit_manifest(payload_sha256=_DROP), "manifest|sha256"),
    "manifest with an unknown key": (edit_manifest(priority=1), "manifest|priority"),
    "manifest with a text record count": (edit_manifest(record_count="3"), "record_count"),
    "manifest with a naive timestamp": (
        edit_manifest(created_at="2026-01-01T00:00:00"),
        "manifest|time zone",
    ),
    "more records than the batch limit": (edit_manifest(record_count=10_000), "record"),
    # Damage on the way, not forgery: the manifest's own checksum no longer matches.
    "a sequence changed on the way": (edit_manifest(reseal=False, sequence=2), "manifest_sha256"),
    "acks changed on the way": (
        edit_manifest(reseal=False, acks={"received": [[1, 9]], "missing": []}),
        "manifest_sha256",
    ),
    "manifest without its own checksum": (
        edit_manifest(reseal=False, manifest_sha256=_DROP),
        "manifest_sha256",
    ),
}

RECORD_PROBLEMS: dict[str, tuple[Alteration, str]] = {
    "manifest counts more records": (edit_manifest(record_count=4), "record count"),
    "manifest counts fewer records": (edit_manifest(record_count=2), "record count"),
    "a line that is not JSON": (
        replace_payload(second_line(b'{"type": "request", '), rehash=True),
        "malformed record 2",
    ),
    "an empty line": (replace_payload(second_line(b""), rehash=True), "malformed record 2"),
    "an unknown record type": (
        replace_payload(second_line(b'{"type": "command", "run": "rm"}'), rehash=True),
        "malformed record 2.*command",
    ),
    "a record missing a field": (
        replace_payload(second_line(b'{"type": "request", "request_id": "x"}'), rehash=True),
        "malformed record 2",
    ),
    "a record nested too deep": (
        replace_payload(
            second_line(json.dumps({"type": "request", "query_params": deep(40)}).encode()),
            rehash=True,
        ),
        "malformed record 2.*deep",
    ),
}


def three_records_carried(
    crossing: CrossingUnderTest, make: Make, alter: Alteration
) -> InboundBatch:
    crossing.outbox.write(header(make), [request_record(make) for _ in range(3)])
    crossing.carry_altered(alter)
    (arrived,) = crossing.inbox.pending()
    return arrived


@pytest.mark.parametrize("problem", list(MANIFEST_PROBLEMS))
def test_the_manifest_check_rejects_with_a_reason(
    crossing: CrossingUnderTest, make: Make, problem: str
) -> None:
    alter, reason = MANIFEST_PROBLEMS[problem]
    arrived = three_records_carried(crossing, make, alter)
    with pytest.raises(BatchRejected, match=reason) as rejected:
        arrived.manifest()
    assert "\n" not in rejected.value.reason


@pytest.mark.parametrize("problem", list(RECORD_PROBLEMS))
def test_reading_the_records_rejects_with_a_reason(
    crossing: CrossingUnderTest, make: Make, problem: str
) -> None:
    alter, reason = RECORD_PROBLEMS[problem]
    arrived = three_records_carried(crossing, make, alter)
    arrived.manifest()  # the manifest itself is in order
    with pytest.raises(BatchRejected, match=reason) as rejected:
        list(arrived.records())
    assert "\n" not in rejected.value.reason


def test_an_unknown_format_version_is_rejected(
    request: pytest.FixtureRequest, crossing: CrossingUnderTest, make: Make
) -> None:
    arrived = three_records_carried(crossing, make, edit_manifest(format_version=2))
    with pytest.raises(BatchRejected, match="format"):
        arrived.manifest()


@pytest.mark.parametrize("sequence", [0, -1])
def test_a_sequence_below_one_is_rejected(
    request: pytest.FixtureRequest, crossing: CrossingUnderTest, make: Make, sequence: int
) -> None:
    arrived = three_records_carried(crossing, make, edit_manifest(sequence=sequence))
    with pytest.raises(BatchRejected, match="sequence"):
        arrived.manifest()


def test_a_rejected_batch_can_be_quarantined(crossing: CrossingUnderTest, make: Make) -> None:
    arrived = three_records_carried(crossing, make, replace_payload(flip_a_byte, rehash=False))
    with pytest.raises(BatchRejected) as rejected:
        arrived.manifest()
    arrived.quarantine(rejected.value.reason)
    assert crossing.inbox.pending() == []
