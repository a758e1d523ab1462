"""Operations: incoming requests, results, the cache, batches, dead letters and the system
log. Operators read; admins act (retry, re-export, invalidate, warm, discard)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, post
from litestar.pagination import OffsetPagination
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from airgap.domain.model.errors import NotFound
from airgap.domain.services.admin_audit import Actor
from airgap.domain.services.operations import Operations
from airgap.entrypoints.http.common.auth import principal_of
from airgap.entrypoints.http.common.di import Injected
from airgap.entrypoints.http.common.errors import error_responses
from airgap.entrypoints.http.common.openapi import AUTHENTICATED
from airgap.entrypoints.http.common.pagination import PageParams, page_of
from airgap.entrypoints.http.response_network.params import (
    Since,
    Sort,
    Text,
    Until,
    bounded,
    text,
    utc,
)
from airgap.entrypoints.http.response_network.schemas import (
    BatchView,
    CacheEntryView,
    DeadLetterView,
    JobDetailView,
    JobView,
    LogView,
    ReExportView,
    RemovedView,
    ResultDetailView,
    ResultSummaryView,
    WarmBody,
    cache_entry_view,
    dead_letter_view,
    export_batch_view,
    import_batch_view,
    job_view,
    log_view,
    result_detail,
    result_summary,
)
from airgap.entrypoints.http.response_network.security import ACT, READ
from airgap.ports.cache_admin import QueryCacheInspector
from airgap.ports.clock import Clock
from airgap.ports.dead_letters import DeadLetters
from airgap.ports.operations import ResponseNetworkReadModel

JobStatusName = Literal["pending", "processing", "retry", "completed", "failed"]
AnswerStatus = Literal["completed", "failed"]
BatchTypeName = Literal["requests", "responses", "users", "system"]
LevelName = Literal["debug", "info", "warning", "error", "critical"]
CacheKey = Annotated[str, PathParameter(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9:_-]+$")]


def actor(request: Request[Any, Any, Any]) -> Actor:
    return Actor.of(principal_of(request))


class IncomingRequestController(Controller):
    path = "/api/v1/incoming-requests"
    tags = ["incoming requests"]  # noqa: RUF012 - Litestar reads it as a class attribute
    security = AUTHENTICATED

    @get("/", guards=[READ], sync_to_thread=True, responses=error_responses(401, 403, 422))
    def list_jobs(
        self,
        read: Injected[ResponseNetworkReadModel],
        page: Injected[PageParams],
        status: FromQuery[JobStatusName | None] = None,
        user_id: FromQuery[uuid.UUID | None] = None,
        import_batch_id: FromQuery[uuid.UUID | None] = None,
        since: Since = None,
        until: Until = None,
        sort: Sort = None,
    ) -> OffsetPagination[JobView]:
        """Imported requests, newest first; sort by imported_at, priority, status,
        attempts."""
        page = bounded(page)
        found = read.jobs(
            status=status,
            user_id=user_id,
            import_batch_id=import_batch_id,
            since=utc(since),
            until=utc(until),
            sort=sort or "-imported_at",
            limit=page.limit,
            offset=page.offset,
        )
        return page_of([job_view(j) for j in found.items], found.total, page)

    @get(
        "/{job_id:uuid}",
        guards=[READ],
        sync_to_thread=True,
        responses=error_responses(401, 403, 404),
    )
    def get_job(
        self, job_id: FromPath[uuid.UUID], read: Injected[ResponseNetworkReadModel]
    ) -> JobDetailView:
        """One incoming request and every result it produced (newest first)."""
        job = read.job(job_id)
        if job is None:
            raise NotFound("incoming request not found")
        return JobDetailView(
            job_view(job), [result_summary(r) for r in read.results_of_job(job_id)]
        )

    @post(
        "/{job_id:uuid}/retry",
        guards=[ACT],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=error_responses(401, 403, 404, 409),
    )
    def retry_job(
        self,
        request: Request[Any, Any, Any],
        job_id: FromPath[uuid.UUID],
        operations: Injected[Operations],
    ) -> JobView:
        """Put a failed request back in the queue with fresh attempts. Refused (409) when its
        failure has already been exported: the request network has closed the request."""
        return job_view(operations.retry_job(job_id, actor(request)))


class ResultController(Controller):
    path = "/api/v1/results"
    tags = ["results"]  # noqa: RUF012
    guards = [READ]  # noqa: RUF012
    security = AUTHENTICATED

    @get("/", sync_to_thread=True, responses=error_responses(401, 403, 422))
    def list_results(
        self,
        read: Injected[ResponseNetworkReadModel],
        page: Injected[PageParams],
        status: FromQuery[AnswerStatus | None] = None,
        exported: FromQuery[bool | None] = None,
        cache_hit: FromQuery[bool | None] = None,
        index: Text = None,
        since: Since = None,
        until: Until = None,
        sort: Sort = None,
    ) -> OffsetPagination[ResultSummaryView]:
        """Query results, newest first; sort by executed_at, execution_time_ms, status."""
        page = bounded(page)
        found = read.results(
            status=status,
            exported=exported,
            cache_hit=cache_hit,
            index=text(index),
            since=utc(since),
            until=utc(until),
            sort=sort or "-executed_at",
            limit=page.limit,
            offset=page.offset,
        )
        return page_of([result_summary(r) for r in found.items], found.total, page)

    @get("/{result_id:uuid}", sync_to_thread=True, responses=error_responses(401, 403, 404))
    def get_result(
        self,
        result_id: FromPath[uuid.UUID],
        read: Injected[ResponseNetworkReadModel],
        include_data: Annotated[
            bool, QueryParameter(description="Include the whole answer (may be large).")
        ] = False,
    ) -> ResultDetailView:
        """A result with a preview of its hits and how it was executed."""
        result = read.result(result_id)
        if result is None:
            raise NotFound("result not found")
        return result_detail(result, read.job(result.job_id), include_data=include_data)


class CacheController(Controller):
    path = "/api/v1/cache"
    tags = ["cache"]  # noqa: RUF012
    security = AUTHENTICATED

    @get("/", guards=[READ], sync_to_thread=True, responses=error_responses(401, 403, 422))
    def list_entries(
        self,
        cache_inspector: Injected[QueryCacheInspector],
        clock: Injected[Clock],
        page: Injected[PageParams],
        index: Text = None,
    ) -> OffsetPagination[CacheEntryView]:
        """Fresh cache entries, most hit first."""
        page = bounded(page)
        now = clock.now()
        found = cache_inspector.entries(
            now, index=text(index), limit=page.limit, offset=page.offset
        )
        return page_of([cache_entry_view(e, now) for e in found.items], found.total, page)

    @delete(
        "/{key:str}",
        guards=[ACT],
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        responses=error_responses(401, 403, 404, 422),
    )
    def invalidate_entry(
        self, request: Request[Any, Any, Any], key: CacheKey, operations: Injected[Operations]
    ) -> None:
        """Drop one entry (its key, as listed)."""
        operations.invalidate_cache_entry(key, actor(request))

    @delete(
        "/",
        guards=[ACT],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=error_responses(401, 403, 422),
    )
    def invalidate_many(
        self, request: Request[Any, Any, Any], operations: Injected[Operations], index: Text = None
    ) -> RemovedView:
        """Drop every entry of ``index``, or every entry when no index is given."""
        who = actor(request)
        if index is not None:
            return RemovedView(operations.invalidate_cache_index(text(index) or "", who))
        return RemovedView(operations.clear_cache(who))

    @post(
        "/warm",
        guards=[ACT],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=error_responses(401, 403, 422, 503),
    )
    def warm(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[WarmBody],
        operations: Injected[Operations],
        clock: Injected[Clock],
    ) -> CacheEntryView:
        """Run a query now (checked by the query policy) and cache its answer."""
        warmed = operations.warm_cache(data.query_type, data.query_params, actor(request))
        return cache_entry_view(warmed.entry, clock.now())


class BatchController(Controller):
    path = "/api/v1/batches"
    tags = ["batches"]  # noqa: RUF012
    security = AUTHENTICATED

    @get("/", guards=[READ], sync_to_thread=True, responses=error_responses(401, 403, 422))
    def list_batches(
        self,
        read: Injected[ResponseNetworkReadModel],
        page: Injected[PageParams],
        direction: FromQuery[Literal["import", "export"]],
        batch_type: FromQuery[BatchTypeName | None] = None,
        status: Annotated[str | None, QueryParameter(max_length=20, pattern=r"^[a-z]+$")] = None,
        sort: Sort = None,
    ) -> OffsetPagination[BatchView]:
        """Batches this network wrote (``export``) or found in its inbox (``import``),
        newest first; sort by created_at, sequence, status."""
        page = bounded(page)
        if direction == "export":
            exported = read.export_batches(
                batch_type=batch_type,
                status=status,
                sort=sort or "-created_at",
                limit=page.limit,
                offset=page.offset,
            )
            return page_of([export_batch_view(b) for b in exported.items], exported.total, page)
        imported = read.import_batches(
            batch_type=batch_type,
            status=status,
            sort=sort or "-created_at",
            limit=page.limit,
            offset=page.offset,
        )
        return page_of([import_batch_view(b) for b in imported.items], imported.total, page)

    @get(
        "/{batch_id:uuid}",
        guards=[READ],
        sync_to_thread=True,
        responses=error_responses(401, 403, 404),
    )
    def get_batch(
        self, batch_id: FromPath[uuid.UUID], read: Injected[ResponseNetworkReadModel]
    ) -> BatchView:
        """An export batch by its id, or an import batch by its record id."""
        exported = read.export_batch(batch_id)
        if exported is not None:
            return export_batch_view(exported)
        imported = read.import_batch(batch_id)
        if imported is not None:
            return import_batch_view(imported)
        raise NotFound("batch not found")

    @post(
        "/{batch_id:uuid}/re-export",
        guards=[ACT],
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
        responses=error_responses(401, 403, 404, 409),
    )
    def reexport(
        self,
        request: Request[Any, Any, Any],
        batch_id: FromPath[uuid.UUID],
        operations: Injected[Operations],
    ) -> ReExportView:
        """Send an export batch's contents again in a new batch (results not acknowledged,
        or a full users snapshot); the export task is asked to run now."""
        outcome = operations.reexport_batch(batch_id, actor(request))
        return ReExportView(export_batch_view(outcome.batch), outcome.records, outcome.task)


class DeadLetterController(Controller):
    path = "/api/v1/dead-letters"
    tags = ["dead letters"]  # noqa: RUF012
    security = AUTHENTICATED

    @get("/", guards=[READ], sync_to_thread=True, responses=error_responses(401, 403, 422))
    def list_letters(
        self,
        dead_letters: Injected[DeadLetters],
        page: Injected[PageParams],
        actor_name: Text = None,
        retried: FromQuery[bool | None] = None,
    ) -> OffsetPagination[DeadLetterView]:
        """Task messages that exhausted their retries, newest first."""
        page = bounded(page)
        found = dead_letters.page(
            actor_name=text(actor_name), retried=retried, limit=page.limit, offset=page.offset
        )
        return page_of([dead_letter_view(x) for x in found.items], found.total, page)

    @post(
        "/{letter_id:uuid}/retry",
        guards=[ACT],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=error_responses(401, 403, 404, 409),
    )
    def retry_letter(
        self,
        request: Request[Any, Any, Any],
        letter_id: FromPath[uuid.UUID],
        operations: Injected[Operations],
    ) -> DeadLetterView:
        """Send the message again, once."""
        return dead_letter_view(operations.retry_dead_letter(letter_id, actor(request)))

    @delete(
        "/{letter_id:uuid}",
        guards=[ACT],
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        responses=error_responses(401, 403, 404),
    )
    def discard_letter(
        self,
        request: Request[Any, Any, Any],
        letter_id: FromPath[uuid.UUID],
        operations: Injected[Operations],
    ) -> None:
        """Drop the message (its contents stay in the audit entry)."""
        operations.discard_dead_letter(letter_id, actor(request))


class LogController(Controller):
    path = "/api/v1/logs"
    tags = ["logs"]  # noqa: RUF012
    guards = [READ]  # noqa: RUF012
    security = AUTHENTICATED

    @get("/", sync_to_thread=True, responses=error_responses(401, 403, 422))
    def list_logs(
        self,
        read: Injected[ResponseNetworkReadModel],
        page: Injected[PageParams],
        level: FromQuery[LevelName | None] = None,
        component: Text = None,
        request_id: FromQuery[uuid.UUID | None] = None,
        since: Since = None,
        until: Until = None,
        sort: Sort = None,
    ) -> OffsetPagination[LogView]:
        """The system log (imports, failures, and the audit trail: component ``audit``),
        newest first; sort by created_at, level, component."""
        page = bounded(page)
        found = read.system_logs(
            level=level,
            component=text(component),
            request_id=request_id,
            since=utc(since),
            until=utc(until),
            sort=sort or "-created_at",
            limit=page.limit,
            offset=page.offset,
        )
        return page_of([log_view(r) for r in found.items], found.total, page)
