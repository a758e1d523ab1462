"""The response network's read side for monitoring and operations (the
``ResponseNetworkReadModel`` port) on PostgreSQL.

The lists are :class:`~airgap.adapters.postgres.read_models.ResponseNetworkQueries`' (one
read-only ``REPEATABLE READ`` transaction per page, allow-listed sorts); this module turns
their pages into the domain's, their ``InvalidQuery`` into ``ValidationFailed``, and adds the
queries monitoring needs: the queue by status and priority, the results of one job, and the
execution summary (percentiles by ``percentile_cont``, over ``idx_results_executed``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, func, select

from airgap.adapters.postgres import tables
from airgap.adapters.postgres.read_models import InvalidQuery, ResponseNetworkQueries
from airgap.adapters.postgres.read_models import Page as RowsPage
from airgap.adapters.postgres.translation import result_from
from airgap.domain.model.batching import ExportBatch, ImportBatch
from airgap.domain.model.errors import ValidationFailed
from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.operations import (
    ExecutionSummary,
    Page,
    QueueBucket,
    SystemLogRecord,
    TransferState,
)
from airgap.domain.model.users import User

T = TypeVar("T")
P = ParamSpec("P")


def _page(found: RowsPage[T]) -> Page[T]:
    return Page(found.items, found.total, found.limit, found.offset)


def _checked(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return call(*args, **kwargs)
    except InvalidQuery as error:
        raise ValidationFailed(str(error)) from None


class PostgresResponseReadModel:
    """``ResponseNetworkReadModel`` on the response network's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lists = ResponseNetworkQueries(engine)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as opened:
            connection = opened.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            try:
                yield connection
            finally:
                connection.rollback()

    # --- monitoring ---------------------------------------------------------------------------

    def queue(self) -> Sequence[QueueBucket]:
        t = tables.incoming_requests
        statement = (
            select(t.c.status, t.c.priority, func.count(), func.min(t.c.imported_at))
            .group_by(t.c.status, t.c.priority)
            .order_by(t.c.status, t.c.priority)
        )
        with self._read() as c:
            rows = c.execute(statement).all()
        return [QueueBucket(str(s), int(p), int(n), oldest) for s, p, n, oldest in rows]

    def execution_summary(self, since: datetime) -> ExecutionSummary:
        t = tables.query_results
        took = t.c.execution_time_ms
        statement = select(
            func.count(),
            func.count().filter(t.c.status == "completed"),
            func.count().filter(t.c.status == "failed"),
            func.count().filter(t.c.cache_hit.is_(True)),
            func.percentile_cont(0.5).within_group(took),
            func.percentile_cont(0.95).within_group(took),
            func.max(took),
        ).where(t.c.executed_at >= since)
        with self._read() as c:
            n, completed, failed, hits, p50, p95, longest = c.execute(statement).one()
        return ExecutionSummary(
            since=since,
            executed=int(n),
            completed=int(completed),
            failed=int(failed),
            cache_hits=int(hits),
            p50_ms=None if p50 is None else float(p50),
            p95_ms=None if p95 is None else float(p95),
            max_ms=None if longest is None else int(longest),
        )

    def results_of_job(self, job_id: uuid.UUID) -> Sequence[QueryResult]:
        t = tables.query_results
        statement = (
            select(t)
            .where(t.c.request_id == job_id)
            .order_by(t.c.executed_at.desc(), t.c.id.desc())
        )
        with self._read() as c:
            return [result_from(r) for r in c.execute(statement).mappings()]

    def transfer(self) -> TransferState:
        status = self._lists.transfer_status()
        return TransferState(
            outbound=status.outbound,
            inbound=status.inbound,
            awaiting_ack=status.awaiting_ack,
            unwritten=status.unwritten,
            oldest_unacknowledged_at=status.oldest_unacknowledged_at,
        )

    # --- lists --------------------------------------------------------------------------------

    def jobs(
        self,
        *,
        status: str | None = None,
        user_id: uuid.UUID | None = None,
        import_batch_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-imported_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[QueryJob]:
        return _page(
            _checked(
                self._lists.jobs,
                status=status,
                user_id=user_id,
                import_batch_id=import_batch_id,
                since=since,
                until=until,
                sort=sort,
                limit=limit,
                offset=offset,
            )
        )

    def job(self, job_id: uuid.UUID) -> QueryJob | None:
        return self._lists.job(job_id)

    def results(
        self,
        *,
        status: str | None = None,
        exported: bool | None = None,
        cache_hit: bool | None = None,
        index: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-executed_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[QueryResult]:
        return _page(
            _checked(
                self._lists.results,
                status=status,
                exported=exported,
                cache_hit=cache_hit,
                index=index,
                since=since,
                until=until,
                sort=sort,
                limit=limit,
                offset=offset,
            )
        )

    def result(self, result_id: uuid.UUID) -> QueryResult | None:
        return self._lists.result(result_id)

    def system_logs(
        self,
        *,
        level: str | None = None,
        component: str | None = None,
        request_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[SystemLogRecord]:
        found = _checked(
            self._lists.system_logs,
            level=level,
            component=component,
            request_id=request_id,
            since=since,
            until=until,
            sort=sort,
            limit=limit,
            offset=offset,
        )
        records = tuple(SystemLogRecord(row.id, row.entry) for row in found.items)
        return Page(records, found.total, found.limit, found.offset)

    def export_batches(
        self,
        *,
        batch_type: str | None = None,
        status: str | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ExportBatch]:
        return _page(
            _checked(
                self._lists.export_batches,
                batch_type=batch_type,
                status=status,
                sort=sort,
                limit=limit,
                offset=offset,
            )
        )

    def import_batches(
        self,
        *,
        batch_type: str | None = None,
        status: str | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ImportBatch]:
        return _page(
            _checked(
                self._lists.import_batches,
                batch_type=batch_type,
                status=status,
                sort=sort,
                limit=limit,
                offset=offset,
            )
        )

    def export_batch(self, batch_id: uuid.UUID) -> ExportBatch | None:
        return self._lists.export_batch(batch_id)

    def import_batch(self, import_id: uuid.UUID) -> ImportBatch | None:
        return self._lists.import_batch(import_id)

    def users(
        self,
        *,
        profile_type: str | None = None,
        role: str | None = None,
        is_active: bool | None = None,
        search: str | None = None,
        sort: str = "username",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[User]:
        return _page(
            _checked(
                self._lists.users,
                profile_type=profile_type,
                role=role,
                is_active=is_active,
                search=search,
                sort=sort,
                limit=limit,
                offset=offset,
            )
        )
