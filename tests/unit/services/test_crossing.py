"""Exporting, carrying and importing batches: order, caps, exactly-once, acks and re-sends."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import attrs
import orjson
import pytest

from airgap.adapters.memory.transfer import BatchFile
from airgap.domain.model.batching import (
    BatchHeader,
    BatchLimits,
    BatchType,
    ExportStatus,
    ImportStatus,
    Manifest,
)
from airgap.domain.model.records import TransferRecord
from airgap.domain.model.requests import RequestStatus
from airgap.domain.model.users import ProfileType
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.execute_queries import execute_available
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.entrypoints.bootstrap.memory import MemorySystem, build_memory_system
from support.manifests import resealed
from support.pipeline import MATCH_KETTLE, PRODUCTS, back, forward, full_cycle, make_user


def submit(system: MemorySystem, user: uuid.UUID, priority: int | None = None) -> uuid.UUID:
    return submit_request(
        system.request, SubmitRequest(user, "match", MATCH_KETTLE, priority)
    ).request.id


def manifests_in(files: Sequence[BatchFile]) -> list[dict[str, object]]:
    return [orjson.loads(f.manifest) for f in files]


def jobs(system: MemorySystem) -> list[uuid.UUID]:
    with system.response_store.unit_of_work() as uow:
        return [j.request_id for j in uow.jobs.all()]


def status(system: MemorySystem, user: uuid.UUID, request_id: uuid.UUID) -> str:
    return get_request(system.request, user, request_id).request.status.value


def test_batches_take_priority_first_then_oldest_within_the_cap() -> None:
    system = build_memory_system(
        documents={"products": PRODUCTS}, limits=BatchLimits(max_records=20)
    )
    basic = make_user(system, "alice")
    premium = make_user(system, "bob", ProfileType.PREMIUM)
    low = [submit(system, basic, 1) for _ in range(10)]
    system.clock.advance(61)
    high = [submit(system, premium, 7) for _ in range(10)]
    mid = [submit(system, basic, 5) for _ in range(5)]

    report = request_transfer.export_requests(system.request)

    # 20 records per batch; the first also carries the reports of the two users batches.
    assert [m.record_count for m in report.manifests] == [20, 7]
    assert report.requests == 25
    assert [m.sequence for m in report.manifests] == [1, 2]
    system.to_response.carry()
    response_transfer.import_batches(system.response)
    with system.response_store.unit_of_work() as uow:
        by_batch = sorted(uow.jobs.all(), key=lambda j: (j.import_batch_sequence, j.imported_at))
    first_batch = {j.request_id for j in by_batch if j.import_batch_sequence == 1}
    assert first_batch == set(high) | set(mid) | set(low[:3])
    assert {j.request_id for j in by_batch} == set(high) | set(mid) | set(low)


def test_exported_requests_are_marked_and_a_second_export_sends_nothing(
    system: MemorySystem, user: uuid.UUID
) -> None:
    ids = [submit(system, user) for _ in range(3)]
    first = request_transfer.export_requests(system.request)
    second = request_transfer.export_requests(system.request)

    assert first.requests == 3
    assert second.manifests == ()
    assert {status(system, user, i) for i in ids} == {"exported"}


def test_an_expired_request_fails_instead_of_crossing(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = submit(system, user)
    system.clock.advance(timedelta(days=8))
    report = request_transfer.export_requests(system.request)

    assert report.expired == 1 and report.requests == 0
    view = get_request(system.request, user, request_id)
    assert view.request.status is RequestStatus.FAILED
    assert view.request.error_message == "expired"


def test_a_duplicate_file_and_a_re_sent_request_are_imported_once(
    system: MemorySystem, user: uuid.UUID
) -> None:
    submit(system, user)
    request_transfer.export_requests(system.request)
    files = system.request.outbox.take()  # type: ignore[attr-defined]
    for file in files + files:
        system.response.inbox.deliver(attrs.evolve(file))  # type: ignore[attr-defined]

    imported = response_transfer.import_batches(system.response)

    assert [b.status for b in imported] == [ImportStatus.COMPLETED, ImportStatus.DUPLICATE]
    assert len(jobs(system)) == 1
    assert system.response.inbox.waiting == []  # type: ignore[attr-defined]
    assert len(system.response.inbox.archived) == 2  # type: ignore[attr-defined]


def test_a_corrupted_batch_is_quarantined_and_changes_nothing(
    system: MemorySystem, user: uuid.UUID
) -> None:
    submit(system, user)
    request_transfer.export_requests(system.request)
    (file,) = system.request.outbox.take()  # type: ignore[attr-defined]
    broken = attrs.evolve(file, payload=file.payload.replace(b"kettle", b"kettlf"))
    system.response.inbox.deliver(broken)  # type: ignore[attr-defined]

    (result,) = response_transfer.import_batches(system.response)

    assert result.status is ImportStatus.FAILED
    assert result.error_message == "payload checksum mismatch"
    assert jobs(system) == []
    assert system.response.inbox.quarantined == [broken]  # type: ignore[attr-defined]
    with system.response_store.unit_of_work() as uow:
        inbound = uow.channels.inbound(result_channel(system))
        assert inbound.received.ranges == []
        assert any("checksum" in e.message for e in uow.system_logs.entries())


def result_channel(system: MemorySystem):  # type: ignore[no-untyped-def]
    from airgap.domain.model.batching import Channel

    return Channel.from_(system.request.network)


def test_a_bad_record_rolls_back_the_whole_batch(system: MemorySystem, user: uuid.UUID) -> None:
    submit(system, user)
    submit(system, user)
    request_transfer.export_requests(system.request)
    (file,) = system.request.outbox.take()  # type: ignore[attr-defined]
    lines = file.payload.split(b"\n")
    lines[1] = b'{"type":"request","request_id":"not-a-uuid"}'
    payload = b"\n".join(lines)
    manifest = orjson.loads(file.manifest)
    import hashlib

    manifest.update(payload_size=len(payload), payload_sha256=hashlib.sha256(payload).hexdigest())
    system.response.inbox.deliver(  # type: ignore[attr-defined]
        BatchFile(file.name, orjson.dumps(resealed(manifest)), payload)
    )

    (result,) = response_transfer.import_batches(system.response)

    assert result.status is ImportStatus.FAILED
    assert result.error_message is not None
    assert result.error_message.startswith("malformed record 2")
    assert jobs(system) == []


def test_results_come_back_bound_to_their_questions(system: MemorySystem, user: uuid.UUID) -> None:
    request_id = submit(system, user)
    full_cycle(system)

    view = get_request(system.request, user, request_id)
    assert view.request.status is RequestStatus.COMPLETED
    assert view.response is not None
    assert view.response.metadata["backend"] == "memory"
    assert view.response.metadata["index"] == "products"


def test_a_result_whose_query_hash_does_not_match_is_rejected(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = submit(system, user)
    forward(system)
    with system.response_store.unit_of_work() as uow:
        job = uow.jobs.get_by_request(request_id)
        assert job is not None
        job.query_hash = "0" * 64  # the other side answered a different question
        uow.jobs.save(job)
        uow.commit()
    execute_available(system.response, "w")
    back(system)

    assert status(system, user, request_id) == "exported"
    with system.request_store.unit_of_work() as uow:
        (imported,) = [b for b in uow.import_batches.all() if b.batch_type is BatchType.RESPONSES]
    assert imported.accepted == 0
    assert [r.reason for r in imported.rejections] == ["query hash does not match the request"]


def test_import_reports_travel_back_to_the_sender(system: MemorySystem, user: uuid.UUID) -> None:
    submit(system, user)
    full_cycle(system)
    with system.request_store.unit_of_work() as uow:
        (sent,) = [b for b in uow.export_batches.all() if b.batch_type is BatchType.REQUESTS]
    assert sent.status is ExportStatus.ACKNOWLEDGED
    assert (sent.remote_accepted, sent.remote_duplicates, sent.remote_rejections) == (1, 0, ())


def test_acks_travel_alone_when_nothing_else_goes_back_and_never_ping_pong(
    system: MemorySystem, user: uuid.UUID
) -> None:
    submit(system, user)
    forward(system)  # imported, not executed: no results to send
    sent = response_transfer.export_results(system.response)
    assert [m.batch_type for m in sent] == [BatchType.SYSTEM]
    assert sent[0].acks.received == ((1, 1),)
    system.to_request.carry()
    request_transfer.import_batches(system.request)
    with system.request_store.unit_of_work() as uow:
        (batch,) = [b for b in uow.export_batches.all() if b.batch_type is BatchType.REQUESTS]
    assert batch.status is ExportStatus.ACKNOWLEDGED

    for _ in range(3):
        system.clock.advance(timedelta(hours=1))
        assert request_transfer.export_requests(system.request).manifests == ()
        assert response_transfer.export_results(system.response) == []


def test_a_lost_request_batch_is_re_sent_after_the_timeout(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = submit(system, user)
    request_transfer.export_requests(system.request)
    system.request.outbox.take()  # type: ignore[attr-defined]  # the USB stick is lost

    assert request_transfer.resend_unacknowledged(system.request) == 0
    system.clock.advance(timedelta(minutes=31))
    assert request_transfer.resend_unacknowledged(system.request) == 1
    assert status(system, user, request_id) == "pending"
    full_cycle(system)

    assert status(system, user, request_id) == "completed"
    with system.request_store.unit_of_work() as uow:
        sequences = [b.sequence for b in uow.export_batches.all()]
    assert sequences == [1, 2]  # the re-send went in a new batch with a new number


def test_a_lost_result_batch_is_re_sent_and_the_late_original_is_a_duplicate(
    system: MemorySystem, user: uuid.UUID
) -> None:
    request_id = submit(system, user)
    forward(system)
    execute_available(system.response, "w")
    response_transfer.export_results(system.response)
    lost = system.response.outbox.take()  # type: ignore[attr-defined]

    system.clock.advance(timedelta(minutes=31))
    assert response_transfer.resend_unacknowledged(system.response) == 1
    back(system)
    assert status(system, user, request_id) == "completed"
    for file in lost:  # the lost stick turns up after all
        system.request.inbox.deliver(file)  # type: ignore[attr-defined]
    (late,) = request_transfer.import_batches(system.request)

    assert late.status is ImportStatus.COMPLETED
    assert (late.accepted, late.duplicates) == (0, 1)
    assert status(system, user, request_id) == "completed"


class CrashingOutbox:
    """Dies once, between planning and writing, then behaves."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.crashes = 1

    def write(self, header: BatchHeader, records: Sequence[TransferRecord]) -> Manifest:
        if self.crashes:
            self.crashes -= 1
            raise OSError("disk full")
        return self.inner.write(header, records)  # type: ignore[attr-defined]


def test_a_crash_between_planning_and_writing_rewrites_the_same_batch(
    system: MemorySystem, user: uuid.UUID
) -> None:
    ids = [submit(system, user) for _ in range(3)]
    crashing = CrashingOutbox(system.request.outbox)
    side = attrs.evolve(system.request, outbox=crashing)
    with pytest.raises(OSError, match="disk full"):
        request_transfer.export_requests(side)
    with system.request_store.unit_of_work() as uow:
        (planned,) = uow.export_batches.all()
    assert planned.status is ExportStatus.PENDING

    report = request_transfer.export_requests(side)

    (manifest,) = report.manifests
    # Three requests and the import report of the users batch that created the user.
    assert (manifest.batch_id, manifest.sequence, manifest.record_count) == (planned.id, 1, 4)
    with system.request_store.unit_of_work() as uow:
        (written,) = uow.export_batches.all()
    assert written.status is ExportStatus.COMPLETED
    full_cycle(system)
    assert {status(system, user, i) for i in ids} == {"completed"}


def test_users_created_and_deactivated_on_the_response_side_follow_to_the_request_side(
    system: MemorySystem,
) -> None:
    from airgap.domain.services.users import export_users

    alice = make_user(system, "alice")
    with system.request_store.unit_of_work() as uow:
        replica = uow.users.get(alice)
    assert replica is not None and replica.may_sign_in
    with system.response_store.unit_of_work() as uow:
        source = uow.users.get(alice)
        assert source is not None
        source.deactivate(system.clock.now())
        uow.users.save(source)
        uow.commit()
    assert export_users(system.response) != []
    assert export_users(system.response) == []  # nothing changed since
    system.to_request.carry()
    request_transfer.import_batches(system.request)

    with system.request_store.unit_of_work() as uow:
        replica = uow.users.get(alice)
    assert replica is not None and not replica.may_sign_in


def test_a_stale_users_snapshot_never_overwrites_a_newer_one(system: MemorySystem) -> None:
    from airgap.domain.services.users import CreateUser, create_user, export_users

    alice = create_user(
        system.response,
        system.hasher,
        CreateUser("alice", "alice@example.org", "correct horse battery"),
    ).id
    export_users(system.response)
    older = system.response.outbox.take()  # type: ignore[attr-defined]
    with system.response_store.unit_of_work() as uow:
        source = uow.users.get(alice)
        assert source is not None
        source.change_profile(ProfileType.PREMIUM, system.clock.now())
        uow.users.save(source)
        uow.commit()
    export_users(system.response)
    newer = system.response.outbox.take()  # type: ignore[attr-defined]
    for file in newer + older:  # the carrier delivers them out of order
        system.request.inbox.deliver(file)  # type: ignore[attr-defined]

    imported = request_transfer.import_batches(system.request)

    assert [(b.accepted, b.duplicates) for b in imported] == [(1, 0), (0, 1)]
    with system.request_store.unit_of_work() as uow:
        replica = uow.users.get(alice)
    assert replica is not None and replica.profile_type is ProfileType.PREMIUM
    assert replica.rate_limits.per_minute == 60
