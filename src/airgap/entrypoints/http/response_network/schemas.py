"""What the response network's API reads and writes: request bodies (checked by msgspec,
so a bad one is a 422 naming the field) and views of the domain's objects."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from airgap.domain.model.batching import ExportBatch, ImportBatch, Rejection
from airgap.domain.model.caching import CachedResult
from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.operations import DeadLetter, ExecutionSummary, SystemLogRecord
from airgap.domain.model.rate_limit import RateLimits
from airgap.domain.model.users import ApiKey, User
from airgap.domain.services.monitoring import (
    CacheStats,
    QueueStats,
    SearchStats,
    TransferStats,
    WorkerStats,
)

# Text that reaches the database: no NUL or other control characters.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=_PRINTABLE)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=255, pattern=_PRINTABLE)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
Priority = Annotated[int, msgspec.Meta(ge=1, le=10)]
ProfileName = Literal["basic", "premium", "enterprise", "admin"]
RoleName = Literal["user", "operator", "admin"]
Scope = Literal["*", "read", "admin"]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]

PREVIEW_HITS = 10


# --- request bodies -----------------------------------------------------------------------------


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    username: Name
    password: Password


class RefreshBody(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Token


class NewApiKeyBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=3)] = msgspec.field(
        default_factory=lambda: ["*"]
    )
    expires_at: AwareDatetime | None = None


class RateLimitsBody(msgspec.Struct, forbid_unknown_fields=True):
    """Requests per window; null (or absent) means that window is unlimited."""

    per_minute: Limit | None = None
    per_hour: Limit | None = None
    per_day: Limit | None = None

    def to_domain(self) -> RateLimits:
        return RateLimits(self.per_minute, self.per_hour, self.per_day)


class NewUserBody(msgspec.Struct, forbid_unknown_fields=True):
    username: Name
    email: Email
    password: Password
    profile_type: ProfileName = "basic"
    role: RoleName = "user"
    full_name: Annotated[str, msgspec.Meta(max_length=255, pattern=_PRINTABLE)] | None = None


class UpdateUserBody(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change. A new ``profile_type`` brings its default limits and
    priority unless ``rate_limits`` or ``priority`` are given as well."""

    email: Email | None = None
    full_name: Annotated[str, msgspec.Meta(max_length=255, pattern=_PRINTABLE)] | None = None
    profile_type: ProfileName | None = None
    rate_limits: RateLimitsBody | None = None
    priority: Priority | None = None
    role: RoleName | None = None


class ResetPasswordBody(msgspec.Struct, forbid_unknown_fields=True):
    """Leave ``password`` out to have one generated (shown once in the answer)."""

    password: Password | None = None


class WarmBody(msgspec.Struct, forbid_unknown_fields=True):
    """A query as users submit it (``query_type`` and the ``query_params`` template)."""

    query_type: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    query_params: dict[str, Any]


# --- views --------------------------------------------------------------------------------------


class TokenPairView(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class RateLimitsView(msgspec.Struct):
    per_minute: int | None
    per_hour: int | None
    per_day: int | None


class UserView(msgspec.Struct):
    id: uuid.UUID
    username: str
    email: str
    full_name: str | None
    profile_type: str
    role: str
    is_active: bool
    rate_limits: RateLimitsView
    priority: int
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    last_login: datetime | None


def user_view(user: User) -> UserView:
    limits = user.rate_limits
    return UserView(
        id=user.id,
        username=user.username,
        email=user.email,
        full_name=user.full_name,
        profile_type=user.profile_type.value,
        role=user.role.value,
        is_active=user.is_active,
        rate_limits=RateLimitsView(limits.per_minute, limits.per_hour, limits.per_day),
        priority=user.priority,
        version=user.version,
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_login=user.last_login,
    )


class PasswordResetView(msgspec.Struct):
    user: UserView
    temporary_password: str | None


class ApiKeyView(msgspec.Struct):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    is_active: bool


def api_key_view(key: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=sorted(key.scopes),
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        is_active=key.is_active,
    )


class NewApiKeyView(msgspec.Struct):
    key: ApiKeyView
    secret: str  # shown once


class JobView(msgspec.Struct):
    """An incoming request (a query job)."""

    id: uuid.UUID
    request_id: uuid.UUID
    user_id: uuid.UUID
    query_type: str
    query_params: dict[str, Any]
    query_hash: str
    priority: int
    status: str
    attempts: int
    assigned_worker: str | None
    created_at: datetime
    expires_at: datetime
    imported_at: datetime
    import_batch_id: uuid.UUID
    import_batch_sequence: int
    lease_expires_at: datetime | None
    next_attempt_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None


def job_view(job: QueryJob) -> JobView:
    return JobView(
        id=job.id,
        request_id=job.request_id,
        user_id=job.user_id,
        query_type=job.query_type,
        query_params=dict(job.query_params),
        query_hash=job.query_hash,
        priority=job.priority,
        status=job.status.value,
        attempts=job.attempts,
        assigned_worker=job.assigned_worker,
        created_at=job.created_at,
        expires_at=job.expires_at,
        imported_at=job.imported_at,
        import_batch_id=job.import_batch_id,
        import_batch_sequence=job.import_batch_sequence,
        lease_expires_at=job.lease_expires_at,
        next_attempt_at=job.next_attempt_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
        error_message=job.error_message,
    )


class ResultSummaryView(msgspec.Struct):
    id: uuid.UUID
    job_id: uuid.UUID
    request_id: uuid.UUID
    status: str
    backend: str
    index: str
    executed_at: datetime
    result_count: int | None
    execution_time_ms: int | None
    took_ms: int | None
    cache_hit: bool
    error: str | None
    query_hash: str
    request_batch_id: uuid.UUID
    request_batch_sequence: int
    exported_at: datetime | None
    export_batch_id: uuid.UUID | None


def result_summary(result: QueryResult) -> ResultSummaryView:
    return ResultSummaryView(
        id=result.id,
        job_id=result.job_id,
        request_id=result.request_id,
        status=result.status,
        backend=result.backend,
        index=result.index,
        executed_at=result.executed_at,
        result_count=result.result_count,
        execution_time_ms=result.execution_time_ms,
        took_ms=result.took_ms,
        cache_hit=result.cache_hit,
        error=result.error,
        query_hash=result.query_hash,
        request_batch_id=result.request_batch_id,
        request_batch_sequence=result.request_batch_sequence,
        exported_at=result.exported_at,
        export_batch_id=result.export_batch_id,
    )


class JobDetailView(msgspec.Struct):
    job: JobView
    results: list[ResultSummaryView]


class PreviewView(msgspec.Struct):
    """The first hits and the aggregation names of an answer."""

    total: int | None
    hits: list[dict[str, Any]]
    aggregations: list[str]
    truncated: bool


class ExecutionView(msgspec.Struct):
    """How the answer was produced."""

    backend: str
    index: str
    executed_at: datetime
    execution_time_ms: int | None
    took_ms: int | None
    cache_hit: bool
    attempts: int | None
    worker: str | None
    queued_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    wait_ms: int | None  # from import to the start of the last attempt


class ResultDetailView(msgspec.Struct):
    result: ResultSummaryView
    preview: PreviewView | None
    execution: ExecutionView
    metadata: dict[str, Any]
    result_data: dict[str, Any] | None  # only with ?include_data=true


def preview_of(data: Mapping[str, Any] | None, count: int | None) -> PreviewView | None:
    if data is None:
        return None
    hits_part = data.get("hits")
    raw_hits = hits_part.get("hits") if isinstance(hits_part, Mapping) else None
    hits = [dict(h) for h in raw_hits[:PREVIEW_HITS]] if isinstance(raw_hits, list) else []
    aggregations = data.get("aggregations")
    names = sorted(aggregations) if isinstance(aggregations, Mapping) else []
    listed = len(raw_hits) if isinstance(raw_hits, list) else 0
    return PreviewView(count, hits, names, listed > PREVIEW_HITS)


def result_detail(
    result: QueryResult, job: QueryJob | None, *, include_data: bool
) -> ResultDetailView:
    wait_ms = None
    if job is not None and job.started_at is not None:
        wait_ms = max(int((job.started_at - job.imported_at).total_seconds() * 1000), 0)
    return ResultDetailView(
        result=result_summary(result),
        preview=preview_of(result.result_data, result.result_count),
        execution=ExecutionView(
            backend=result.backend,
            index=result.index,
            executed_at=result.executed_at,
            execution_time_ms=result.execution_time_ms,
            took_ms=result.took_ms,
            cache_hit=result.cache_hit,
            attempts=job.attempts if job else None,
            worker=job.assigned_worker if job else None,
            queued_at=job.imported_at if job else None,
            started_at=job.started_at if job else None,
            completed_at=job.completed_at if job else None,
            wait_ms=wait_ms,
        ),
        metadata=dict(result.metadata),
        result_data=dict(result.result_data) if include_data and result.result_data else None,
    )


class CacheEntryView(msgspec.Struct):
    key: str
    index: str
    result_count: int
    took_ms: int | None
    has_aggregations: bool
    hit_count: int
    stored_at: datetime
    expires_at: datetime
    last_hit_at: datetime | None
    ttl_seconds: float


def cache_entry_view(entry: CachedResult, now: datetime) -> CacheEntryView:
    return CacheEntryView(
        key=entry.key,
        index=entry.index,
        result_count=entry.result_count,
        took_ms=entry.took_ms,
        has_aggregations=entry.has_aggregations,
        hit_count=entry.hit_count,
        stored_at=entry.stored_at,
        expires_at=entry.expires_at,
        last_hit_at=entry.last_hit_at,
        ttl_seconds=max((entry.expires_at - now).total_seconds(), 0.0),
    )


class RemovedView(msgspec.Struct):
    removed: int


class RejectionView(msgspec.Struct):
    item_id: str
    reason: str


def _rejections(items: tuple[Rejection, ...]) -> list[RejectionView]:
    return [RejectionView(r.item_id, r.reason) for r in items]


class BatchView(msgspec.Struct, omit_defaults=False):
    """An export batch (this network wrote it) or an import batch (it arrived here)."""

    id: uuid.UUID
    direction: str  # "export" or "import"
    batch_id: uuid.UUID | None  # the id in the manifest (None: unreadable manifest)
    batch_type: str | None
    source_network: str | None
    destination_network: str | None
    sequence: int | None
    filename: str
    status: str
    created_at: datetime  # written (export) or received (import)
    record_count: int
    payload_sha256: str | None
    error_message: str | None
    # export only
    payload_size: int | None = None
    encrypted: bool | None = None
    signed: bool | None = None
    acknowledged_at: datetime | None = None
    resent_at: datetime | None = None
    remote_accepted: int | None = None
    remote_duplicates: int | None = None
    remote_rejections: list[RejectionView] | None = None
    # import only
    accepted: int | None = None
    duplicates: int | None = None
    rejections: list[RejectionView] | None = None


def export_batch_view(batch: ExportBatch) -> BatchView:
    return BatchView(
        id=batch.id,
        direction="export",
        batch_id=batch.id,
        batch_type=batch.batch_type.value,
        source_network=batch.channel.source.value,
        destination_network=batch.channel.destination.value,
        sequence=batch.sequence,
        filename=batch.filename,
        status=batch.status.value,
        created_at=batch.created_at,
        record_count=batch.record_count,
        payload_sha256=batch.payload_sha256 or None,
        error_message=batch.error_message,
        payload_size=batch.payload_size,
        encrypted=batch.encrypted,
        signed=batch.signed,
        acknowledged_at=batch.acknowledged_at,
        resent_at=batch.resent_at,
        remote_accepted=batch.remote_accepted,
        remote_duplicates=batch.remote_duplicates,
        remote_rejections=_rejections(batch.remote_rejections),
    )


def import_batch_view(batch: ImportBatch) -> BatchView:
    return BatchView(
        id=batch.id,
        direction="import",
        batch_id=batch.batch_id,
        batch_type=batch.batch_type.value if batch.batch_type else None,
        source_network=batch.source_network.value if batch.source_network else None,
        destination_network=(batch.source_network.other.value if batch.source_network else None),
        sequence=batch.sequence,
        filename=batch.filename,
        status=batch.status.value,
        created_at=batch.received_at,
        record_count=batch.record_count,
        payload_sha256=batch.payload_sha256,
        error_message=batch.error_message,
        accepted=batch.accepted,
        duplicates=batch.duplicates,
        rejections=_rejections(batch.rejections),
    )


class ReExportView(msgspec.Struct):
    batch: BatchView
    records: int
    task: str


class DeadLetterView(msgspec.Struct):
    id: uuid.UUID
    message_id: str
    queue_name: str
    actor_name: str
    args: list[Any]
    kwargs: dict[str, Any]
    error: str | None
    attempts: int
    failed_at: datetime
    retried_at: datetime | None


def dead_letter_view(letter: DeadLetter) -> DeadLetterView:
    return DeadLetterView(
        id=letter.id,
        message_id=letter.message_id,
        queue_name=letter.queue_name,
        actor_name=letter.actor_name,
        args=list(letter.args),
        kwargs=dict(letter.kwargs),
        error=letter.error,
        attempts=letter.attempts,
        failed_at=letter.failed_at,
        retried_at=letter.retried_at,
    )


class LogView(msgspec.Struct):
    id: int
    level: str
    component: str
    message: str
    created_at: datetime
    request_id: uuid.UUID | None
    details: dict[str, Any]


def log_view(record: SystemLogRecord) -> LogView:
    entry = record.entry
    return LogView(
        id=record.id,
        level=entry.level.value,
        component=entry.component,
        message=entry.message,
        created_at=entry.created_at,
        request_id=entry.request_id,
        details=dict(entry.details),
    )


# --- stats --------------------------------------------------------------------------------------


class StatusLineView(msgspec.Struct):
    status: str
    count: int
    oldest_imported_at: datetime | None
    oldest_age_seconds: float | None
    by_priority: dict[str, int]


class QueueStatsView(msgspec.Struct):
    statuses: list[StatusLineView]
    total: int
    waiting: int
    oldest_waiting_age_seconds: float | None
    measured_at: datetime


def queue_view(stats: QueueStats) -> QueueStatsView:
    return QueueStatsView(
        statuses=[
            StatusLineView(
                status=line.status,
                count=line.count,
                oldest_imported_at=line.oldest_imported_at,
                oldest_age_seconds=line.oldest_age_seconds,
                by_priority={str(p): n for p, n in line.by_priority.items()},
            )
            for line in stats.statuses
        ],
        total=stats.total,
        waiting=stats.waiting,
        oldest_waiting_age_seconds=stats.oldest_waiting_age_seconds,
        measured_at=stats.measured_at,
    )


class WorkerView(msgspec.Struct):
    worker: str
    alive: bool
    last_seen: datetime
    seconds_since_seen: float
    jobs_in_hand: int
    started_at: datetime | None
    queues: list[str]
    details: dict[str, Any]


class WorkerStatsView(msgspec.Struct):
    workers: list[WorkerView]
    alive: int
    jobs_in_hand: int
    processing_in_queue: int
    measured_at: datetime


def workers_view(stats: WorkerStats) -> WorkerStatsView:
    return WorkerStatsView(
        workers=[
            WorkerView(
                worker=line.heartbeat.worker,
                alive=line.alive,
                last_seen=line.heartbeat.last_seen,
                seconds_since_seen=round(line.seconds_since_seen, 3),
                jobs_in_hand=line.heartbeat.jobs_in_hand,
                started_at=line.heartbeat.started_at,
                queues=list(line.heartbeat.queues),
                details=dict(line.heartbeat.details),
            )
            for line in stats.workers
        ],
        alive=stats.alive,
        jobs_in_hand=stats.jobs_in_hand,
        processing_in_queue=stats.processing_in_queue,
        measured_at=stats.measured_at,
    )


class ExecutionSummaryView(msgspec.Struct):
    since: datetime
    executed: int
    completed: int
    failed: int
    cache_hits: int
    hit_ratio: float | None
    p50_ms: float | None
    p95_ms: float | None
    max_ms: int | None


def summary_view(summary: ExecutionSummary) -> ExecutionSummaryView:
    return ExecutionSummaryView(
        since=summary.since,
        executed=summary.executed,
        completed=summary.completed,
        failed=summary.failed,
        cache_hits=summary.cache_hits,
        hit_ratio=summary.hit_ratio,
        p50_ms=summary.p50_ms,
        p95_ms=summary.p95_ms,
        max_ms=summary.max_ms,
    )


class IndexView(msgspec.Struct):
    name: str
    doc_count: int | None
    latency_ms: float | None
    error: str | None


class SearchStatsView(msgspec.Struct):
    backend: str
    healthy: bool
    indices: list[IndexView]
    last_hour: ExecutionSummaryView
    measured_at: datetime


def search_view(stats: SearchStats) -> SearchStatsView:
    return SearchStatsView(
        backend=stats.backend,
        healthy=stats.healthy,
        indices=[IndexView(i.name, i.doc_count, i.latency_ms, i.error) for i in stats.indices],
        last_hour=summary_view(stats.recent),
        measured_at=stats.measured_at,
    )


class TopQueryView(msgspec.Struct):
    key: str
    index: str
    hit_count: int
    last_hit_at: datetime | None
    expires_at: datetime


class CacheStatsView(msgspec.Struct):
    entries: int
    approx_bytes: int | None
    hits: int | None
    misses: int | None
    hit_ratio: float | None  # of the queries executed over the last day
    last_day: ExecutionSummaryView
    top_queries: list[TopQueryView]
    measured_at: datetime


def cache_view(stats: CacheStats) -> CacheStatsView:
    return CacheStatsView(
        entries=stats.usage.entries,
        approx_bytes=stats.usage.approx_bytes,
        hits=stats.usage.hits,
        misses=stats.usage.misses,
        hit_ratio=stats.hit_ratio,
        last_day=summary_view(stats.recent),
        top_queries=[
            TopQueryView(e.key, e.index, e.hit_count, e.last_hit_at, e.expires_at)
            for e in stats.top
        ],
        measured_at=stats.measured_at,
    )


class ChannelOutView(msgspec.Struct):
    channel: str
    last_sequence: int
    last_sent_at: datetime | None
    users_version_sent: int
    acks_sent: list[list[int]] | None


class ChannelInView(msgspec.Struct):
    channel: str
    received: list[list[int]]
    highest: int
    missing: list[int]
    last_received_at: datetime | None
    ack_owed: bool


class QuarantinedView(msgspec.Struct):
    name: str
    reason: str
    quarantined_at: datetime
    size_bytes: int


class TransferStatsView(msgspec.Struct):
    outbound: ChannelOutView
    inbound: ChannelInView
    awaiting_ack: int
    unwritten: int
    oldest_unacknowledged_at: datetime | None
    quarantined: list[QuarantinedView]
    measured_at: datetime


def transfer_view(stats: TransferStats) -> TransferStatsView:
    state = stats.state
    out, inn = state.outbound, state.inbound
    return TransferStatsView(
        outbound=ChannelOutView(
            channel=out.channel.name,
            last_sequence=out.last_sequence,
            last_sent_at=out.last_sent_at,
            users_version_sent=out.users_version_sent,
            acks_sent=[list(r) for r in out.acks_sent.received] if out.acks_sent else None,
        ),
        inbound=ChannelInView(
            channel=inn.channel.name,
            received=[list(r) for r in inn.received.ranges],
            highest=inn.received.highest,
            missing=list(state.missing),
            last_received_at=inn.last_received_at,
            ack_owed=inn.ack_owed,
        ),
        awaiting_ack=state.awaiting_ack,
        unwritten=state.unwritten,
        oldest_unacknowledged_at=state.oldest_unacknowledged_at,
        quarantined=[
            QuarantinedView(f.name, f.reason, f.quarantined_at, f.size_bytes)
            for f in stats.quarantined
        ],
        measured_at=stats.measured_at,
    )
