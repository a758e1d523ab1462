"""A user's search requests and their answers: ``/requests`` and ``/responses``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Request, Response, Router, delete, get, post
from litestar.pagination import OffsetPagination
from litestar.params import FromPath, JSONBody, QueryParameter

from airgap.adapters.postgres.read_models import RequestNetworkQueries
from airgap.domain.model.errors import RateLimitExceeded
from airgap.domain.model.requests import RequestStatus
from airgap.domain.services.answers import answer_for
from airgap.domain.services.auth import Principal
from airgap.domain.services.context import RequestSide
from airgap.domain.services.requests import (
    SubmitRequest,
    cancel_request,
    get_request,
    request_status,
    submit_request,
)
from airgap.entrypoints.http.common.auth import COUNTS_AGAINST_QUOTA
from airgap.entrypoints.http.common.di import Injected
from airgap.entrypoints.http.common.errors import error_responses
from airgap.entrypoints.http.common.openapi import AUTHENTICATED
from airgap.entrypoints.http.common.pagination import PageParams, page_of
from airgap.entrypoints.http.common.rate_limits import remember_decision
from airgap.entrypoints.http.request_network.access import may_read_requests, may_submit
from airgap.entrypoints.http.request_network.audit import AUDIT, AUDITED_BY_USE_CASE
from airgap.entrypoints.http.request_network.listing import listed
from airgap.entrypoints.http.request_network.metrics import RequestNetworkMetrics
from airgap.entrypoints.http.request_network.schemas import (
    RequestDetail,
    RequestOut,
    RequestStatusOut,
    ResponseOut,
    ResponseSummary,
    SubmitBody,
    request_detail,
    request_out,
    request_status_out,
    response_out,
    response_summary,
)
from airgap.ports.response_cache import ResponseCache

StatusFilter = Annotated[
    RequestStatus | None, QueryParameter(description="Only requests in this status.")
]
CreatedOrder = Annotated[
    Literal["-created_at", "created_at"],
    QueryParameter(description="Newest first (`-created_at`, the default) or oldest first."),
]


@post(
    "/requests",
    guards=[may_submit],
    opt={COUNTS_AGAINST_QUOTA: True, AUDIT: "request.submit", AUDITED_BY_USE_CASE: True},
    status_code=202,
    sync_to_thread=True,
    summary="Submit a search request",
    responses=error_responses(400, 401, 403, 422, 429),
)
def submit(
    request: Request[Any, Any, Any],
    data: JSONBody[SubmitBody],
    principal: Injected[Principal],
    side: Injected[RequestSide],
    api_metrics: Injected[RequestNetworkMetrics],
) -> Response[RequestDetail]:
    """Validated by the query policy (a violation names the offending path), counted against
    your rate limits, stored ``pending`` and carried across with the next batch. Poll
    ``Location`` (or its ``/status``) until it is ``completed`` or ``failed``. With
    ``max_age_seconds``, a stored answer to the same query that recent answers at once
    (``status: completed``, ``from_cache: true``)."""
    command = SubmitRequest(
        user_id=principal.user.id,
        query_type=data.query_type.value,
        query_params=data.query_params,
        priority=data.priority,
        max_age_seconds=data.max_age_seconds,
    )
    try:
        submitted = submit_request(side, command)
    except RateLimitExceeded:
        api_metrics.rate_limited.inc()
        raise
    remember_decision(request.scope, submitted.rate_limit)
    from_store = "true" if submitted.response is not None else "false"
    api_metrics.submitted.labels(submitted.request.query_type, from_store).inc()
    return Response(
        request_detail(submitted.request, submitted.response),
        status_code=202,
        headers={"Location": f"{request.url.path.rstrip('/')}/{submitted.request.id}"},
    )


@get(
    "/requests",
    guards=[may_read_requests],
    sync_to_thread=True,
    summary="Your requests",
    responses=error_responses(400, 401, 403, 422),
)
def list_requests(
    principal: Injected[Principal],
    queries: Injected[RequestNetworkQueries],
    page: Injected[PageParams],
    status: StatusFilter = None,
    sort: CreatedOrder = "-created_at",
) -> OffsetPagination[RequestOut]:
    found = listed(
        queries.requests,
        user_id=principal.user.id,
        status=None if status is None else status.value,
        sort=sort,
        limit=page.limit,
        offset=page.offset,
    )
    return page_of((request_out(r) for r in found.items), found.total, page)


@get(
    "/requests/{request_id:uuid}",
    guards=[may_read_requests],
    sync_to_thread=True,
    summary="A request, with its answer when there is one",
    responses=error_responses(401, 403, 404),
)
def read_request(
    request_id: FromPath[uuid.UUID], principal: Injected[Principal], side: Injected[RequestSide]
) -> RequestDetail:
    view = get_request(side, principal.user.id, request_id)
    return request_detail(view.request, view.response)


@get(
    "/requests/{request_id:uuid}/status",
    guards=[may_read_requests],
    sync_to_thread=True,
    summary="A request's status (for polling)",
    responses=error_responses(401, 403, 404),
)
def read_status(
    request_id: FromPath[uuid.UUID], principal: Injected[Principal], side: Injected[RequestSide]
) -> RequestStatusOut:
    return request_status_out(request_status(side, principal.user, request_id))


@delete(
    "/requests/{request_id:uuid}",
    guards=[may_submit],
    opt={AUDIT: "request.cancel", AUDITED_BY_USE_CASE: True},
    status_code=200,
    sync_to_thread=True,
    summary="Cancel a pending request",
    responses=error_responses(401, 403, 404, 409),
)
def cancel(
    request_id: FromPath[uuid.UUID], principal: Injected[Principal], side: Injected[RequestSide]
) -> RequestOut:
    """Only while it is ``pending``; once exported it is on its way (409)."""
    return request_out(cancel_request(side, principal.user.id, request_id))


@get(
    "/requests/{request_id:uuid}/response",
    guards=[may_read_requests],
    sync_to_thread=True,
    summary="A request's answer",
    responses=error_responses(401, 403, 404),
)
def read_answer(
    request_id: FromPath[uuid.UUID],
    principal: Injected[Principal],
    side: Injected[RequestSide],
    answers: Injected[ResponseCache],
) -> ResponseOut:
    """The results (Elasticsearch's shape in ``result_data``) or the failure; 404 while
    there is no answer yet."""
    return response_out(answer_for(side, answers, principal.user, request_id))


@get(
    "/responses",
    guards=[may_read_requests],
    sync_to_thread=True,
    summary="Answers to your requests",
    responses=error_responses(400, 401, 403, 422),
)
def list_responses(
    principal: Injected[Principal],
    queries: Injected[RequestNetworkQueries],
    page: Injected[PageParams],
    status: Annotated[
        Literal["completed", "failed"] | None, QueryParameter(description="Only these answers.")
    ] = None,
    sort: Annotated[
        Literal["-received_at", "received_at"],
        QueryParameter(description="Newest first by default."),
    ] = "-received_at",
) -> OffsetPagination[ResponseSummary]:
    """Summaries; fetch the result data by request id."""
    found = listed(
        queries.responses,
        user_id=principal.user.id,
        status=status,
        sort=sort,
        limit=page.limit,
        offset=page.offset,
    )
    return page_of((response_summary(r) for r in found.items), found.total, page)


requests_router = Router(
    path="/",
    route_handlers=[
        submit,
        list_requests,
        read_request,
        read_status,
        cancel,
        read_answer,
        list_responses,
    ],
    tags=["requests"],
    security=AUTHENTICATED,
)
