"""Batches (SPEC §4): channels, sequence numbers, acks and gaps, manifests, selection order
and caps, and the bookkeeping of exported and imported batches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from airgap.domain.model.batching import (
    FORMAT_VERSION,
    SENDERS,
    Acks,
    BatchLimits,
    BatchType,
    Channel,
    EncryptionInfo,
    ExportBatch,
    ExportStatus,
    ImportBatch,
    ImportStatus,
    InboundChannel,
    Manifest,
    Network,
    OutboundChannel,
    ReceivedSequences,
    Rejection,
    SignatureInfo,
    TransferPolicy,
    batch_order_key,
    owes_acks,
    select_for_batch,
)
from airgap.domain.model.errors import IllegalTransition

T0 = datetime(2025, 3, 1, 9, 5, 7, tzinfo=UTC)
REQ_TO_RESP = Channel(Network.REQUEST, Network.RESPONSE)
BATCH_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")
ENCRYPTION = EncryptionInfo(
    algorithm="AES-256-GCM", key_id="k1", nonce="bm9uY2U=", segment_size=64 * 1024
)


# --- networks and channels ------------------------------------------------------------------


def test_each_network_has_one_other_side() -> None:
    assert Network.REQUEST.other is Network.RESPONSE
    assert Network.RESPONSE.other is Network.REQUEST


def test_channel_from_a_source_points_at_the_other_network() -> None:
    assert Channel.from_(Network.REQUEST) == REQ_TO_RESP
    assert Channel.from_(Network.RESPONSE) == Channel(Network.RESPONSE, Network.REQUEST)
    assert REQ_TO_RESP.name == "request->response"
    assert Channel.from_(Network.RESPONSE).name == "response->request"


def test_who_may_send_what() -> None:
    assert SENDERS[BatchType.REQUESTS] == {Network.REQUEST}
    assert SENDERS[BatchType.RESPONSES] == {Network.RESPONSE}
    assert SENDERS[BatchType.USERS] == {Network.RESPONSE}
    assert SENDERS[BatchType.SYSTEM] == {Network.REQUEST, Network.RESPONSE}
    assert set(SENDERS) == set(BatchType)


def test_default_limits_and_transfer_policy_match_the_spec() -> None:
    limits = BatchLimits()
    assert limits.max_records == 500
    assert limits.max_payload_bytes == 64 * 1024 * 1024
    assert limits.max_record_bytes == 1024 * 1024
    assert limits.max_json_depth == 32
    policy = TransferPolicy()
    assert policy.ack_timeout == timedelta(minutes=30)
    assert policy.ack_interval == timedelta(minutes=5)


# --- ReceivedSequences and Acks -------------------------------------------------------------


def received(*numbers: int) -> ReceivedSequences:
    seqs = ReceivedSequences()
    for n in numbers:
        seqs.add(n)
    return seqs


def test_nothing_received() -> None:
    seqs = ReceivedSequences()
    assert seqs.ranges == []
    assert seqs.highest == 0
    assert seqs.missing() == ()
    assert not seqs.contains(1)
    assert seqs.acks() == Acks()


def test_in_order_arrivals_make_one_range() -> None:
    seqs = ReceivedSequences()
    assert [seqs.add(n) for n in (1, 2, 3)] == [True, True, True]
    assert seqs.ranges == [(1, 3)]
    assert seqs.highest == 3
    assert seqs.missing() == ()


def test_a_gap_is_reported_missing_until_it_arrives() -> None:
    seqs = received(1, 2, 3, 5)
    assert seqs.ranges == [(1, 3), (5, 5)]
    assert seqs.missing() == (4,)
    assert not seqs.contains(4)
    assert seqs.add(4)
    assert seqs.ranges == [(1, 5)]
    assert seqs.missing() == ()


def test_leading_gap_is_missing_too() -> None:
    seqs = received(4, 3)
    assert seqs.ranges == [(3, 4)]
    assert seqs.missing() == (1, 2)


def test_a_duplicate_is_recognised_and_changes_nothing() -> None:
    seqs = received(1, 2, 7)
    before = list(seqs.ranges)
    assert not seqs.add(2)
    assert not seqs.add(7)
    assert seqs.ranges == before


def test_joining_ranges_from_both_sides_and_inserting_in_the_middle() -> None:
    seqs = received(10, 1, 5, 3)
    assert seqs.ranges == [(1, 1), (3, 3), (5, 5), (10, 10)]
    assert seqs.missing() == (2, 4, 6, 7, 8, 9)
    seqs.add(2)
    assert seqs.ranges == [(1, 3), (5, 5), (10, 10)]
    seqs.add(9)
    assert seqs.ranges == [(1, 3), (5, 5), (9, 10)]
    seqs.add(4)
    assert seqs.ranges == [(1, 5), (9, 10)]
    assert seqs.missing() == (6, 7, 8)
    for n in (7, 8, 6):
        seqs.add(n)
    assert seqs.ranges == [(1, 10)]


@pytest.mark.parametrize("bad", [0, -1])
def test_sequence_numbers_start_at_one(bad: int) -> None:
    seqs = received(1)
    with pytest.raises(ValueError, match="start at 1"):
        seqs.add(bad)
    assert seqs.ranges == [(1, 1)]


def test_acks_carry_ranges_and_missing_numbers() -> None:
    acks = received(1, 2, 3, 6, 8).acks()
    assert acks.received == ((1, 3), (6, 6), (8, 8))
    assert acks.missing == (4, 5, 7)
    assert [n for n in range(10) if acks.contains(n)] == [1, 2, 3, 6, 8]
    assert list(acks.sequences()) == [1, 2, 3, 6, 8]


def test_acks_are_a_snapshot_not_a_live_view() -> None:
    seqs = received(1)
    acks = seqs.acks()
    seqs.add(2)
    assert acks.received == ((1, 1),)
    assert not acks.contains(2)


def test_empty_acks_contain_nothing() -> None:
    assert not Acks().contains(1)
    assert list(Acks().sequences()) == []


# --- channel ends ---------------------------------------------------------------------------


def test_outbound_sequence_numbers_start_at_one_with_no_gaps() -> None:
    out = OutboundChannel(REQ_TO_RESP)
    times = [T0 + timedelta(minutes=i) for i in range(5)]
    assert [out.next_sequence(t) for t in times] == [1, 2, 3, 4, 5]
    assert out.last_sequence == 5
    assert out.last_sent_at == times[-1]


def test_outbound_continues_from_a_stored_sequence() -> None:
    out = OutboundChannel(REQ_TO_RESP, last_sequence=41)
    assert out.next_sequence(T0) == 42


def test_inbound_records_arrivals_and_owes_an_ack() -> None:
    inbound = InboundChannel(REQ_TO_RESP)
    assert not owes_acks(inbound)
    assert inbound.record(1, T0)
    assert owes_acks(inbound)
    assert inbound.last_received_at == T0
    assert inbound.acks() == Acks(received=((1, 1),), missing=())


def test_an_acks_only_batch_is_noted_but_not_itself_acknowledged() -> None:
    inbound = InboundChannel(REQ_TO_RESP)
    assert inbound.record(1, T0, wants_ack=False)
    assert inbound.received.contains(1)
    assert not owes_acks(inbound)


def test_a_duplicate_arrival_returns_false_and_creates_no_ack_debt() -> None:
    inbound = InboundChannel(REQ_TO_RESP)
    inbound.record(1, T0, wants_ack=False)
    assert not inbound.record(1, T0 + timedelta(seconds=1))
    assert not owes_acks(inbound)
    assert inbound.last_received_at == T0 + timedelta(seconds=1)


def test_inbound_sees_gaps() -> None:
    inbound = InboundChannel(REQ_TO_RESP)
    for n in (1, 2, 5):
        inbound.record(n, T0)
    assert inbound.acks().missing == (3, 4)


# --- manifest -------------------------------------------------------------------------------


def manifest(**kwargs: Any) -> Manifest:
    fields: dict[str, Any] = {
        "batch_id": BATCH_ID,
        "batch_type": BatchType.REQUESTS,
        "source_network": Network.REQUEST,
        "destination_network": Network.RESPONSE,
        "sequence": 7,
        "created_at": T0,
        "record_count": 3,
        "payload_size": 1234,
        "payload_sha256": "ef" * 32,
    }
    fields.update(kwargs)
    return Manifest(**fields)


def test_manifest_file_names_follow_the_transfer_format() -> None:
    m = manifest()
    stem = f"requests_20250301_090507_{BATCH_ID}"
    assert m.stem == stem
    assert m.payload_name == f"{stem}.jsonl"
    assert m.manifest_name == f"{stem}.manifest.json"
    assert m.channel == REQ_TO_RESP
    assert m.format_version == FORMAT_VERSION == 1
    assert m.acks == Acks()
    assert m.encryption is None
    assert m.signature is None


def test_an_encrypted_payload_is_named_jsonl_enc() -> None:
    m = manifest(
        batch_type=BatchType.RESPONSES,
        source_network=Network.RESPONSE,
        destination_network=Network.REQUEST,
        encryption=ENCRYPTION,
    )
    assert m.payload_name == f"responses_20250301_090507_{BATCH_ID}.jsonl.enc"
    assert m.manifest_name == f"responses_20250301_090507_{BATCH_ID}.manifest.json"
    assert m.channel == Channel(Network.RESPONSE, Network.REQUEST)


# --- selection ------------------------------------------------------------------------------


@attrs.frozen
class Item:
    name: str
    priority: int
    created_at: datetime
    size: int
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


def select(items: list[Item], limits: BatchLimits) -> tuple[list[str], list[str]]:
    selection = select_for_batch(
        items,
        order_key=lambda i: batch_order_key(i.priority, i.created_at, i.id),
        size_of=lambda i: i.size,
        limits=limits,
    )
    return [i.name for i in selection.chosen], [i.name for i in selection.oversized]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_highest_priority_first_then_oldest_first() -> None:
    items = [
        Item("p5-new", 5, at(3), 1),
        Item("p9-new", 9, at(2), 1),
        Item("p5-old", 5, at(0), 1),
        Item("p9-old", 9, at(1), 1),
        Item("p1", 1, at(-10), 1),
    ]
    chosen, oversized = select(items, BatchLimits())
    assert chosen == ["p9-old", "p9-new", "p5-old", "p5-new", "p1"]
    assert oversized == []


def test_ties_are_broken_by_id_so_the_order_is_total() -> None:
    a = Item("a", 5, at(0), 1, uuid.UUID(int=2))
    b = Item("b", 5, at(0), 1, uuid.UUID(int=1))
    assert select([a, b], BatchLimits())[0] == ["b", "a"]
    assert select([b, a], BatchLimits())[0] == ["b", "a"]


def test_record_cap() -> None:
    items = [Item(f"i{n}", 5, at(n), 1) for n in range(7)]
    chosen, _ = select(items, BatchLimits(max_records=3))
    assert chosen == ["i0", "i1", "i2"]


def test_byte_cap_is_inclusive() -> None:
    items = [Item(f"i{n}", 5, at(n), 10) for n in range(5)]
    chosen, _ = select(items, BatchLimits(max_payload_bytes=30, max_record_bytes=10))
    assert chosen == ["i0", "i1", "i2"]


def test_byte_cap_never_lets_a_smaller_later_item_jump_the_queue() -> None:
    items = [
        Item("first", 9, at(0), 60),
        Item("big", 8, at(0), 50),
        Item("small", 1, at(0), 5),
    ]
    chosen, oversized = select(items, BatchLimits(max_payload_bytes=100, max_record_bytes=100))
    assert chosen == ["first"]
    assert oversized == []


def test_oversized_items_are_set_aside_and_do_not_block_the_channel() -> None:
    items = [
        Item("huge", 9, at(0), 1001),
        Item("ok-1", 5, at(0), 10),
        Item("huge-2", 5, at(1), 5000),
        Item("ok-2", 5, at(2), 1000),
    ]
    chosen, oversized = select(items, BatchLimits(max_record_bytes=1000))
    assert chosen == ["ok-1", "ok-2"]
    assert oversized == ["huge", "huge-2"]


def test_nothing_to_select() -> None:
    assert select([], BatchLimits()) == ([], [])


# --- export batches -------------------------------------------------------------------------


def planned(sequence: int = 7) -> ExportBatch:
    return ExportBatch.planned(
        id=BATCH_ID,
        batch_type=BatchType.REQUESTS,
        channel=REQ_TO_RESP,
        sequence=sequence,
        created_at=T0,
        record_count=3,
        user_ids=(uuid.UUID(int=1),),
    )


def written(created_at: datetime = T0) -> ExportBatch:
    return ExportBatch.from_manifest(manifest(created_at=created_at))


def test_a_planned_batch_waits_to_be_written_and_awaits_no_ack_yet() -> None:
    batch = planned()
    assert batch.status is ExportStatus.PENDING
    assert not batch.awaits_ack
    assert not batch.overdue(T0 + timedelta(days=1), timedelta(minutes=30))
    assert batch.user_ids == (uuid.UUID(int=1),)
    with pytest.raises(IllegalTransition):
        batch.mark_resent(T0)
    assert batch.status is ExportStatus.PENDING


def test_mark_written_fills_in_what_the_outbox_wrote() -> None:
    batch = planned()
    m = manifest(
        encryption=ENCRYPTION,
        signature=SignatureInfo("Ed25519", "s1", "c2ln"),
    )
    batch.mark_written(m)
    assert batch.status is ExportStatus.COMPLETED
    assert batch.awaits_ack
    assert batch.payload_size == 1234
    assert batch.payload_sha256 == "ef" * 32
    assert batch.record_count == 3
    assert batch.filename == m.payload_name
    assert batch.encrypted
    assert batch.signed


def test_mark_written_twice_keeps_the_first_write() -> None:
    batch = planned()
    batch.mark_written(manifest())
    batch.mark_written(manifest(payload_size=99, payload_sha256="00" * 32))
    assert batch.payload_size == 1234
    assert batch.payload_sha256 == "ef" * 32


@pytest.mark.parametrize(
    "other", [{"batch_id": uuid.UUID(int=99)}, {"sequence": 8}], ids=["other-id", "other-seq"]
)
def test_mark_written_refuses_another_batchs_manifest(other: dict[str, Any]) -> None:
    batch = planned()
    before = attrs.asdict(batch, recurse=False)
    with pytest.raises(IllegalTransition):
        batch.mark_written(manifest(**other))
    assert attrs.asdict(batch, recurse=False) == before


def test_from_manifest_is_a_written_batch() -> None:
    m = manifest()
    batch = ExportBatch.from_manifest(m)
    assert batch.id == BATCH_ID
    assert batch.sequence == 7
    assert batch.channel == REQ_TO_RESP
    assert batch.filename == m.payload_name
    assert batch.status is ExportStatus.COMPLETED
    assert not batch.encrypted
    assert not batch.signed


def test_overdue_from_the_timeout_on() -> None:
    timeout = timedelta(minutes=30)
    batch = written()
    assert not batch.overdue(T0 + timeout - timedelta(microseconds=1), timeout)
    assert batch.overdue(T0 + timeout, timeout)
    assert batch.overdue(T0 + timedelta(days=3), timeout)


def test_acknowledge_once() -> None:
    batch = written()
    later = T0 + timedelta(minutes=10)
    assert batch.acknowledge(later)
    assert batch.status is ExportStatus.ACKNOWLEDGED
    assert batch.acknowledged_at == later
    assert not batch.awaits_ack
    assert not batch.overdue(T0 + timedelta(days=1), timedelta(minutes=30))
    assert not batch.acknowledge(later + timedelta(minutes=1))
    assert batch.acknowledged_at == later


def test_an_acknowledged_batch_is_never_resent() -> None:
    batch = written()
    batch.acknowledge(T0)
    with pytest.raises(IllegalTransition):
        batch.mark_resent(T0 + timedelta(hours=1))
    assert batch.status is ExportStatus.ACKNOWLEDGED
    assert batch.resent_at is None


def test_mark_resent_once_and_accept_a_late_ack() -> None:
    batch = written()
    later = T0 + timedelta(minutes=31)
    batch.mark_resent(later)
    assert batch.status is ExportStatus.RESENT
    assert batch.resent_at == later
    assert not batch.overdue(later + timedelta(days=1), timedelta(minutes=30))
    with pytest.raises(IllegalTransition):
        batch.mark_resent(later + timedelta(minutes=31))
    assert batch.resent_at == later
    # The first copy arrived after all.
    assert batch.acknowledge(later + timedelta(hours=1))
    assert batch.status is ExportStatus.ACKNOWLEDGED


def test_a_failed_batch_cannot_be_acknowledged() -> None:
    batch = written()
    batch.status = ExportStatus.FAILED
    with pytest.raises(IllegalTransition):
        batch.acknowledge(T0)
    assert batch.status is ExportStatus.FAILED
    assert batch.acknowledged_at is None


def test_record_report_keeps_what_the_other_side_said() -> None:
    batch = written()
    rejections = (Rejection("r-1", "query hash mismatch"),)
    batch.record_report(accepted=5, duplicates=2, rejections=rejections)
    assert (batch.remote_accepted, batch.remote_duplicates) == (5, 2)
    assert batch.remote_rejections == rejections


# --- import batches -------------------------------------------------------------------------


def test_import_batch_counts_rejections() -> None:
    batch = ImportBatch(
        id=uuid.uuid4(),
        batch_id=BATCH_ID,
        batch_type=BatchType.REQUESTS,
        source_network=Network.REQUEST,
        sequence=7,
        filename="x.jsonl",
        status=ImportStatus.COMPLETED,
        received_at=T0,
        record_count=4,
        accepted=2,
        rejections=(Rejection("a", "bad"), Rejection("b", "worse")),
    )
    assert batch.rejected == 2
    assert not batch.reported
    assert [s.value for s in ImportStatus] == ["completed", "failed", "duplicate"]


def test_limits_refuse_a_record_cap_above_the_payload_cap() -> None:
    with pytest.raises(ValueError, match="max_record_bytes"):
        BatchLimits(max_payload_bytes=10, max_record_bytes=11)
    with pytest.raises(ValueError, match="max_records"):
        BatchLimits(max_records=0)
