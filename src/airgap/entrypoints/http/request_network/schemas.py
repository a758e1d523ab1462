"""The request network API's bodies, as msgspec Structs (so Litestar validates them and the
OpenAPI schema is exact), and the translation from domain objects to them.

Wire names are spelled here and nowhere else; the domain's enums (roles, profiles, request
statuses, query types) are reused so the schema lists their values.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from airgap.adapters.postgres.api_queries import AccountCounts, UserActivity
from airgap.adapters.postgres.read_models import AuditLogRow, TransferStatus
from airgap.domain.model.batching import (
    BatchType,
    ExportBatch,
    ExportStatus,
    ImportBatch,
    ImportStatus,
    Rejection,
)
from airgap.domain.model.queries import QueryType
from airgap.domain.model.requests import RequestStatus, Response, SearchRequest
from airgap.domain.model.users import ApiKey, ProfileType, Role, User
from airgap.domain.services.auth import NewApiKey, TokenPair

Text100 = Annotated[str, Meta(min_length=1, max_length=100)]
Secret = Annotated[str, Meta(min_length=1, max_length=1024)]
Token = Annotated[str, Meta(min_length=1, max_length=4096)]
Limit = Annotated[int, Meta(ge=1, le=10_000_000)]
Priority = Annotated[int, Meta(ge=1, le=10)]
AwareDatetime = Annotated[datetime, Meta(tz=True)]


class Body(Struct, forbid_unknown_fields=True):
    """A request body: unknown fields are refused (a misspelt field is an error, not a
    silently ignored wish)."""


# --- auth --------------------------------------------------------------------------------


class LoginBody(Body):
    username: Text100
    password: Secret


class RefreshBody(Body):
    refresh_token: Token


class TokenPairOut(Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type


def token_pair_out(pair: TokenPair) -> TokenPairOut:
    return TokenPairOut(pair.access_token, pair.refresh_token, pair.expires_in, pair.token_type)


# --- users -------------------------------------------------------------------------------


class RateLimitsOut(Struct):
    """Requests admitted per window; null means unlimited."""

    per_minute: int | None
    per_hour: int | None
    per_day: int | None


class UserOut(Struct):
    id: uuid.UUID
    username: str
    email: str
    full_name: str | None
    role: Role
    profile_type: ProfileType
    priority: int
    rate_limits: RateLimitsOut
    is_active: bool
    locally_deactivated: bool
    may_sign_in: bool
    allowed_indices: list[str] | None
    created_at: datetime | None
    updated_at: datetime | None
    last_login: datetime | None
    version: int


def user_out(user: User) -> UserOut:
    limits = user.rate_limits
    return UserOut(
        id=user.id,
        username=user.username,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        profile_type=user.profile_type,
        priority=user.priority,
        rate_limits=RateLimitsOut(limits.per_minute, limits.per_hour, limits.per_day),
        is_active=user.is_active,
        locally_deactivated=user.locally_deactivated,
        may_sign_in=user.may_sign_in,
        allowed_indices=None if user.allowed_indices is None else sorted(user.allowed_indices),
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_login=user.last_login,
        version=user.version,
    )


class ProfileUpdate(Body):
    """Fields left out stay as they are; an empty ``full_name`` clears it."""

    full_name: Annotated[str, Meta(max_length=255)] | None = None
    email: Annotated[str, Meta(min_length=3, max_length=255)] | None = None


class ChangePasswordBody(Body):
    current_password: Secret
    new_password: Secret


class AdminUserUpdate(Body):
    """Fields left out stay as they are. A new ``profile_type`` brings that profile's limits
    and priority unless they are given too; a limit of null means unlimited."""

    profile_type: ProfileType | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    rate_limit_per_minute: Limit | UnsetType | None = UNSET
    rate_limit_per_hour: Limit | UnsetType | None = UNSET
    rate_limit_per_day: Limit | UnsetType | None = UNSET
    full_name: Annotated[str, Meta(max_length=255)] | UnsetType | None = UNSET
    email: Annotated[str, Meta(min_length=3, max_length=255)] | UnsetType = UNSET


# --- API keys ----------------------------------------------------------------------------


class ApiKeyScope(enum.StrEnum):
    """What an API key may do (never more than its owner's role allows)."""

    ALL = "*"
    REQUESTS_READ = "requests:read"
    REQUESTS_WRITE = "requests:write"
    ACCOUNT_READ = "account:read"
    ACCOUNT_WRITE = "account:write"
    ADMIN_READ = "admin:read"
    ADMIN_WRITE = "admin:write"


class ApiKeyCreate(Body):
    name: Text100
    scopes: Annotated[list[ApiKeyScope], Meta(min_length=1, max_length=10)] = msgspec.field(
        default_factory=lambda: [ApiKeyScope.ALL]
    )
    expires_at: AwareDatetime | None = None


class ApiKeyOut(Struct):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    is_active: bool


class ApiKeyCreated(Struct):
    """The new key. ``key`` is shown this once and never again (only its hash is kept)."""

    key: str
    api_key: ApiKeyOut


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=sorted(key.scopes),
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        is_active=key.is_active,
    )


def api_key_created(new: NewApiKey) -> ApiKeyCreated:
    return ApiKeyCreated(key=new.secret, api_key=api_key_out(new.key))


# --- requests and answers ----------------------------------------------------------------


class SubmitBody(Body):
    """A search request. ``query_params`` follows the template ``{index, query, aggs, size,
    from, sort, _source}``; the query policy checks it and names the offending path.
    ``priority`` is capped by the profile's. ``max_age_seconds`` accepts a stored answer to the
    same query received at most that long ago, at once and without a crossing."""

    query_type: QueryType
    query_params: dict[str, Any]
    priority: Priority | None = None
    max_age_seconds: Annotated[int, Meta(ge=0, le=31_536_000)] | None = None


class ResponseSummary(Struct):
    """An answer in a list, without its result data (fetch that by request id)."""

    request_id: uuid.UUID
    status: str
    result_count: int | None
    execution_time_ms: int | None
    cache_hit: bool
    from_cache: bool
    received_at: datetime
    error: str | None


class ResponseOut(ResponseSummary):
    """The answer to a request: results in ``result_data`` (Elasticsearch's shape), or a
    failure in ``error``."""

    result_data: dict[str, Any] | None
    metadata: dict[str, Any]


def response_summary(response: Response) -> ResponseSummary:
    return ResponseSummary(
        request_id=response.request_id,
        status=response.status,
        result_count=response.result_count,
        execution_time_ms=response.execution_time_ms,
        cache_hit=response.cache_hit,
        from_cache=response.from_cache,
        received_at=response.received_at,
        error=response.error,
    )


def response_out(response: Response) -> ResponseOut:
    return ResponseOut(
        **msgspec.structs.asdict(response_summary(response)),
        result_data=None if response.result_data is None else dict(response.result_data),
        metadata=dict(response.metadata),
    )


class RequestOut(Struct):
    id: uuid.UUID
    user_id: uuid.UUID
    status: RequestStatus
    query_type: str
    query_params: dict[str, Any]
    query_hash: str
    priority: int
    created_at: datetime
    expires_at: datetime
    exported_at: datetime | None
    export_count: int
    result_received_at: datetime | None
    cancelled_at: datetime | None
    error_message: str | None


class RequestDetail(RequestOut):
    """A request with its answer (null until there is one)."""

    from_cache: bool
    response: ResponseOut | None


class RequestStatusOut(Struct):
    """The lightweight view for polling."""

    id: uuid.UUID
    status: RequestStatus
    created_at: datetime
    exported_at: datetime | None
    result_received_at: datetime | None
    cancelled_at: datetime | None
    expires_at: datetime
    error_message: str | None


def request_out(request: SearchRequest) -> RequestOut:
    return RequestOut(
        id=request.id,
        user_id=request.user_id,
        status=request.status,
        query_type=request.query_type,
        query_params=dict(request.query_params),
        query_hash=request.query_hash,
        priority=request.priority,
        created_at=request.created_at,
        expires_at=request.expires_at,
        exported_at=request.exported_at,
        export_count=request.export_count,
        result_received_at=request.result_received_at,
        cancelled_at=request.cancelled_at,
        error_message=request.error_message,
    )


def request_detail(request: SearchRequest, response: Response | None) -> RequestDetail:
    return RequestDetail(
        **msgspec.structs.asdict(request_out(request)),
        from_cache=response is not None and response.from_cache,
        response=None if response is None else response_out(response),
    )


def request_status_out(request: SearchRequest) -> RequestStatusOut:
    return RequestStatusOut(
        id=request.id,
        status=request.status,
        created_at=request.created_at,
        exported_at=request.exported_at,
        result_received_at=request.result_received_at,
        cancelled_at=request.cancelled_at,
        expires_at=request.expires_at,
        error_message=request.error_message,
    )


# --- admin -------------------------------------------------------------------------------


class RequestTotals(Struct):
    total: int
    by_status: dict[str, int]
    submitted_last_24h: int
    success_rate: float | None  # completed / (completed + failed); null before any answer
    failure_rate: float | None


class AccountsOut(Struct):
    total: int
    active: int
    locally_deactivated: int
    submitting_last_24h: int


class TopUser(Struct):
    user_id: uuid.UUID
    username: str
    requests: int


class StatsOut(Struct):
    requests: RequestTotals
    accounts: AccountsOut
    top_users: list[TopUser]


def stats_out(
    counts: dict[str, int],
    submitted_24h: int,
    accounts: AccountCounts,
    submitting_24h: int,
    top: list[UserActivity],
) -> StatsOut:
    by_status = {status.value: counts.get(status.value, 0) for status in RequestStatus}
    answered = by_status["completed"] + by_status["failed"]
    return StatsOut(
        requests=RequestTotals(
            total=sum(counts.values()),
            by_status=by_status,
            submitted_last_24h=submitted_24h,
            success_rate=round(by_status["completed"] / answered, 4) if answered else None,
            failure_rate=round(by_status["failed"] / answered, 4) if answered else None,
        ),
        accounts=AccountsOut(
            total=accounts.total,
            active=accounts.active,
            locally_deactivated=accounts.locally_deactivated,
            submitting_last_24h=submitting_24h,
        ),
        top_users=[TopUser(a.user_id, a.username, a.requests) for a in top],
    )


class RejectionOut(Struct):
    item_id: str
    reason: str


def _rejections(rejections: tuple[Rejection, ...]) -> list[RejectionOut]:
    return [RejectionOut(r.item_id, r.reason) for r in rejections]


class ExportBatchOut(Struct):
    id: uuid.UUID
    batch_type: BatchType
    source_network: str
    destination_network: str
    sequence: int
    status: ExportStatus
    filename: str
    record_count: int
    payload_size: int
    payload_sha256: str
    encrypted: bool
    signed: bool
    created_at: datetime
    acknowledged_at: datetime | None
    resent_at: datetime | None
    error_message: str | None
    remote_accepted: int | None
    remote_duplicates: int | None
    remote_rejections: list[RejectionOut]


def export_batch_out(batch: ExportBatch) -> ExportBatchOut:
    return ExportBatchOut(
        id=batch.id,
        batch_type=batch.batch_type,
        source_network=batch.channel.source.value,
        destination_network=batch.channel.destination.value,
        sequence=batch.sequence,
        status=batch.status,
        filename=batch.filename,
        record_count=batch.record_count,
        payload_size=batch.payload_size,
        payload_sha256=batch.payload_sha256,
        encrypted=batch.encrypted,
        signed=batch.signed,
        created_at=batch.created_at,
        acknowledged_at=batch.acknowledged_at,
        resent_at=batch.resent_at,
        error_message=batch.error_message,
        remote_accepted=batch.remote_accepted,
        remote_duplicates=batch.remote_duplicates,
        remote_rejections=_rejections(batch.remote_rejections),
    )


class ImportBatchOut(Struct):
    id: uuid.UUID
    batch_id: uuid.UUID | None
    batch_type: BatchType | None
    source_network: str | None
    sequence: int | None
    filename: str
    status: ImportStatus
    received_at: datetime
    record_count: int
    accepted: int
    duplicates: int
    rejected: int
    rejections: list[RejectionOut]
    payload_sha256: str | None
    error_message: str | None
    reported: bool


def import_batch_out(batch: ImportBatch) -> ImportBatchOut:
    return ImportBatchOut(
        id=batch.id,
        batch_id=batch.batch_id,
        batch_type=batch.batch_type,
        source_network=None if batch.source_network is None else batch.source_network.value,
        sequence=batch.sequence,
        filename=batch.filename,
        status=batch.status,
        received_at=batch.received_at,
        record_count=batch.record_count,
        accepted=batch.accepted,
        duplicates=batch.duplicates,
        rejected=batch.rejected,
        rejections=_rejections(batch.rejections),
        payload_sha256=batch.payload_sha256,
        error_message=batch.error_message,
        reported=batch.reported,
    )


class AuditLogOut(Struct):
    id: int
    action: str
    created_at: datetime
    user_id: uuid.UUID | None
    resource_type: str | None
    resource_id: str | None
    ip_address: str | None
    user_agent: str | None
    status: int | None
    details: dict[str, Any]


def audit_log_out(row: AuditLogRow) -> AuditLogOut:
    e = row.entry
    return AuditLogOut(
        id=row.id,
        action=e.action,
        created_at=e.created_at,
        user_id=e.user_id,
        resource_type=e.resource_type,
        resource_id=e.resource_id,
        ip_address=e.ip_address,
        user_agent=e.user_agent,
        status=e.status,
        details=dict(e.details),
    )


class SequenceRange(Struct):
    first: int
    last: int


class OutboundOut(Struct):
    """What this network sent: the last sequence number used, the acks it last sent."""

    source_network: str
    destination_network: str
    last_sequence: int
    last_sent_at: datetime | None
    acks_sent: list[SequenceRange]
    awaiting_ack: int
    unacknowledged: list[int]  # sequence numbers of batches still awaiting an ack
    oldest_unacknowledged_at: datetime | None
    unwritten: int


class InboundOut(Struct):
    """What this network received from the other side, and what never arrived."""

    source_network: str
    destination_network: str
    received: list[SequenceRange]
    highest: int
    missing: list[int]
    last_received_at: datetime | None
    ack_owed: bool


class TransferOut(Struct):
    outbound: OutboundOut
    inbound: InboundOut


def transfer_out(status: TransferStatus, unacknowledged: list[int]) -> TransferOut:
    out, inbound = status.outbound, status.inbound
    acks = out.acks_sent.received if out.acks_sent is not None else ()
    return TransferOut(
        outbound=OutboundOut(
            source_network=out.channel.source.value,
            destination_network=out.channel.destination.value,
            last_sequence=out.last_sequence,
            last_sent_at=out.last_sent_at,
            acks_sent=[SequenceRange(a, b) for a, b in acks],
            awaiting_ack=status.awaiting_ack,
            unacknowledged=unacknowledged,
            oldest_unacknowledged_at=status.oldest_unacknowledged_at,
            unwritten=status.unwritten,
        ),
        inbound=InboundOut(
            source_network=inbound.channel.source.value,
            destination_network=inbound.channel.destination.value,
            received=[SequenceRange(a, b) for a, b in inbound.received.ranges],
            highest=inbound.received.highest,
            missing=list(status.missing),
            last_received_at=inbound.last_received_at,
            ack_owed=inbound.ack_owed,
        ),
    )
