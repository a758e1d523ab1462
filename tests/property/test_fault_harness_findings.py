"""Bugs the fault harness found, each as the smallest scenario that shows it.

A bug not yet fixed is a strict expected failure (and the harness is kept from walking into
it until the fix lands, so that it can look for new ones). When the fix lands, the test
passes, pytest reports the unexpected pass as a failure, and whoever fixed it removes the
mark: the test stays, as the bug's regression test.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

import attrs
import pytest

from airgap.domain.model.batching import BatchType, ExportStatus, ImportStatus
from airgap.domain.model.jobs import MAX_ATTEMPTS
from airgap.domain.model.requests import RequestStatus
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.execute_queries import execute_next
from airgap.domain.services.requests import SubmitRequest, get_request, submit_request
from airgap.domain.services.users import CreateUser, create_user, export_users
from airgap.entrypoints.bootstrap.memory import MemorySystem, build_memory_system
from support.harness.carrier import Damage, HostileCarrier, MemoryDropoff, MemoryPickup
from support.harness.faults import (
    DyingOutbox,
    DyingSearch,
    Fuse,
    Killed,
    KillPoint,
    MemoryOutboxWreck,
)
from support.pipeline import MATCH_KETTLE, PRODUCTS, back, forward, full_cycle, make_user


@pytest.fixture
def system() -> MemorySystem:
    return build_memory_system(documents={"products": PRODUCTS})


@pytest.fixture
def user(system: MemorySystem) -> uuid.UUID:
    return make_user(system, "alice")


def _dying_outbox(system: MemorySystem) -> DyingOutbox:
    """The response network's outbox, dying in the middle of its next write."""
    outbox = system.response.outbox
    return DyingOutbox(MemoryOutboxWreck(outbox), KillPoint.MID_WRITE)  # type: ignore[arg-type]


def _response_batches(system: MemorySystem) -> list[tuple[BatchType, ExportStatus]]:
    with system.response_store.unit_of_work() as uow:
        return [(b.batch_type, b.status) for b in uow.export_batches.all()]


def test_results_export_survives_a_users_batch_left_unwritten_by_a_crash(
    system: MemorySystem, user: uuid.UUID
) -> None:
    create_user(system.response, system.hasher, CreateUser("carol", "carol@example.org", "pw"))
    dying = attrs.evolve(system.response, outbox=_dying_outbox(system))
    with pytest.raises(Killed):
        export_users(dying)  # the users batch is planned (sequence taken), never written

    response_transfer.export_results(system.response)  # leaves the users batch alone
    assert (BatchType.USERS, ExportStatus.PENDING) in _response_batches(system)
    export_users(system.response)  # whose own exporter writes it

    assert (BatchType.USERS, ExportStatus.PENDING) not in _response_batches(system)


def test_users_export_survives_a_results_batch_left_unwritten_by_a_crash(
    system: MemorySystem, user: uuid.UUID
) -> None:
    submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    forward(system)
    execute_next(system.response, "worker-1")
    dying = attrs.evolve(system.response, outbox=_dying_outbox(system))
    with pytest.raises(Killed):
        response_transfer.export_results(dying)  # planned, never written
    create_user(system.response, system.hasher, CreateUser("carol", "carol@example.org", "pw"))

    export_users(system.response)  # leaves the responses batch alone
    assert (BatchType.RESPONSES, ExportStatus.PENDING) in _response_batches(system)
    response_transfer.export_results(system.response)  # whose own exporter writes it

    assert (BatchType.RESPONSES, ExportStatus.PENDING) not in _response_batches(system)


@pytest.mark.parametrize("calls", range(8))
def test_the_failure_of_an_abandoned_job_survives_the_death_of_the_worker_recording_it(
    system: MemorySystem, user: uuid.UUID, calls: int
) -> None:
    """Found: claim_next committed an abandoned job's failure and a second unit of work
    stored its result, so a worker dying in between left a failed job with no result and
    its request unanswered for good. Wherever that worker dies now, the request ends
    failed, with the reason."""
    request = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE)).request
    forward(system)
    lease = system.response.lease + timedelta(seconds=1)
    for attempt in range(MAX_ATTEMPTS):  # a query that kills every worker that runs it
        dying = attrs.evolve(system.response, search=DyingSearch(system.response.search))
        with pytest.raises(Killed):
            execute_next(dying, f"worker-{attempt}")
        system.clock.advance(lease)
    # The next worker finds the job abandoned, and dies at its n-th unit-of-work call.
    fuse = Fuse(calls, "mid-transaction")
    dying = attrs.evolve(system.response, uow=fuse.wrap(system.response.uow))
    with contextlib.suppress(Killed):
        execute_next(dying, "worker-last")

    for _ in range(3):  # everything runs normally from now on
        execute_next(system.response, "worker-next")
        back(system)
        system.clock.advance(timedelta(hours=1))
        request_transfer.resend_unacknowledged(system.request)
        forward(system)

    view = get_request(system.request, user, request.id)
    assert view.request.status is RequestStatus.FAILED
    assert view.request.error_message is not None
    assert view.request.error_message.startswith("abandoned")


def test_a_bit_flipped_in_an_unsigned_manifest_loses_no_request(
    system: MemorySystem, user: uuid.UUID
) -> None:
    """Found: without a signature nothing checked the manifest itself, so a carrier that
    flipped one bit of "sequence" made the receiver acknowledge a batch that never arrived,
    whose requests were then never re-sent or answered. The manifest's own checksum
    (``manifest_sha256``) now refuses it, and the re-send rule does the rest."""
    carrier = HostileCarrier(
        MemoryPickup(system.request.outbox),  # type: ignore[arg-type]
        MemoryDropoff(system.response.inbox),  # type: ignore[arg-type]
    )
    ids = []
    for _ in range(3):  # three request batches: sequence 1, 2, 3
        ids.append(submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE)))
        request_transfer.export_requests(system.request)
    carrier.pick_up()
    third = carrier.in_flight[2].manifest
    at = third.index(b'"sequence":3') + len(b'"sequence":')
    carrier.deliver(0, Damage.DROP)  # batches 1 and 2 are lost on the way
    carrier.deliver(0, Damage.DROP)
    carrier.deliver(0, Damage.FLIP_MANIFEST, at, 1)  # batch 3 arrives saying "sequence":1
    (refused,) = response_transfer.import_batches(system.response)
    assert refused.status is ImportStatus.FAILED
    assert refused.error_message is not None
    assert "manifest_sha256 does not match" in refused.error_message

    for _ in range(5):  # a reliable carrier from now on, re-sends and all
        full_cycle(system)
        system.clock.advance(timedelta(minutes=31))
        request_transfer.resend_unacknowledged(system.request)
        response_transfer.resend_unacknowledged(system.response)

    statuses = [get_request(system.request, user, s.request.id).request.status for s in ids]
    assert statuses == [RequestStatus.COMPLETED] * 3
