"""``/admin``: figures, every request, accounts (with the local emergency stop), rate-limit
resets, batches both ways, the audit trail and the state of the crossing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal, TypeVar

from litestar import Router, get, post, put
from litestar.pagination import OffsetPagination
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import UnsetType

from airgap.adapters.postgres.api_queries import RequestApiQueries
from airgap.adapters.postgres.read_models import MAX_LIMIT, RequestNetworkQueries
from airgap.domain.model.batching import BatchType, ExportStatus, ImportStatus
from airgap.domain.model.queries import QueryType
from airgap.domain.model.requests import RequestStatus
from airgap.domain.model.users import ProfileType, Role
from airgap.domain.services.auth import Principal
from airgap.domain.services.context import RequestSide
from airgap.domain.services.request_admin import (
    KEEP,
    AccountChanges,
    activate_user,
    deactivate_user,
    get_user,
    reset_rate_limit,
    update_user,
)
from airgap.entrypoints.http.common.di import Injected
from airgap.entrypoints.http.common.errors import error_responses
from airgap.entrypoints.http.common.openapi import AUTHENTICATED
from airgap.entrypoints.http.common.pagination import PageParams, page_of
from airgap.entrypoints.http.request_network.access import may_administer, may_monitor
from airgap.entrypoints.http.request_network.audit import AUDIT, AUDITED_BY_USE_CASE
from airgap.entrypoints.http.request_network.listing import listed
from airgap.entrypoints.http.request_network.schemas import (
    AdminUserUpdate,
    AuditLogOut,
    ExportBatchOut,
    ImportBatchOut,
    RequestOut,
    StatsOut,
    TransferOut,
    UserOut,
    audit_log_out,
    export_batch_out,
    import_batch_out,
    request_out,
    stats_out,
    transfer_out,
    user_out,
)
from airgap.ports.clock import Clock

READ_ERRORS = error_responses(400, 401, 403, 422)
_SELF_AUDITED = {AUDITED_BY_USE_CASE: True}

T = TypeVar("T")
D = TypeVar("D")


def _given(value: T | UnsetType, otherwise: D) -> T | D:
    """A field of the body, or ``otherwise`` when the body left it out."""
    return otherwise if isinstance(value, UnsetType) else value


Since = Annotated[datetime | None, QueryParameter(description="At or after this time (ISO 8601).")]
Until = Annotated[datetime | None, QueryParameter(description="Before this time (ISO 8601).")]
UserFilter = Annotated[uuid.UUID | None, QueryParameter(description="Only this user's.")]


@get("/stats", guards=[may_monitor], sync_to_thread=True, responses=error_responses(401, 403))
def stats(
    queries: Injected[RequestNetworkQueries],
    api_queries: Injected[RequestApiQueries],
    clock: Injected[Clock],
) -> StatsOut:
    """Requests by status with success and failure rates, accounts, the busiest users."""
    day_ago = clock.now() - timedelta(days=1)
    return stats_out(
        queries.request_counts(),
        api_queries.submitted_since(day_ago),
        api_queries.account_counts(),
        api_queries.users_submitting_since(day_ago),
        api_queries.top_users(10),
    )


@get("/requests", guards=[may_monitor], sync_to_thread=True, responses=READ_ERRORS)
def all_requests(
    queries: Injected[RequestNetworkQueries],
    page: Injected[PageParams],
    user_id: UserFilter = None,
    status: FromQuery[RequestStatus | None] = None,
    query_type: FromQuery[QueryType | None] = None,
    since: Since = None,
    until: Until = None,
    sort: FromQuery[
        Literal[
            "-created_at",
            "created_at",
            "-priority",
            "priority",
            "status",
            "-status",
            "expires_at",
            "-expires_at",
        ]
    ] = "-created_at",
) -> OffsetPagination[RequestOut]:
    """Every user's requests."""
    found = listed(
        queries.requests,
        user_id=user_id,
        status=None if status is None else status.value,
        query_type=None if query_type is None else query_type.value,
        since=since,
        until=until,
        sort=sort,
        limit=page.limit,
        offset=page.offset,
    )
    return page_of((request_out(r) for r in found.items), found.total, page)


@get("/users", guards=[may_monitor], sync_to_thread=True, responses=READ_ERRORS)
def users(
    queries: Injected[RequestNetworkQueries],
    page: Injected[PageParams],
    profile_type: FromQuery[ProfileType | None] = None,
    role: FromQuery[Role | None] = None,
    is_active: FromQuery[bool | None] = None,
    search: Annotated[
        str | None,
        QueryParameter(max_length=100, description="Start of the username or e-mail address."),
    ] = None,
    sort: FromQuery[
        Literal["username", "-username", "created_at", "-created_at", "updated_at", "-updated_at"]
    ] = "username",
) -> OffsetPagination[UserOut]:
    """The accounts this network holds (a replica of the response network's)."""
    found = listed(
        queries.users,
        profile_type=None if profile_type is None else profile_type.value,
        role=None if role is None else role.value,
        is_active=is_active,
        search=search,
        sort=sort,
        limit=page.limit,
        offset=page.offset,
    )
    return page_of((user_out(u) for u in found.items), found.total, page)


@get(
    "/users/{user_id:uuid}",
    guards=[may_monitor],
    sync_to_thread=True,
    responses=error_responses(401, 403, 404),
)
def user_detail(user_id: FromPath[uuid.UUID], side: Injected[RequestSide]) -> UserOut:
    return user_out(get_user(side, user_id))


@put(
    "/users/{user_id:uuid}",
    guards=[may_administer],
    opt={AUDIT: "admin.user.update", **_SELF_AUDITED},
    sync_to_thread=True,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
def update(
    user_id: FromPath[uuid.UUID],
    data: JSONBody[AdminUserUpdate],
    principal: Injected[Principal],
    side: Injected[RequestSide],
) -> UserOut:
    """Change an account here. The response network owns accounts: its next change to this
    one replaces what is set here."""
    changes = AccountChanges(
        profile_type=_given(data.profile_type, None),
        role=_given(data.role, None),
        priority=_given(data.priority, None),
        rate_limit_per_minute=_given(data.rate_limit_per_minute, KEEP),
        rate_limit_per_hour=_given(data.rate_limit_per_hour, KEEP),
        rate_limit_per_day=_given(data.rate_limit_per_day, KEEP),
        full_name=_given(data.full_name, KEEP),
        email=_given(data.email, None),
    )
    return user_out(update_user(side, principal.user.id, user_id, changes))


@post(
    "/users/{user_id:uuid}/deactivate",
    guards=[may_administer],
    opt={AUDIT: "admin.user.deactivate", **_SELF_AUDITED},
    status_code=200,
    sync_to_thread=True,
    responses=error_responses(401, 403, 404, 409),
)
def deactivate(
    user_id: FromPath[uuid.UUID], principal: Injected[Principal], side: Injected[RequestSide]
) -> UserOut:
    """The local emergency stop: refused at once, whatever tokens or keys they hold."""
    return user_out(deactivate_user(side, principal.user.id, user_id))


@post(
    "/users/{user_id:uuid}/activate",
    guards=[may_administer],
    opt={AUDIT: "admin.user.activate", **_SELF_AUDITED},
    status_code=200,
    sync_to_thread=True,
    responses=error_responses(401, 403, 404),
)
def activate(
    user_id: FromPath[uuid.UUID], principal: Injected[Principal], side: Injected[RequestSide]
) -> UserOut:
    """Lift the local stop (a user the response network deactivated stays inactive)."""
    return user_out(activate_user(side, principal.user.id, user_id))


@post(
    "/users/{user_id:uuid}/reset-rate-limit",
    guards=[may_administer],
    opt={AUDIT: "admin.user.reset_rate_limit", **_SELF_AUDITED},
    status_code=200,
    sync_to_thread=True,
    responses=error_responses(401, 403, 404),
)
def reset_limits(
    user_id: FromPath[uuid.UUID], principal: Injected[Principal], side: Injected[RequestSide]
) -> UserOut:
    """Forget the requests counted against the user's limits: the full quota is back."""
    return user_out(reset_rate_limit(side, principal.user.id, user_id))


@get("/export-batches", guards=[may_monitor], sync_to_thread=True, responses=READ_ERRORS)
def export_batches(
    queries: Injected[RequestNetworkQueries],
    page: Injected[PageParams],
    batch_type: FromQuery[BatchType | None] = None,
    status: FromQuery[ExportStatus | None] = None,
    sort: FromQuery[Literal["-created_at", "created_at", "-sequence", "sequence"]] = "-created_at",
) -> OffsetPagination[ExportBatchOut]:
    """Batches written to the outbox, and what the other side reported about them."""
    found = listed(
        queries.export_batches,
        batch_type=None if batch_type is None else batch_type.value,
        status=None if status is None else status.value,
        sort=sort,
        limit=page.limit,
        offset=page.offset,
    )
    return page_of((export_batch_out(b) for b in found.items), found.total, page)


@get("/import-batches", guards=[may_monitor], sync_to_thread=True, responses=READ_ERRORS)
def import_batches(
    queries: Injected[RequestNetworkQueries],
    page: Injected[PageParams],
    batch_type: FromQuery[BatchType | None] = None,
    status: FromQuery[ImportStatus | None] = None,
    sort: FromQuery[Literal["-created_at", "created_at", "-sequence", "sequence"]] = "-created_at",
) -> OffsetPagination[ImportBatchOut]:
    """Batches found in the inbox: imported, duplicate or failed (with the reason)."""
    found = listed(
        queries.import_batches,
        batch_type=None if batch_type is None else batch_type.value,
        status=None if status is None else status.value,
        sort=sort,
        limit=page.limit,
        offset=page.offset,
    )
    return page_of((import_batch_out(b) for b in found.items), found.total, page)


@get("/audit-logs", guards=[may_monitor], sync_to_thread=True, responses=READ_ERRORS)
def audit_logs(
    queries: Injected[RequestNetworkQueries],
    page: Injected[PageParams],
    user_id: UserFilter = None,
    action: Annotated[str | None, QueryParameter(max_length=100)] = None,
    resource_type: Annotated[str | None, QueryParameter(max_length=100)] = None,
    resource_id: Annotated[str | None, QueryParameter(max_length=100)] = None,
    since: Since = None,
    until: Until = None,
    sort: FromQuery[Literal["-created_at", "created_at", "action", "-action"]] = "-created_at",
) -> OffsetPagination[AuditLogOut]:
    """Who did what to which resource, from where, and how it ended."""
    found = listed(
        queries.audit_logs,
        user_id=user_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        since=since,
        until=until,
        sort=sort,
        limit=page.limit,
        offset=page.offset,
    )
    return page_of((audit_log_out(r) for r in found.items), found.total, page)


@get("/transfer", guards=[may_monitor], sync_to_thread=True, responses=error_responses(401, 403))
def transfer(queries: Injected[RequestNetworkQueries]) -> TransferOut:
    """Sequence numbers sent and received, the acks sent, batches still awaiting an ack,
    and the sequence numbers from the other side that never arrived."""
    waiting = queries.export_batches(
        status=ExportStatus.COMPLETED.value, sort="sequence", limit=MAX_LIMIT
    )
    return transfer_out(queries.transfer_status(), [b.sequence for b in waiting.items])


admin_router = Router(
    path="/admin",
    route_handlers=[
        stats,
        all_requests,
        users,
        user_detail,
        update,
        deactivate,
        activate,
        reset_limits,
        export_batches,
        import_batches,
        audit_logs,
        transfer,
    ],
    tags=["admin"],
    security=AUTHENTICATED,
)
