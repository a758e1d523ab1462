"""Read models for the admin lists: pages of domain objects with filters and sorting.

Each list answers ``{items, total, limit, offset}`` (SPEC §10). A page and its total are read
in one read-only ``REPEATABLE READ`` transaction, so they agree even while workers write.
Sorting is by an allow-listed column, newest first by default, always ending with the id so
that paging is stable; the default sorts and the filters match the tables' indexes
(``idx_requests_user``, ``idx_requests_created``, ``idx_audit_created``, …).

These read outside the units of work on purpose: an admin list never locks anything and
never waits for a writer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    func,
    or_,
    select,
)

from airgap.adapters.postgres import tables
from airgap.adapters.postgres.transfer import (
    REQUEST_TRANSFER_TABLES,
    RESPONSE_TRANSFER_TABLES,
    TransferTables,
)
from airgap.adapters.postgres.translation import (
    audit_from,
    export_batch_from,
    import_batch_from,
    inbound_from,
    job_from,
    outbound_from,
    request_from,
    response_from,
    result_from,
    system_log_from,
    user_from,
)
from airgap.domain.model.audit import AuditEntry, SystemLogEntry
from airgap.domain.model.batching import (
    Channel,
    ExportBatch,
    ExportStatus,
    ImportBatch,
    InboundChannel,
    Network,
    OutboundChannel,
)
from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.requests import Response, SearchRequest
from airgap.domain.model.users import User

T = TypeVar("T")

MAX_LIMIT = 500


@attrs.frozen
class Page(Generic[T]):
    """One page of a list and the size of the whole list."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


@attrs.frozen
class AuditLogRow:
    """An audit entry and its id (audit entries have no id in the domain)."""

    id: int
    entry: AuditEntry


@attrs.frozen
class SystemLogRow:
    id: int
    entry: SystemLogEntry


@attrs.frozen
class DeadLetter:
    """A task message that exhausted its retries."""

    id: uuid.UUID
    message_id: str
    queue_name: str
    actor_name: str
    args: Sequence[Any]
    kwargs: Mapping[str, Any]
    options: Mapping[str, Any]
    error: str | None
    attempts: int
    failed_at: datetime
    retried_at: datetime | None


@attrs.frozen
class TransferStatus:
    """Both ends of this network's channels and what still waits for an acknowledgement
    (``GET /admin/transfer``, ``GET /stats/transfer``)."""

    outbound: OutboundChannel
    inbound: InboundChannel
    awaiting_ack: int
    unwritten: int
    oldest_unacknowledged_at: datetime | None

    @property
    def missing(self) -> tuple[int, ...]:
        """Sequence numbers from the other side that never arrived (below the highest)."""
        return self.inbound.received.missing()


class InvalidQuery(ValueError):
    """A bad page, sort or filter (the API answers 422)."""


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise InvalidQuery("offset must not be negative")


def _order(
    table: Table, sort: str, allowed: Sequence[str], id_column: str = "id"
) -> list[ColumnElement[Any]]:
    """``sort`` is a column name, ``-name`` for descending."""
    descending = sort.startswith("-")
    name = sort.removeprefix("-")
    if name not in allowed:
        raise InvalidQuery(f"cannot sort by {name!r}; choose one of {', '.join(allowed)}")
    column, tie = table.c[name], table.c[id_column]
    if descending:
        return [column.desc(), tie.desc()]
    return [column.asc(), tie.asc()]


def _page(
    connection: Connection,
    table: Table,
    where: Sequence[ColumnElement[bool]],
    order: Sequence[ColumnElement[Any]],
    limit: int,
    offset: int,
    translate: Callable[[Mapping[Any, Any]], T],
) -> Page[T]:
    _check_page(limit, offset)
    condition = and_(True, *where)
    total = connection.execute(select(func.count()).select_from(table).where(condition))
    rows = connection.execute(
        select(table).where(condition).order_by(*order).limit(limit).offset(offset)
    ).mappings()
    return Page(tuple(translate(r) for r in rows), total.scalar_one(), limit, offset)


def _between(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    where = []
    if since is not None:
        where.append(column >= since)
    if until is not None:
        where.append(column < until)
    return where


def _one_or_many(column: Any, value: str | Sequence[str] | None) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [column == value]
    return [column.in_(list(value))]


def _dead_letter(row: Mapping[Any, Any]) -> DeadLetter:
    return DeadLetter(
        id=row["id"],
        message_id=row["message_id"],
        queue_name=row["queue_name"],
        actor_name=row["actor_name"],
        args=tuple(row["args"] or ()),
        kwargs=dict(row["kwargs"] or {}),
        options=dict(row["options"] or {}),
        error=row["error"],
        attempts=row["attempts"],
        failed_at=row["failed_at"],
        retried_at=row["retried_at"],
    )


class _Queries:
    _transfer: TransferTables
    _users: Table
    _dead_letters: Table
    _network: Network

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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

    # --- shared lists -------------------------------------------------------------------------

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
        """Accounts; ``search`` matches the start of the username or the e-mail address,
        ignoring case."""
        t = self._users
        where: list[Any] = [*_one_or_many(t.c.profile_type, profile_type)]
        where += _one_or_many(t.c.role, role)
        if is_active is not None:
            where.append(t.c.is_active.is_(is_active))
        if search:
            pattern = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(or_(t.c.username.ilike(pattern), t.c.email.ilike(pattern)))
        order = _order(t, sort, ("username", "created_at", "updated_at", "version"))
        with self._read() as c:
            return _page(c, t, where, order, limit, offset, user_from)

    def export_batches(
        self,
        *,
        batch_type: str | None = None,
        status: str | Sequence[str] | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ExportBatch]:
        t = self._transfer.export_batches
        where = _one_or_many(t.c.batch_type, batch_type) + _one_or_many(t.c.status, status)
        order = _order(t, sort, ("created_at", "sequence", "status"))
        with self._read() as c:
            return _page(c, t, where, order, limit, offset, export_batch_from)

    def import_batches(
        self,
        *,
        batch_type: str | None = None,
        status: str | Sequence[str] | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ImportBatch]:
        t = self._transfer.import_batches
        where = _one_or_many(t.c.batch_type, batch_type) + _one_or_many(t.c.status, status)
        order = _order(t, sort, ("created_at", "sequence", "status"))
        with self._read() as c:
            return _page(c, t, where, order, limit, offset, import_batch_from)

    def export_batch(self, batch_id: uuid.UUID) -> ExportBatch | None:
        t = self._transfer.export_batches
        with self._read() as c:
            row = c.execute(select(t).where(t.c.id == batch_id)).mappings().first()
        return None if row is None else export_batch_from(row)

    def import_batch(self, import_id: uuid.UUID) -> ImportBatch | None:
        t = self._transfer.import_batches
        with self._read() as c:
            row = c.execute(select(t).where(t.c.id == import_id)).mappings().first()
        return None if row is None else import_batch_from(row)

    def transfer_status(self) -> TransferStatus:
        """Sequence numbers, acks and missing batches on this network's two channels."""
        out_channel = Channel.from_(self._network)
        in_channel = Channel.from_(self._network.other)
        tt = self._transfer
        with self._read() as c:
            out_row = self._channel_row(c, tt.outbound_channels, out_channel)
            in_row = self._channel_row(c, tt.inbound_channels, in_channel)
            b = tt.export_batches
            ours = and_(
                b.c.source_network == out_channel.source.value,
                b.c.destination_network == out_channel.destination.value,
            )
            waiting = c.execute(
                select(func.count(), func.min(b.c.created_at)).where(
                    ours, b.c.status == ExportStatus.COMPLETED.value
                )
            ).one()
            unwritten = c.execute(
                select(func.count()).where(ours, b.c.status == ExportStatus.PENDING.value)
            ).scalar_one()
        return TransferStatus(
            outbound=outbound_from(out_row) if out_row else OutboundChannel(out_channel),
            inbound=inbound_from(in_row) if in_row else InboundChannel(in_channel),
            awaiting_ack=waiting[0],
            unwritten=unwritten,
            oldest_unacknowledged_at=waiting[1],
        )

    @staticmethod
    def _channel_row(c: Connection, table: Table, channel: Channel) -> Mapping[Any, Any] | None:
        return (
            c.execute(
                select(table).where(
                    table.c.source_network == channel.source.value,
                    table.c.destination_network == channel.destination.value,
                )
            )
            .mappings()
            .first()
        )

    def dead_letters(
        self,
        *,
        actor_name: str | None = None,
        sort: str = "-failed_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[DeadLetter]:
        t = self._dead_letters
        where = _one_or_many(t.c.actor_name, actor_name)
        order = _order(t, sort, ("failed_at", "actor_name", "attempts"))
        with self._read() as c:
            return _page(c, t, where, order, limit, offset, _dead_letter)

    def _status_counts(self, table: Table) -> dict[str, int]:
        with self._read() as c:
            rows = c.execute(select(table.c.status, func.count()).group_by(table.c.status)).all()
        return {str(status): int(count) for status, count in rows}


class RequestNetworkQueries(_Queries):
    """The request network's admin lists and user-facing lists."""

    _transfer = REQUEST_TRANSFER_TABLES
    _users = tables.request_users
    _dead_letters = tables.request_dead_letters
    _network = Network.REQUEST

    def requests(
        self,
        *,
        user_id: uuid.UUID | None = None,
        status: str | Sequence[str] | None = None,
        query_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[SearchRequest]:
        """Requests (``GET /requests`` for one user, ``GET /admin/requests`` for all)."""
        t = tables.requests
        where: list[Any] = _one_or_many(t.c.status, status)
        where += _one_or_many(t.c.query_type, query_type)
        if user_id is not None:
            where.append(t.c.user_id == user_id)
        where += _between(t.c.created_at, since, until)
        order = _order(t, sort, ("created_at", "priority", "status", "expires_at"))
        with self._read() as c:
            return _page(c, t, where, order, limit, offset, request_from)

    def responses(
        self,
        *,
        user_id: uuid.UUID | None = None,
        status: str | None = None,
        sort: str = "-received_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Response]:
        """Answers received (``GET /responses``), optionally only those to one user's
        requests."""
        r, q = tables.responses, tables.requests
        where: list[Any] = _one_or_many(r.c.status, status)
        if user_id is not None:
            where.append(r.c.request_id.in_(select(q.c.id).where(q.c.user_id == user_id)))
        order = _order(r, sort, ("received_at", "status"), id_column="request_id")
        with self._read() as c:
            return _page(c, r, where, order, limit, offset, response_from)

    def audit_logs(
        self,
        *,
        user_id: uuid.UUID | None = None,
        action: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[AuditLogRow]:
        t = tables.audit_logs
        where: list[Any] = _one_or_many(t.c.action, action)
        if user_id is not None:
            where.append(t.c.user_id == user_id)
        where += _one_or_many(t.c.resource_type, resource_type)
        where += _one_or_many(t.c.resource_id, resource_id)
        where += _between(t.c.created_at, since, until)
        order = _order(t, sort, ("created_at", "action"))
        with self._read() as c:
            return _page(
                c, t, where, order, limit, offset, lambda r: AuditLogRow(r["id"], audit_from(r))
            )

    def request_counts(self) -> dict[str, int]:
        """How many requests are in each status (``GET /admin/stats``)."""
        return self._status_counts(tables.requests)


class ResponseNetworkQueries(_Queries):
    """The response network's monitoring lists."""

    _transfer = RESPONSE_TRANSFER_TABLES
    _users = tables.response_users
    _dead_letters = tables.response_dead_letters
    _network = Network.RESPONSE

    def jobs(
        self,
        *,
        status: str | Sequence[str] | None = None,
        user_id: uuid.UUID | None = None,
        import_batch_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-imported_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[QueryJob]:
        """Incoming requests (``GET /incoming-requests``)."""
        t = tables.incoming_requests
        where: list[Any] = _one_or_many(t.c.status, status)
        if user_id is not None:
            where.append(t.c.user_id == user_id)
        if import_batch_id is not None:
            where.append(t.c.import_batch_id == import_batch_id)
        where += _between(t.c.imported_at, since, until)
        order = _order(t, sort, ("imported_at", "priority", "status", "attempts"))
        with self._read() as c:
            return _page(c, t, where, order, limit, offset, job_from)

    def job(self, job_id: uuid.UUID) -> QueryJob | None:
        t = tables.incoming_requests
        with self._read() as c:
            row = c.execute(select(t).where(t.c.id == job_id)).mappings().first()
        return None if row is None else job_from(row)

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
        """Query results (``GET /results``)."""
        t = tables.query_results
        where: list[Any] = _one_or_many(t.c.status, status)
        if exported is not None:
            where.append(
                t.c.export_batch_id.is_not(None) if exported else t.c.export_batch_id.is_(None)
            )
        if cache_hit is not None:
            where.append(t.c.cache_hit.is_(cache_hit))
        where += _one_or_many(t.c.index_name, index)
        where += _between(t.c.executed_at, since, until)
        order = _order(t, sort, ("executed_at", "execution_time_ms", "status"))
        with self._read() as c:
            return _page(c, t, where, order, limit, offset, result_from)

    def result(self, result_id: uuid.UUID) -> QueryResult | None:
        t = tables.query_results
        with self._read() as c:
            row = c.execute(select(t).where(t.c.id == result_id)).mappings().first()
        return None if row is None else result_from(row)

    def system_logs(
        self,
        *,
        level: str | Sequence[str] | None = None,
        component: str | None = None,
        request_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[SystemLogRow]:
        """``GET /logs``."""
        t = tables.system_logs
        where: list[Any] = _one_or_many(t.c.level, level)
        where += _one_or_many(t.c.component, component)
        if request_id is not None:
            where.append(t.c.request_id == request_id)
        where += _between(t.c.created_at, since, until)
        order = _order(t, sort, ("created_at", "level", "component"))
        with self._read() as c:
            return _page(
                c,
                t,
                where,
                order,
                limit,
                offset,
                lambda r: SystemLogRow(r["id"], system_log_from(r)),
            )

    def job_counts(self) -> dict[str, int]:
        """How many jobs are in each status (``GET /stats/queue``)."""
        return self._status_counts(tables.incoming_requests)
