"""The request lifecycle on the request network (SPEC §5): every legal move and every refusal.

``pending`` → ``exported`` → ``completed`` | ``failed``; ``pending`` → ``cancelled`` only while
pending; ``exported`` → ``pending`` only by the re-send rule. A result for a request the
re-send rule put back to ``pending`` is still accepted; a stored answer (``max_age_seconds``)
may only complete a request that never crossed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from airgap.domain.model.errors import DomainError, IllegalTransition
from airgap.domain.model.requests import (
    DEFAULT_REQUEST_TTL,
    RequestStatus,
    SearchRequest,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BATCH_1 = uuid.UUID(int=0xB1)
BATCH_2 = uuid.UUID(int=0xB2)


def new_request(now: datetime = T0, **kwargs: Any) -> SearchRequest:
    return SearchRequest.submit(
        id=uuid.UUID(int=1),
        user_id=uuid.UUID(int=2),
        query_type="match",
        query_params={"index": "products", "query": {"match": {"name": "x"}}},
        query_hash="ab" * 32,
        priority=5,
        now=now,
        **kwargs,
    )


def snapshot(request: SearchRequest) -> dict[str, Any]:
    return attrs.asdict(request, recurse=False)


# --- states reached only through legal moves ------------------------------------------------


def pending_fresh() -> SearchRequest:
    return new_request()


def pending_resent() -> SearchRequest:
    r = new_request()
    r.mark_exported(BATCH_1, T0 + timedelta(minutes=1))
    r.return_to_pending()
    return r


def exported() -> SearchRequest:
    r = new_request()
    r.mark_exported(BATCH_1, T0 + timedelta(minutes=1))
    return r


def completed() -> SearchRequest:
    r = exported()
    r.complete(T0 + timedelta(minutes=10))
    return r


def completed_from_stored() -> SearchRequest:
    r = new_request()
    r.answer_from_stored(T0 + timedelta(seconds=1))
    return r


def failed() -> SearchRequest:
    r = exported()
    r.fail("search rejected", T0 + timedelta(minutes=10))
    return r


def failed_before_export() -> SearchRequest:
    r = new_request()
    r.fail("expired", T0 + timedelta(days=8))
    return r


def cancelled() -> SearchRequest:
    r = new_request()
    r.cancel(T0 + timedelta(seconds=30))
    return r


STATES: dict[str, tuple[Callable[[], SearchRequest], RequestStatus]] = {
    "pending_fresh": (pending_fresh, RequestStatus.PENDING),
    "pending_resent": (pending_resent, RequestStatus.PENDING),
    "exported": (exported, RequestStatus.EXPORTED),
    "completed": (completed, RequestStatus.COMPLETED),
    "completed_from_stored": (completed_from_stored, RequestStatus.COMPLETED),
    "failed": (failed, RequestStatus.FAILED),
    "failed_before_export": (failed_before_export, RequestStatus.FAILED),
    "cancelled": (cancelled, RequestStatus.CANCELLED),
}

LATER = T0 + timedelta(hours=1)
ACTIONS: dict[str, Callable[[SearchRequest], None]] = {
    "export": lambda r: r.mark_exported(BATCH_2, LATER),
    "resend": lambda r: r.return_to_pending(),
    "cancel": lambda r: r.cancel(LATER),
    "complete": lambda r: r.complete(LATER),
    "fail": lambda r: r.fail("boom", LATER),
    "answer_from_stored": lambda r: r.answer_from_stored(LATER),
}

# The lifecycle written out by hand: which action is legal in which state, and where it leads.
LEGAL: dict[tuple[str, str], RequestStatus] = {
    ("pending_fresh", "export"): RequestStatus.EXPORTED,
    ("pending_fresh", "cancel"): RequestStatus.CANCELLED,
    ("pending_fresh", "fail"): RequestStatus.FAILED,
    ("pending_fresh", "answer_from_stored"): RequestStatus.COMPLETED,
    ("pending_resent", "export"): RequestStatus.EXPORTED,
    ("pending_resent", "cancel"): RequestStatus.CANCELLED,
    ("pending_resent", "fail"): RequestStatus.FAILED,
    ("pending_resent", "complete"): RequestStatus.COMPLETED,
    ("exported", "resend"): RequestStatus.PENDING,
    ("exported", "complete"): RequestStatus.COMPLETED,
    ("exported", "fail"): RequestStatus.FAILED,
}

ALL_MOVES = [(state, action) for state in STATES for action in ACTIONS]
ILLEGAL_MOVES = [move for move in ALL_MOVES if move not in LEGAL]


# --- submit and expiry ----------------------------------------------------------------------


def test_submit_creates_a_pending_request_that_expires_after_seven_days() -> None:
    r = new_request()
    assert r.status is RequestStatus.PENDING
    assert r.created_at == T0
    assert r.expires_at == T0 + timedelta(days=7)
    assert timedelta(days=7) == DEFAULT_REQUEST_TTL
    assert r.export_count == 0
    assert not r.was_exported
    assert r.exported_at is None
    assert r.export_batch_id is None
    assert r.result_received_at is None
    assert r.cancelled_at is None
    assert r.error_message is None


def test_submit_honours_a_custom_ttl() -> None:
    r = new_request(ttl=timedelta(hours=2))
    assert r.expires_at == T0 + timedelta(hours=2)


def test_is_expired_from_the_expiry_instant_on() -> None:
    r = new_request()
    assert not r.is_expired(T0)
    assert not r.is_expired(r.expires_at - timedelta(microseconds=1))
    assert r.is_expired(r.expires_at)
    assert r.is_expired(r.expires_at + timedelta(days=1))


def test_an_expired_pending_request_can_be_failed_without_a_crossing() -> None:
    r = new_request()
    at = r.expires_at + timedelta(minutes=1)
    assert r.is_expired(at)
    r.fail("expired", at)
    assert r.status is RequestStatus.FAILED
    assert r.error_message == "expired"
    assert r.result_received_at == at
    assert not r.was_exported


# --- legal moves, one by one ----------------------------------------------------------------


def test_export_records_when_and_in_which_batch() -> None:
    r = new_request()
    at = T0 + timedelta(minutes=1)
    r.mark_exported(BATCH_1, at)
    assert r.status is RequestStatus.EXPORTED
    assert r.exported_at == at
    assert r.export_batch_id == BATCH_1
    assert r.export_count == 1
    assert r.was_exported


def test_resend_returns_to_pending_but_remembers_the_export() -> None:
    r = exported()
    r.return_to_pending()
    assert r.status is RequestStatus.PENDING
    assert r.was_exported
    assert r.export_count == 1


def test_re_export_after_resend_counts_and_points_at_the_new_batch() -> None:
    r = pending_resent()
    at = T0 + timedelta(hours=1)
    r.mark_exported(BATCH_2, at)
    assert r.status is RequestStatus.EXPORTED
    assert r.export_count == 2
    assert r.export_batch_id == BATCH_2
    assert r.exported_at == at


def test_cancel_while_pending() -> None:
    r = new_request()
    at = T0 + timedelta(seconds=5)
    r.cancel(at)
    assert r.status is RequestStatus.CANCELLED
    assert r.cancelled_at == at
    assert r.result_received_at is None


def test_complete_an_exported_request() -> None:
    r = exported()
    at = T0 + timedelta(minutes=7)
    r.complete(at)
    assert r.status is RequestStatus.COMPLETED
    assert r.result_received_at == at
    assert r.error_message is None


def test_a_late_answer_completes_a_request_the_resend_rule_put_back() -> None:
    # The first copy did arrive after all: its answer is the answer.
    r = pending_resent()
    at = T0 + timedelta(hours=2)
    r.complete(at)
    assert r.status is RequestStatus.COMPLETED
    assert r.result_received_at == at


def test_complete_refused_for_a_request_that_never_crossed() -> None:
    r = new_request()
    before = snapshot(r)
    with pytest.raises(IllegalTransition):
        r.complete(T0 + timedelta(minutes=1))
    assert snapshot(r) == before


def test_fail_an_exported_request_keeps_the_reason() -> None:
    r = exported()
    at = T0 + timedelta(minutes=3)
    r.fail("search rejected: bad field", at)
    assert r.status is RequestStatus.FAILED
    assert r.error_message == "search rejected: bad field"
    assert r.result_received_at == at


def test_fail_a_resent_pending_request() -> None:
    r = pending_resent()
    r.fail("expired", LATER)
    assert r.status is RequestStatus.FAILED
    assert r.error_message == "expired"


def test_answer_from_stored_completes_a_never_exported_request_without_crossing() -> None:
    r = new_request()
    at = T0 + timedelta(seconds=1)
    r.answer_from_stored(at)
    assert r.status is RequestStatus.COMPLETED
    assert r.result_received_at == at
    assert not r.was_exported
    assert r.exported_at is None


def test_answer_from_stored_refused_once_the_request_has_crossed() -> None:
    # Its answer is on the way (or already counted); a stored one must not pre-empt it.
    for build in (exported, pending_resent):
        r = build()
        before = snapshot(r)
        with pytest.raises(IllegalTransition):
            r.answer_from_stored(LATER)
        assert snapshot(r) == before


# --- the full table -------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "action"), list(LEGAL))
def test_every_legal_move_reaches_the_expected_state(state: str, action: str) -> None:
    build, _ = STATES[state]
    r = build()
    ACTIONS[action](r)
    assert r.status is LEGAL[(state, action)]


@pytest.mark.parametrize(("state", "action"), ILLEGAL_MOVES)
def test_every_illegal_move_is_refused_and_changes_nothing(state: str, action: str) -> None:
    build, status = STATES[state]
    r = build()
    assert r.status is status
    before = snapshot(r)
    with pytest.raises(IllegalTransition) as info:
        ACTIONS[action](r)
    assert snapshot(r) == before
    error = info.value
    assert isinstance(error, DomainError)
    assert error.code == "illegal_transition"
    assert error.entity == "request"
    assert error.current == status.value
    assert status.value in str(error)


@pytest.mark.parametrize("state", [s for s, (_, st) in STATES.items() if st.is_final])
def test_final_states_accept_nothing(state: str) -> None:
    build, _ = STATES[state]
    for action in ACTIONS.values():
        r = build()
        with pytest.raises(IllegalTransition):
            action(r)


def test_final_flags() -> None:
    assert {s for s in RequestStatus if s.is_final} == {
        RequestStatus.COMPLETED,
        RequestStatus.FAILED,
        RequestStatus.CANCELLED,
    }
    assert [s.value for s in RequestStatus] == [
        "pending",
        "exported",
        "completed",
        "failed",
        "cancelled",
    ]


def test_a_cancelled_request_refuses_a_result_that_arrives_afterwards() -> None:
    # A user cancelled after the re-send rule put the request back: the late answer is refused,
    # and the cancellation stands.
    r = pending_resent()
    r.cancel(LATER)
    with pytest.raises(IllegalTransition):
        r.complete(LATER + timedelta(minutes=1))
    assert r.status is RequestStatus.CANCELLED
