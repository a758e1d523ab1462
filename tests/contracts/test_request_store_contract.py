"""Contract of the request network's unit of work (``RequestNetworkUnitOfWork``) and its
repositories, written against the port only.

To check another adapter, add its name to the ``params`` of the ``store`` fixture and a branch
that builds it. Each branch must hand out an **empty** store per test (a fresh schema, or
truncated tables): the ordering tests look at everything there is. Units of work are nested
in one thread where a test needs two at once, so an adapter must let a second unit of work
read while the first holds uncommitted writes to other rows (Postgres does, by MVCC).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import attrs
import pytest
from builders import TO_REQUEST, TO_RESPONSE, Make, state

from airgap.adapters.memory.store import MemoryRequestStore
from airgap.domain.model.audit import AuditEntry
from airgap.domain.model.batching import (
    Acks,
    ExportStatus,
    ImportBatch,
    ImportStatus,
    Rejection,
)
from airgap.domain.model.requests import RequestStatus, Response, SearchRequest
from airgap.domain.model.users import ApiKey, ProfileType, User
from airgap.ports.request_store import RequestNetworkUnitOfWork
from support.databases import postgres_request_store


@attrs.frozen
class RequestStoreUnderTest:
    """What the tests need from one adapter: units of work on an empty store, and a way to
    read back the audit trail (the port only writes it)."""

    adapter: str
    unit_of_work: Callable[[], RequestNetworkUnitOfWork]
    audit_entries: Callable[[], Sequence[AuditEntry]]


def _memory() -> RequestStoreUnderTest:
    memory = MemoryRequestStore()

    def audit_entries() -> Sequence[AuditEntry]:
        with memory.unit_of_work() as uow:
            return uow.audit.entries()

    return RequestStoreUnderTest("memory", memory.unit_of_work, audit_entries)


@contextmanager
def _postgres() -> Iterator[RequestStoreUnderTest]:
    """A fresh migrated database on the test server (support.databases), dropped after."""
    with postgres_request_store() as postgres:

        def audit_entries() -> Sequence[AuditEntry]:
            with postgres.unit_of_work() as uow:
                return uow.audit.entries()

        yield RequestStoreUnderTest("postgres", postgres.unit_of_work, audit_entries)


@pytest.fixture(params=["memory", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[RequestStoreUnderTest]:
    """One empty request-network store per adapter under test."""
    if request.param == "memory":
        yield _memory()
    elif request.param == "postgres":
        with _postgres() as postgres:
            yield postgres
    else:  # pragma: no cover - a param without a builder is a mistake in this file
        raise ValueError(f"no request store builder for {request.param!r}")


@pytest.fixture
def make() -> Make:
    return Make()


def given(
    store: RequestStoreUnderTest,
    *,
    users: Sequence[User] = (),
    requests: Sequence[SearchRequest] = (),
    responses: Sequence[Response] = (),
    api_keys: Sequence[ApiKey] = (),
) -> None:
    """Commit these rows, parents before children (the real schema has foreign keys)."""
    with store.unit_of_work() as uow:
        for user in users:
            uow.users.add(user)
        for search_request in requests:
            uow.requests.add(search_request)
        for response in responses:
            uow.responses.add(response)
        for key in api_keys:
            uow.api_keys.add(key)
        uow.commit()


def ids(items: Sequence[SearchRequest] | Sequence[ImportBatch]) -> list[uuid.UUID]:
    return [item.id for item in items]


# --- transactions ---------------------------------------------------------------------------


def test_nothing_is_visible_to_another_unit_of_work_before_commit(
    store: RequestStoreUnderTest, make: Make
) -> None:
    alice = make.user("alice")
    with store.unit_of_work() as writer:
        writer.users.add(alice)
        assert writer.users.get(alice.id) is not None  # a unit of work sees its own writes
        with store.unit_of_work() as reader:
            assert reader.users.get(alice.id) is None
            assert reader.users.get_by_username("alice") is None
        writer.commit()
        with store.unit_of_work() as reader:
            assert reader.users.get(alice.id) is not None


def test_leaving_without_commit_discards_everything(
    store: RequestStoreUnderTest, make: Make
) -> None:
    alice = make.user("alice")
    with store.unit_of_work() as uow:
        uow.users.add(alice)
        uow.requests.add(make.request(alice))
    with store.unit_of_work() as uow:
        assert uow.users.get(alice.id) is None
        assert uow.requests.pending_for_export(10) == []


def test_an_exception_discards_everything(store: RequestStoreUnderTest, make: Make) -> None:
    alice = make.user("alice")
    given(store, users=[alice])

    def change_then_fail() -> None:
        with store.unit_of_work() as uow:
            changed = uow.users.get(alice.id)
            assert changed is not None
            changed.deactivate(make.now)
            uow.users.save(changed)
            uow.users.add(make.user("bob"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        change_then_fail()
    with store.unit_of_work() as uow:
        kept = uow.users.get(alice.id)
        assert kept is not None
        assert kept.is_active
        assert uow.users.get_by_username("bob") is None


def test_rollback_discards_and_the_unit_of_work_carries_on(
    store: RequestStoreUnderTest, make: Make
) -> None:
    alice, bob = make.user("alice"), make.user("bob")
    with store.unit_of_work() as uow:
        uow.users.add(alice)
        uow.rollback()
        assert uow.users.get(alice.id) is None
        uow.users.add(bob)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.users.get(alice.id) is None
        assert uow.users.get(bob.id) is not None


def test_changes_after_a_commit_need_another_commit(
    store: RequestStoreUnderTest, make: Make
) -> None:
    alice = make.user("alice")
    with store.unit_of_work() as uow:
        uow.users.add(alice)
        uow.commit()
        stored = uow.users.get(alice.id)
        assert stored is not None
        stored.deactivate(make.now)
        uow.users.save(stored)
    with store.unit_of_work() as uow:
        kept = uow.users.get(alice.id)
        assert kept is not None
        assert kept.is_active


def test_overlapping_units_of_work_keep_each_others_commits(
    request: pytest.FixtureRequest, store: RequestStoreUnderTest, make: Make
) -> None:
    alice, bob = make.user("alice"), make.user("bob")
    with store.unit_of_work() as outer:
        outer.users.add(alice)
        with store.unit_of_work() as inner:
            inner.users.add(bob)
            inner.commit()
        outer.commit()
    with store.unit_of_work() as uow:
        assert uow.users.get(alice.id) is not None
        assert uow.users.get(bob.id) is not None


# --- repositories hand out copies -------------------------------------------------------------


def test_a_fetched_object_is_a_copy_until_saved(store: RequestStoreUnderTest, make: Make) -> None:
    alice = make.user("alice")
    pending = make.request(alice)
    given(store, users=[alice], requests=[pending])
    with store.unit_of_work() as uow:
        user = uow.users.get(alice.id)
        by_name = uow.users.get_by_username("alice")
        request = uow.requests.get(pending.id)
        listed = uow.requests.pending_for_export(10)
        assert user is not None
        assert by_name is not None
        assert request is not None
        user.deactivate(make.now)
        by_name.change_profile(ProfileType.PREMIUM, make.now)
        request.cancel(make.now)
        listed[0].mark_exported(make.ids.new_id(), make.now)
        # Not even the same unit of work sees a change that was never saved.
        again = uow.users.get(alice.id)
        assert again is not None
        assert again.is_active
        assert again.profile_type is ProfileType.BASIC
        request_again = uow.requests.get(pending.id)
        assert request_again is not None
        assert request_again.status is RequestStatus.PENDING
        uow.commit()
    with store.unit_of_work() as uow:
        assert state(uow.users.get(alice.id)) == state(alice)
        assert ids(uow.requests.pending_for_export(10)) == [pending.id]


def test_an_added_object_is_not_tracked_after_add(store: RequestStoreUnderTest, make: Make) -> None:
    alice = make.user("alice")
    with store.unit_of_work() as uow:
        uow.users.add(alice)
        alice.deactivate(make.now)  # after add, without save
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.users.get(alice.id)
        assert stored is not None
        assert stored.is_active
        assert stored.version == 1


# --- users replica ----------------------------------------------------------------------------


def test_users_round_trip_by_id_and_username(store: RequestStoreUnderTest, make: Make) -> None:
    alice = make.user("alice", profile=ProfileType.ENTERPRISE)
    alice.allowed_indices = frozenset({"products", "orders"})
    bob = make.user("bob")
    given(store, users=[alice, bob])
    with store.unit_of_work() as uow:
        assert state(uow.users.get(alice.id)) == state(alice)
        assert state(uow.users.get_by_username("bob")) == state(bob)
        assert uow.users.get(make.ids.new_id()) is None
        assert uow.users.get_by_username("carol") is None


def test_a_saved_user_change_is_stored(store: RequestStoreUnderTest, make: Make) -> None:
    alice = make.user("alice")
    given(store, users=[alice])
    make.clock.advance(60)
    with store.unit_of_work() as uow:
        user = uow.users.get(alice.id)
        assert user is not None
        user.change_profile(ProfileType.PREMIUM, make.now)
        user.locally_deactivated = True
        uow.users.save(user)
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.users.get_by_username("alice")
        assert stored is not None
        assert state(stored) == state(user)
        assert stored.version == 2
        assert not stored.may_sign_in


# --- requests ---------------------------------------------------------------------------------


def test_a_request_round_trips(store: RequestStoreUnderTest, make: Make) -> None:
    alice = make.user("alice")
    request = make.request(alice, priority=7)
    given(store, users=[alice], requests=[request])
    with store.unit_of_work() as uow:
        assert state(uow.requests.get(request.id)) == state(request)
        assert uow.requests.get(make.ids.new_id()) is None


def test_save_and_save_all_store_lifecycle_changes(
    store: RequestStoreUnderTest, make: Make
) -> None:
    alice = make.user("alice")
    one, two, three = (make.request(alice) for _ in range(3))
    given(store, users=[alice], requests=[one, two, three])
    batch_id = make.ids.new_id()
    with store.unit_of_work() as uow:
        cancelled = uow.requests.get(one.id)
        assert cancelled is not None
        cancelled.cancel(make.now)
        uow.requests.save(cancelled)
        exported = [uow.requests.get(two.id), uow.requests.get(three.id)]
        for request in exported:
            assert request is not None
            request.mark_exported(batch_id, make.now)
        uow.requests.save_all([r for r in exported if r is not None])
        uow.commit()
    with store.unit_of_work() as uow:
        stored_one = uow.requests.get(one.id)
        assert stored_one is not None
        assert stored_one.status is RequestStatus.CANCELLED
        assert stored_one.cancelled_at == make.now
        for request in exported:
            assert request is not None
            assert state(uow.requests.get(request.id)) == state(request)


def test_pending_for_export_is_by_priority_then_age_and_limited(
    store: RequestStoreUnderTest, make: Make
) -> None:
    alice = make.user("alice")
    low_old = make.request(alice, priority=1, created_at=make.later(0))
    mid_old = make.request(alice, priority=5, created_at=make.later(0))
    high_new = make.request(alice, priority=9, created_at=make.later(20))
    high_old = make.request(alice, priority=9, created_at=make.later(10))
    mid_new = make.request(alice, priority=5, created_at=make.later(30))
    given(store, users=[alice], requests=[low_old, mid_old, high_new, high_old, mid_new])
    with store.unit_of_work() as uow:
        assert ids(uow.requests.pending_for_export(10)) == [
            high_old.id,
            high_new.id,
            mid_old.id,
            mid_new.id,
            low_old.id,
        ]
        assert ids(uow.requests.pending_for_export(2)) == [high_old.id, high_new.id]
        assert uow.requests.pending_for_export(0) == []


def test_pending_for_export_lists_only_pending_requests(
    store: RequestStoreUnderTest, make: Make
) -> None:
    alice = make.user("alice")
    pending = make.request(alice, priority=1)
    exported = make.request(alice, priority=10)
    exported.mark_exported(make.ids.new_id(), make.now)
    cancelled = make.request(alice, priority=10)
    cancelled.cancel(make.now)
    failed = make.request(alice, priority=10)
    failed.fail("expired", make.now)
    answered = make.request(alice, priority=10)
    answered.mark_exported(make.ids.new_id(), make.now)
    answered.complete(make.now)
    resent = make.request(alice, priority=2)
    resent.mark_exported(make.ids.new_id(), make.now)
    resent.return_to_pending()
    given(
        store,
        users=[alice],
        requests=[pending, exported, cancelled, failed, answered, resent],
    )
    with store.unit_of_work() as uow:
        assert ids(uow.requests.pending_for_export(10)) == [resent.id, pending.id]


def test_in_export_batch_finds_the_requests_a_batch_carried(
    store: RequestStoreUnderTest, make: Make
) -> None:
    alice = make.user("alice")
    first = make.export_batch(1)
    second = make.export_batch(2)
    a, b, c, d = (make.request(alice) for _ in range(4))
    for request, batch in ((a, first), (b, first), (c, second)):
        request.mark_exported(batch.id, make.now)
    given(store, users=[alice], requests=[a, b, c, d])
    with store.unit_of_work() as uow:
        uow.export_batches.add(first)
        uow.export_batches.add(second)
        uow.commit()
    with store.unit_of_work() as uow:
        assert sorted(ids(uow.requests.in_export_batch(first.id))) == sorted([a.id, b.id])
        assert ids(uow.requests.in_export_batch(second.id)) == [c.id]
        assert uow.requests.in_export_batch(make.ids.new_id()) == []


# --- responses --------------------------------------------------------------------------------


def test_a_response_round_trips(store: RequestStoreUnderTest, make: Make) -> None:
    alice = make.user("alice")
    answered, failed = make.request(alice), make.request(alice)
    ok = make.response(answered)
    ok.import_batch_id = make.ids.new_id()
    ok.cache_hit = True
    refused = make.response(failed, status="failed")
    given(store, users=[alice], requests=[answered, failed], responses=[ok, refused])
    with store.unit_of_work() as uow:
        assert state(uow.responses.get_for_request(answered.id)) == state(ok)
        assert state(uow.responses.get_for_request(failed.id)) == state(refused)
        assert uow.responses.get_for_request(make.ids.new_id()) is None


def test_find_fresh_returns_the_newest_completed_answer_since(
    store: RequestStoreUnderTest, make: Make
) -> None:
    alice = make.user("alice")
    older, newer, failed, other = (make.request(alice) for _ in range(4))
    other.query_hash = "hash-toaster"
    responses = [
        make.response(older, received_at=make.later(0)),
        make.response(newer, received_at=make.later(100)),
        make.response(failed, received_at=make.later(200), status="failed"),
        make.response(other, received_at=make.later(300)),
    ]
    given(store, users=[alice], requests=[older, newer, failed, other], responses=responses)
    with store.unit_of_work() as uow:
        found = uow.responses.find_fresh("hash-kettle", make.later(-3600))
        assert found is not None
        assert found.request_id == newer.id
        at_the_edge = uow.responses.find_fresh("hash-kettle", make.later(100))
        assert at_the_edge is not None
        assert at_the_edge.request_id == newer.id
        # Only the failed answer (ignored) and another query's answer are newer.
        assert uow.responses.find_fresh("hash-kettle", make.later(101)) is None
        assert uow.responses.find_fresh("hash-unknown", make.later(-3600)) is None
        toaster = uow.responses.find_fresh("hash-toaster", make.later(300))
        assert toaster is not None
        assert toaster.request_id == other.id


# --- API keys ---------------------------------------------------------------------------------


def test_api_keys_by_id_hash_and_user(store: RequestStoreUnderTest, make: Make) -> None:
    alice, bob = make.user("alice"), make.user("bob")
    first, second = make.api_key(alice), make.api_key(alice, scopes=frozenset({"*"}))
    bobs = make.api_key(bob)
    given(store, users=[alice, bob], api_keys=[first, second, bobs])
    with store.unit_of_work() as uow:
        assert state(uow.api_keys.get(second.id)) == state(second)
        assert state(uow.api_keys.get_by_hash(bobs.key_hash)) == state(bobs)
        assert uow.api_keys.get_by_hash("0" * 64) is None
        assert uow.api_keys.get(make.ids.new_id()) is None
        assert sorted(k.id for k in uow.api_keys.for_user(alice.id)) == sorted(
            [first.id, second.id]
        )
        assert uow.api_keys.for_user(make.ids.new_id()) == []


def test_a_saved_api_key_change_is_stored(store: RequestStoreUnderTest, make: Make) -> None:
    alice = make.user("alice")
    key = make.api_key(alice)
    given(store, users=[alice], api_keys=[key])
    with store.unit_of_work() as uow:
        loaded = uow.api_keys.get_by_hash(key.key_hash)
        assert loaded is not None
        loaded.mark_used(make.later(5))
        loaded.revoke()
        uow.api_keys.save(loaded)
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.api_keys.get(key.id)
        assert stored is not None
        assert not stored.is_active
        assert stored.last_used_at == make.later(5)


# --- export batches ---------------------------------------------------------------------------


def test_export_batches_awaiting_ack_and_unwritten_are_per_channel_by_sequence(
    store: RequestStoreUnderTest, make: Make
) -> None:
    unwritten_3 = make.export_batch(3, written=False)
    written_4 = make.export_batch(4)
    unwritten_1 = make.export_batch(1, written=False)
    written_2 = make.export_batch(2)
    acknowledged_5 = make.export_batch(5)
    acknowledged_5.acknowledge(make.now)
    resent_6 = make.export_batch(6)
    resent_6.mark_resent(make.now)
    elsewhere = [make.export_batch(1, channel=TO_REQUEST), make.export_batch(2, channel=TO_REQUEST)]
    elsewhere[1].status = ExportStatus.PENDING
    with store.unit_of_work() as uow:
        for batch in [
            unwritten_3,
            written_4,
            unwritten_1,
            written_2,
            acknowledged_5,
            resent_6,
            *elsewhere,
        ]:
            uow.export_batches.add(batch)
        uow.commit()
    with store.unit_of_work() as uow:
        assert [b.id for b in uow.export_batches.awaiting_ack(TO_RESPONSE)] == [
            written_2.id,
            written_4.id,
        ]
        assert [b.id for b in uow.export_batches.unwritten(TO_RESPONSE)] == [
            unwritten_1.id,
            unwritten_3.id,
        ]
        assert [b.id for b in uow.export_batches.awaiting_ack(TO_REQUEST)] == [elsewhere[0].id]
        assert [b.id for b in uow.export_batches.unwritten(TO_REQUEST)] == [elsewhere[1].id]


def test_export_batch_by_sequence_is_per_channel(store: RequestStoreUnderTest, make: Make) -> None:
    ours, theirs = make.export_batch(7), make.export_batch(7, channel=TO_REQUEST)
    with store.unit_of_work() as uow:
        uow.export_batches.add(ours)
        uow.export_batches.add(theirs)
        uow.commit()
    with store.unit_of_work() as uow:
        assert state(uow.export_batches.by_sequence(TO_RESPONSE, 7)) == state(ours)
        assert state(uow.export_batches.by_sequence(TO_REQUEST, 7)) == state(theirs)
        assert uow.export_batches.by_sequence(TO_RESPONSE, 8) is None


def test_a_written_and_reported_export_batch_round_trips(
    store: RequestStoreUnderTest, make: Make
) -> None:
    planned = make.export_batch(1, written=False)
    planned.user_ids = (make.ids.new_id(), make.ids.new_id())
    planned.report_ids = (make.ids.new_id(),)
    with store.unit_of_work() as uow:
        uow.export_batches.add(planned)
        uow.commit()
    with store.unit_of_work() as uow:
        batch = uow.export_batches.get(planned.id)
        assert batch is not None
        assert state(batch) == state(planned)
        batch.mark_written(make.manifest_for(batch))
        batch.record_report(1, 1, (Rejection("req-9", "query hash mismatch"),))
        uow.export_batches.save(batch)
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.export_batches.get(planned.id)
        assert state(stored) == state(batch)
        assert [b.id for b in uow.export_batches.unwritten(TO_RESPONSE)] == []
        assert [b.id for b in uow.export_batches.awaiting_ack(TO_RESPONSE)] == [planned.id]
        assert uow.export_batches.get(make.ids.new_id()) is None


# --- import batches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "imported"),
    [
        ((ImportStatus.COMPLETED,), True),
        ((ImportStatus.FAILED,), False),
        ((ImportStatus.DUPLICATE,), False),
        ((ImportStatus.FAILED, ImportStatus.DUPLICATE), False),
        ((ImportStatus.FAILED, ImportStatus.COMPLETED, ImportStatus.DUPLICATE), True),
    ],
)
def test_was_imported_counts_only_completed_imports(
    store: RequestStoreUnderTest,
    make: Make,
    statuses: tuple[ImportStatus, ...],
    imported: bool,
) -> None:
    batch_id = make.ids.new_id()
    with store.unit_of_work() as uow:
        for status in statuses:
            uow.import_batches.add(make.import_batch(batch_id=batch_id, status=status))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.import_batches.was_imported(batch_id) is imported
        assert uow.import_batches.was_imported(make.ids.new_id()) is False


def test_unreported_imports_oldest_first_until_saved_as_reported(
    store: RequestStoreUnderTest, make: Make
) -> None:
    second = make.import_batch(received_at=make.later(20), sequence=2)
    first = make.import_batch(received_at=make.later(10), sequence=1, status=ImportStatus.FAILED)
    done = make.import_batch(received_at=make.later(0), sequence=3, reported=True)
    with store.unit_of_work() as uow:
        for batch in (second, first, done):
            uow.import_batches.add(batch)
        uow.commit()
    with store.unit_of_work() as uow:
        assert ids(uow.import_batches.unreported()) == [first.id, second.id]
        loaded = uow.import_batches.get(first.id)
        assert loaded is not None
        loaded.reported = True
        uow.import_batches.save(loaded)
        uow.commit()
    with store.unit_of_work() as uow:
        assert ids(uow.import_batches.unreported()) == [second.id]


def test_an_import_batch_round_trips(store: RequestStoreUnderTest, make: Make) -> None:
    counted = make.import_batch()
    counted.accepted, counted.duplicates = 3, 1
    counted.rejections = (Rejection("r-1", "expired"), Rejection("r-2", "bad query"))
    counted.payload_sha256 = "cd" * 32
    unreadable = ImportBatch(
        id=make.ids.new_id(),
        batch_id=None,
        batch_type=None,
        source_network=None,
        sequence=None,
        filename="garbage.jsonl",
        status=ImportStatus.FAILED,
        received_at=make.now,
        error_message="unreadable manifest: not JSON",
        reported=True,
    )
    with store.unit_of_work() as uow:
        uow.import_batches.add(counted)
        uow.import_batches.add(unreadable)
        uow.commit()
    with store.unit_of_work() as uow:
        assert state(uow.import_batches.get(counted.id)) == state(counted)
        assert state(uow.import_batches.get(unreadable.id)) == state(unreadable)
        assert uow.import_batches.get(make.ids.new_id()) is None


# --- channels ---------------------------------------------------------------------------------


def test_channels_start_empty_on_first_use(store: RequestStoreUnderTest) -> None:
    with store.unit_of_work() as uow:
        outbound = uow.channels.outbound(TO_RESPONSE)
        inbound = uow.channels.inbound(TO_REQUEST)
    assert outbound.channel == TO_RESPONSE
    assert outbound.last_sequence == 0
    assert outbound.acks_sent is None
    assert outbound.last_sent_at is None
    assert inbound.channel == TO_REQUEST
    assert inbound.acks() == Acks()
    assert not inbound.ack_owed


def test_outbound_channel_state_is_kept_only_when_saved(
    store: RequestStoreUnderTest, make: Make
) -> None:
    with store.unit_of_work() as uow:
        outbound = uow.channels.outbound(TO_RESPONSE)
        assert outbound.next_sequence(make.now) == 1
        assert outbound.next_sequence(make.now) == 2
        outbound.acks_sent = Acks(received=((1, 3),), missing=())
        uow.channels.save_outbound(outbound)
        uow.commit()
    with store.unit_of_work() as uow:
        unsaved = uow.channels.outbound(TO_RESPONSE)
        assert unsaved.next_sequence(make.later(60)) == 3  # never saved
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.channels.outbound(TO_RESPONSE)
        assert state(stored) == state(outbound)
        assert uow.channels.outbound(TO_REQUEST).last_sequence == 0


def test_inbound_channel_state_is_kept_when_saved(store: RequestStoreUnderTest, make: Make) -> None:
    with store.unit_of_work() as uow:
        inbound = uow.channels.inbound(TO_REQUEST)
        for sequence in (1, 2, 4):
            inbound.record(sequence, make.now)
        uow.channels.save_inbound(inbound)
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.channels.inbound(TO_REQUEST)
        assert stored.acks() == Acks(received=((1, 2), (4, 4)), missing=(3,))
        assert stored.ack_owed
        assert stored.last_received_at == make.now
        stored.record(3, make.later(1))
        stored.ack_owed = False
        uow.channels.save_inbound(stored)
        uow.commit()
    with store.unit_of_work() as uow:
        final = uow.channels.inbound(TO_REQUEST)
        assert final.acks() == Acks(received=((1, 4),), missing=())
        assert not final.ack_owed
        assert uow.channels.inbound(TO_RESPONSE).acks() == Acks()


# --- audit ------------------------------------------------------------------------------------


def test_audit_entries_are_kept_on_commit_only(store: RequestStoreUnderTest, make: Make) -> None:
    alice = make.user("alice")
    given(store, users=[alice])
    kept = AuditEntry(
        action="request.submit",
        created_at=make.now,
        user_id=alice.id,
        resource_type="request",
        resource_id=str(make.ids.new_id()),
        ip_address="192.0.2.7",
        user_agent="pytest",
        status=201,
        details={"priority": 5},
    )
    dropped = AuditEntry(action="request.cancel", created_at=make.later(1))
    with store.unit_of_work() as uow:
        uow.audit.record(kept)
        uow.commit()
    with store.unit_of_work() as uow:
        uow.audit.record(dropped)
    assert list(store.audit_entries()) == [kept]
