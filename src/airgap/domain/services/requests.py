"""A user's requests on the request network: submit, cancel, look up."""

from __future__ import annotations

import uuid
from datetime import timedelta

import attrs

from airgap.domain.model.audit import AuditEntry
from airgap.domain.model.errors import (
    AuthenticationFailed,
    Conflict,
    IllegalTransition,
    NotFound,
    RateLimitExceeded,
    ValidationFailed,
)
from airgap.domain.model.rate_limit import RateLimitDecision
from airgap.domain.model.requests import Response, SearchRequest
from airgap.domain.model.users import Role, User
from airgap.domain.services.context import RequestSide
from airgap.ports.request_store import RequestNetworkUnitOfWork

EXPORT_TASK = "requests.export"


@attrs.frozen
class SubmitRequest:
    """What a user asks for. ``max_age_seconds`` accepts a stored answer to the same query
    received at most that long ago, answered at once without a crossing."""

    user_id: uuid.UUID
    query_type: object
    query_params: object
    priority: int | None = None
    max_age_seconds: int | None = None


@attrs.frozen
class Submitted:
    request: SearchRequest
    rate_limit: RateLimitDecision
    response: Response | None = None  # set when answered from a stored answer


def _active_user(uow: RequestNetworkUnitOfWork, user_id: uuid.UUID) -> User:
    user = uow.users.get(user_id)
    if user is None or not user.may_sign_in:
        raise AuthenticationFailed("account unknown or deactivated")
    return user


def submit_request(side: RequestSide, command: SubmitRequest) -> Submitted:
    """Validate with the query policy, count against the rate limits, store ``pending``.

    Validation comes first so that a malformed query does not use up the user's quota.
    """
    if command.max_age_seconds is not None and (
        isinstance(command.max_age_seconds, bool)
        or not isinstance(command.max_age_seconds, int)
        or command.max_age_seconds < 0
    ):
        raise ValidationFailed("max_age_seconds must be a non-negative integer")
    with side.uow() as uow:
        now = side.clock.now()
        user = _active_user(uow, command.user_id)
        validated = side.policy.validate(
            command.query_type, command.query_params, profile_indices=user.allowed_indices
        )
        priority = user.effective_priority(command.priority)
        decision = side.rate_limits.hit(str(user.id), user.rate_limits, now)
        if not decision.allowed:
            raise RateLimitExceeded(decision.retry_after or 1.0, decision=decision)
        request = SearchRequest.submit(
            id=side.ids.new_id(),
            user_id=user.id,
            query_type=validated.query_type.value,
            query_params=validated.params,
            query_hash=validated.query_hash(),
            priority=priority,
            now=now,
            ttl=side.request_ttl,
        )
        stored_answer: Response | None = None
        if command.max_age_seconds is not None:
            since = now - timedelta(seconds=command.max_age_seconds)
            fresh = uow.responses.find_fresh(request.query_hash, since)
            if fresh is not None:
                request.answer_from_stored(now)
                stored_answer = Response(
                    request_id=request.id,
                    status="completed",
                    result_data=fresh.result_data,
                    result_count=fresh.result_count,
                    execution_time_ms=fresh.execution_time_ms,
                    received_at=now,
                    cache_hit=True,
                    from_cache=True,
                    metadata={"answered_from_request": str(fresh.request_id)},
                )
        uow.requests.add(request)
        if stored_answer is not None:
            uow.responses.add(stored_answer)
        uow.audit.record(
            AuditEntry(
                action="request.submit",
                created_at=now,
                user_id=user.id,
                resource_type="request",
                resource_id=str(request.id),
                status=202,
                details={"query_type": request.query_type, "from_cache": bool(stored_answer)},
            )
        )
        uow.commit()
    if stored_answer is None:
        side.tasks.enqueue(EXPORT_TASK)
    return Submitted(request=request, rate_limit=decision, response=stored_answer)


def _visible_request(
    uow: RequestNetworkUnitOfWork, request_id: uuid.UUID, viewer: User
) -> SearchRequest:
    request = uow.requests.get(request_id)
    # Another user's request is answered exactly like a missing one: no existence leak.
    if request is None or (request.user_id != viewer.id and viewer.role is not Role.ADMIN):
        raise NotFound("request not found")
    return request


def cancel_request(side: RequestSide, user_id: uuid.UUID, request_id: uuid.UUID) -> SearchRequest:
    """Cancel a request that is still pending; a request already exported cannot be."""
    with side.uow() as uow:
        now = side.clock.now()
        user = _active_user(uow, user_id)
        request = _visible_request(uow, request_id, user)
        try:
            request.cancel(now)
        except IllegalTransition as refused:
            raise Conflict(
                f"request is {request.status}; only pending requests can be cancelled"
            ) from refused
        uow.requests.save(request)
        uow.audit.record(
            AuditEntry(
                action="request.cancel",
                created_at=now,
                user_id=user.id,
                resource_type="request",
                resource_id=str(request.id),
                status=200,
            )
        )
        uow.commit()
    return request


@attrs.frozen
class RequestView:
    request: SearchRequest
    response: Response | None


def get_request(side: RequestSide, user_id: uuid.UUID, request_id: uuid.UUID) -> RequestView:
    """A request and its answer, if any, for its owner (or an admin)."""
    with side.uow() as uow:
        user = _active_user(uow, user_id)
        request = _visible_request(uow, request_id, user)
        return RequestView(request, uow.responses.get_for_request(request.id))


def request_status(side: RequestSide, viewer: User, request_id: uuid.UUID) -> SearchRequest:
    """The request alone, without its answer, for its owner (or an admin): the cheap read
    that clients poll. ``viewer`` is the account the caller has just authenticated as."""
    with side.uow() as uow:
        return _visible_request(uow, request_id, viewer)
