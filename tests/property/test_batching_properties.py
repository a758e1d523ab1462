"""Property tests for batching (SPEC §4): ack bookkeeping against a plain set, selection order
and caps, export-batch bookkeeping, and gap-free outbound sequence numbers."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airgap.domain.model.batching import (
    Acks,
    BatchLimits,
    BatchType,
    Channel,
    ExportBatch,
    ExportStatus,
    InboundChannel,
    Network,
    OutboundChannel,
    ReceivedSequences,
    batch_order_key,
    select_for_batch,
)
from airgap.domain.model.errors import IllegalTransition

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CHANNEL = Channel(Network.REQUEST, Network.RESPONSE)
FAST = settings(max_examples=150, deadline=None)


@st.composite
def _every_number_at_least_once(draw: st.DrawFn) -> list[int]:
    """1..n each at least once, some repeated, all shuffled."""
    n = draw(st.integers(min_value=0, max_value=30))
    numbers = list(range(1, n + 1))
    if numbers:
        numbers += draw(st.lists(st.sampled_from(numbers), max_size=20))
    return draw(st.permutations(numbers))


# Arrivals: sequence numbers in any order, with duplicates (a carrier that drops, repeats and
# reorders files), and runs in which every number up to some n arrives.
arrivals = st.lists(st.integers(min_value=1, max_value=40), max_size=80) | (
    _every_number_at_least_once()
)


def check_against_model(seqs: ReceivedSequences, model: set[int]) -> None:
    ranges = seqs.ranges
    # Well-formed: each range non-empty, sorted, disjoint and not touching its neighbour.
    for lo, hi in ranges:
        assert 1 <= lo <= hi
    for (_, hi), (lo, _) in itertools.pairwise(ranges):
        assert lo > hi + 1
    covered = {n for lo, hi in ranges for n in range(lo, hi + 1)}
    assert covered == model
    top = max(model, default=0)
    assert seqs.highest == top
    assert seqs.missing() == tuple(n for n in range(1, top) if n not in model)
    for n in range(top + 3):
        assert seqs.contains(n) == (n in model)


# (1) ReceivedSequences against a set.


@FAST
@given(arrivals)
def test_received_sequences_match_a_set(order: list[int]) -> None:
    seqs = ReceivedSequences()
    model: set[int] = set()
    for n in order:
        assert seqs.add(n) == (n not in model)  # False exactly for duplicates
        model.add(n)
        check_against_model(seqs, model)


@FAST
@given(st.lists(st.integers(min_value=1, max_value=40), max_size=40), st.randoms())
def test_arrival_order_does_not_matter(numbers: list[int], rng: random.Random) -> None:
    shuffled = list(numbers)
    rng.shuffle(shuffled)
    a, b = ReceivedSequences(), ReceivedSequences()
    for n in numbers:
        a.add(n)
    for n in shuffled:
        b.add(n)
    assert a.ranges == b.ranges
    assert a.acks() == b.acks()


@FAST
@given(arrivals, st.lists(st.booleans(), max_size=80))
def test_inbound_channel_owes_an_ack_exactly_when_a_new_batch_wanted_one(
    order: list[int], wants: list[bool]
) -> None:
    inbound = InboundChannel(CHANNEL)
    seen: set[int] = set()
    owed = False
    for i, n in enumerate(order):
        wants_ack = wants[i] if i < len(wants) else True
        assert inbound.record(n, T0 + timedelta(seconds=i), wants_ack=wants_ack) == (n not in seen)
        owed = owed or (n not in seen and wants_ack)
        seen.add(n)
        assert inbound.ack_owed == owed
    check_against_model(inbound.received, seen)


# (3) Acks agree with the model.


@FAST
@given(arrivals)
def test_acks_agree_with_the_set(order: list[int]) -> None:
    seqs = ReceivedSequences()
    for n in order:
        seqs.add(n)
    model = set(order)
    acks = seqs.acks()
    top = max(model, default=0)
    for n in range(-1, top + 3):
        assert acks.contains(n) == (n in model)
    assert list(acks.sequences()) == sorted(model)
    assert set(acks.missing) == set(range(1, top)) - model
    assert not (set(acks.missing) & model)


# (2) select_for_batch.


@attrs.frozen
class Item:
    priority: int
    created_at: datetime
    id: uuid.UUID
    size: int


items = st.lists(
    st.builds(
        Item,
        priority=st.integers(min_value=1, max_value=4),
        created_at=st.integers(min_value=0, max_value=5).map(lambda m: T0 + timedelta(minutes=m)),
        id=st.uuids(),
        size=st.integers(min_value=0, max_value=60),
    ),
    max_size=30,
    unique_by=lambda i: i.id,
)
limits = st.integers(min_value=1, max_value=60).flatmap(
    lambda record_cap: st.builds(
        BatchLimits,
        max_records=st.integers(min_value=1, max_value=12),
        # The payload cap is never below the record cap (BatchLimits refuses that).
        max_payload_bytes=st.integers(min_value=record_cap, max_value=300),
        max_record_bytes=st.just(record_cap),
    )
)


def key(item: Item) -> tuple[object, ...]:
    return batch_order_key(item.priority, item.created_at, item.id)


@settings(max_examples=300, deadline=None)
@given(items, limits)
def test_select_for_batch_keeps_order_and_caps(candidates: list[Item], lim: BatchLimits) -> None:
    selection = select_for_batch(candidates, order_key=key, size_of=lambda i: i.size, limits=lim)
    chosen = list(selection.chosen)
    oversized = list(selection.oversized)

    # The queue as a person would write it: priority DESC, oldest first, then id.
    queue = sorted(candidates, key=lambda i: (-i.priority, i.created_at, i.id.bytes))
    fitting = [i for i in queue if i.size <= lim.max_record_bytes]
    too_big = [i for i in queue if i.size > lim.max_record_bytes]

    # Never breaks order: a prefix of the queue without the items that can never fit.
    assert chosen == fitting[: len(chosen)]
    # Never exceeds a cap.
    assert len(chosen) <= lim.max_records
    assert sum(i.size for i in chosen) <= lim.max_payload_bytes
    # Stops only when the next item would overflow a cap.
    if len(chosen) < len(fitting):
        nxt = fitting[len(chosen)]
        assert (
            len(chosen) == lim.max_records
            or sum(i.size for i in chosen) + nxt.size > lim.max_payload_bytes
        )
    # Oversized items are exactly those over the record cap that the selection reached (in
    # queue order). When the selection was not cut short, that is every one of them.
    assert all(i.size > lim.max_record_bytes for i in oversized)
    assert oversized == too_big[: len(oversized)]
    if len(chosen) == len(fitting):
        assert oversized == too_big
    else:
        stop = queue.index(fitting[len(chosen)])
        assert oversized == [i for i in queue[:stop] if i.size > lim.max_record_bytes]
    assert not {i.id for i in chosen} & {i.id for i in oversized}


@FAST
@given(items)
def test_selection_does_not_depend_on_the_order_candidates_come_in(
    candidates: list[Item],
) -> None:
    lim = BatchLimits(max_records=5, max_payload_bytes=100, max_record_bytes=40)
    a = select_for_batch(candidates, order_key=key, size_of=lambda i: i.size, limits=lim)
    b = select_for_batch(
        list(reversed(candidates)), order_key=key, size_of=lambda i: i.size, limits=lim
    )
    assert a == b


# (4) ExportBatch: overdue, acknowledge, mark_resent.

ops = st.lists(
    st.tuples(
        st.sampled_from(["acknowledge", "mark_resent", "check"]),
        st.integers(min_value=0, max_value=3600),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(ops, st.integers(min_value=1, max_value=3600))
def test_export_batch_bookkeeping(script: list[tuple[str, int]], timeout_s: int) -> None:
    timeout = timedelta(seconds=timeout_s)
    batch = ExportBatch(
        id=uuid.uuid4(),
        batch_type=BatchType.REQUESTS,
        channel=CHANNEL,
        sequence=1,
        created_at=T0,
        record_count=1,
        payload_size=10,
        payload_sha256="00" * 32,
        filename="f.jsonl",
    )
    status = "completed"
    acked_at: datetime | None = None
    resent_at: datetime | None = None
    now = T0
    for op, step in script:
        now += timedelta(seconds=step)
        # Overdue only while written and unacknowledged, once the timeout has passed.
        assert batch.overdue(now, timeout) == (status == "completed" and now - T0 >= timeout)
        assert batch.awaits_ack == (status == "completed")
        if op == "acknowledge":
            assert batch.acknowledge(now) == (status != "acknowledged")
            if status != "acknowledged":
                acked_at = now
            status = "acknowledged"
        elif op == "mark_resent":
            if status == "completed":
                batch.mark_resent(now)
                status, resent_at = "resent", now
            else:
                with pytest.raises(IllegalTransition):
                    batch.mark_resent(now)
        assert batch.status.value == status
        assert batch.acknowledged_at == acked_at
        assert batch.resent_at == resent_at
    # A batch is re-sent at most once, and never after it was acknowledged.
    assert batch.status in {ExportStatus.COMPLETED, ExportStatus.ACKNOWLEDGED, ExportStatus.RESENT}


# (5) OutboundChannel.


@FAST
@given(
    st.integers(min_value=0, max_value=10_000),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50),
)
def test_outbound_sequences_continue_with_no_gaps(start: int, steps: list[int]) -> None:
    out = OutboundChannel(CHANNEL, last_sequence=start)
    now = T0
    got = []
    for step in steps:
        now += timedelta(seconds=step)
        got.append(out.next_sequence(now))
        assert out.last_sent_at == now
    assert got == list(range(start + 1, start + len(steps) + 1))
    assert out.last_sequence == start + len(steps)


@FAST
@given(st.integers(min_value=1, max_value=60))
def test_a_fresh_channel_numbers_from_one_and_the_receiver_sees_no_gap(n: int) -> None:
    out = OutboundChannel(CHANNEL)
    inbound = InboundChannel(CHANNEL)
    for _ in range(n):
        assert inbound.record(out.next_sequence(T0), T0)
    assert inbound.acks() == Acks(received=((1, n),), missing=())
