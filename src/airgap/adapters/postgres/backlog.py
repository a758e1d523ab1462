"""Cheap counts of waiting work, and which requests a results batch answered.

Each count is ``SELECT count(*) FROM (SELECT 1 … LIMIT n)``: PostgreSQL stops at ``n`` rows
of the partial index that serves the query (``idx_requests_pending``,
``idx_results_unexported``, ``idx_incoming_priority``), so a trigger that runs after every
submit costs a fraction of a millisecond whatever the size of the table.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Select, func, select

from airgap.adapters.postgres import tables
from airgap.domain.model.jobs import JobStatus
from airgap.domain.model.requests import RequestStatus

_OPEN_JOBS = (JobStatus.PENDING.value, JobStatus.RETRY.value, JobStatus.PROCESSING.value)


def _capped_count(engine: Engine, inner: Select[Any], up_to: int) -> int:
    if up_to <= 0:
        return 0
    statement = select(func.count()).select_from(inner.limit(up_to).subquery())
    with engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


class PostgresRequestBacklog:
    """``RequestBacklog`` and ``AnsweredRequests`` on the request network's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def pending_requests(self, up_to: int) -> int:
        t = tables.requests
        inner = select(t.c.id).where(t.c.status == RequestStatus.PENDING.value)
        return _capped_count(self._engine, inner, up_to)

    def answered_in(self, import_batch_id: uuid.UUID) -> Sequence[uuid.UUID]:
        t = tables.responses
        statement = select(t.c.request_id).where(t.c.import_batch_id == import_batch_id)
        with self._engine.connect() as connection:
            return [row[0] for row in connection.execute(statement)]


class PostgresResponseBacklog:
    """``ResponseBacklog`` on the response network's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def unexported_results(self, up_to: int) -> int:
        t = tables.query_results
        inner = select(t.c.id).where(t.c.export_batch_id.is_(None))
        return _capped_count(self._engine, inner, up_to)

    def open_jobs(self) -> int:
        t = tables.incoming_requests
        statement = select(func.count()).where(t.c.status.in_(_OPEN_JOBS))
        with self._engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())
