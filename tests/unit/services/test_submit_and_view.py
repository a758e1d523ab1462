"""Submitting, cancelling and viewing requests on the request network."""

from __future__ import annotations

import uuid

import pytest

from airgap.domain.model.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    QueryPolicyViolation,
    RateLimitExceeded,
    ValidationFailed,
)
from airgap.domain.model.requests import RequestStatus
from airgap.domain.model.users import ProfileType
from airgap.domain.services.requests import (
    EXPORT_TASK,
    SubmitRequest,
    cancel_request,
    get_request,
    submit_request,
)
from airgap.entrypoints.bootstrap.memory import MemorySystem
from support.pipeline import MATCH_KETTLE, forward, full_cycle, make_user


def stored_requests(system: MemorySystem) -> int:
    with system.request_store.unit_of_work() as uow:
        return len(uow.requests.all())


def test_a_valid_request_is_stored_pending_audited_and_queued_for_export(
    system: MemorySystem, user: uuid.UUID
) -> None:
    submitted = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))

    assert submitted.request.status is RequestStatus.PENDING
    assert submitted.rate_limit.allowed and submitted.rate_limit.remaining == 9
    assert get_request(system.request, user, submitted.request.id).request.status == "pending"
    assert (EXPORT_TASK, {}) in system.request_tasks.drain()
    with system.request_store.unit_of_work() as uow:
        actions = [e.action for e in uow.audit.entries()]
    assert "request.submit" in actions


def test_a_policy_violation_is_refused_with_its_path_and_uses_no_quota(
    system: MemorySystem, user: uuid.UUID
) -> None:
    bad = {"index": "products", "query": {"bool": {"must": [{"script": {"source": "1"}}]}}}
    with pytest.raises(QueryPolicyViolation) as refused:
        submit_request(system.request, SubmitRequest(user, "bool", bad))

    assert refused.value.path.startswith("query.bool.must[0]")
    assert stored_requests(system) == 0
    ok = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    assert ok.rate_limit.remaining == 9


def test_an_index_outside_the_whitelist_is_refused(system: MemorySystem, user: uuid.UUID) -> None:
    with pytest.raises(QueryPolicyViolation) as refused:
        submit_request(
            system.request,
            SubmitRequest(user, "match", {"index": "secrets", "query": {"match": {"a": "b"}}}),
        )
    assert refused.value.path == "index"


def test_the_eleventh_request_in_a_minute_is_refused_for_a_basic_user(
    system: MemorySystem, user: uuid.UUID
) -> None:
    for _ in range(10):
        submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    with pytest.raises(RateLimitExceeded) as refused:
        submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))

    assert 0 < refused.value.retry_after <= 60
    assert stored_requests(system) == 10
    system.clock.advance(60)
    submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    assert stored_requests(system) == 11


def test_priority_is_capped_by_the_profile(system: MemorySystem, user: uuid.UUID) -> None:
    asked_high = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE, 10))
    asked_low = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE, 2))
    assert asked_high.request.priority == 5  # basic profile
    assert asked_low.request.priority == 2
    with pytest.raises(ValidationFailed):
        submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE, 11))


def test_unknown_or_deactivated_users_cannot_submit(system: MemorySystem, user: uuid.UUID) -> None:
    with pytest.raises(AuthenticationFailed):
        submit_request(system.request, SubmitRequest(uuid.uuid4(), "match", MATCH_KETTLE))
    with system.request_store.unit_of_work() as uow:
        replica = uow.users.get(user)
        assert replica is not None
        replica.locally_deactivated = True
        uow.users.save(replica)
        uow.commit()
    with pytest.raises(AuthenticationFailed):
        submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))


def test_max_age_answers_at_once_from_a_fresh_stored_answer(
    system: MemorySystem, user: uuid.UUID
) -> None:
    first = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    full_cycle(system)
    system.clock.advance(30)
    reordered = {"query": {"match": {"name": "kettle"}}, "index": "products"}

    again = submit_request(
        system.request, SubmitRequest(user, "match", reordered, max_age_seconds=60)
    )

    assert again.request.status is RequestStatus.COMPLETED
    assert again.response is not None and again.response.from_cache
    original = get_request(system.request, user, first.request.id).response
    assert original is not None
    assert again.response.result_data == original.result_data
    too_old = submit_request(
        system.request, SubmitRequest(user, "match", MATCH_KETTLE, max_age_seconds=10)
    )
    assert too_old.request.status is RequestStatus.PENDING and too_old.response is None


def test_cancel_only_while_pending(system: MemorySystem, user: uuid.UUID) -> None:
    pending = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    cancelled = cancel_request(system.request, user, pending.request.id)
    assert cancelled.status is RequestStatus.CANCELLED

    exported = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    forward(system)
    with pytest.raises(Conflict):
        cancel_request(system.request, user, exported.request.id)
    assert get_request(system.request, user, exported.request.id).request.status == "exported"


def test_a_cancelled_request_never_crosses(system: MemorySystem, user: uuid.UUID) -> None:
    pending = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))
    cancel_request(system.request, user, pending.request.id)
    forward(system)
    with system.response_store.unit_of_work() as uow:
        assert uow.jobs.all() == []


def test_another_users_request_looks_like_a_missing_one(
    system: MemorySystem, user: uuid.UUID
) -> None:
    mallory = make_user(system, "mallory")
    admin = make_user(system, "root", ProfileType.ADMIN)
    with system.response_store.unit_of_work() as uow:
        assert uow.users.get(admin) is not None
    mine = submit_request(system.request, SubmitRequest(user, "match", MATCH_KETTLE))

    with pytest.raises(NotFound):
        get_request(system.request, mallory, mine.request.id)
    with pytest.raises(NotFound):
        cancel_request(system.request, mallory, mine.request.id)
    with pytest.raises(NotFound):
        get_request(system.request, mallory, uuid.uuid4())
    assert get_request(system.request, user, mine.request.id).request.status == "pending"
