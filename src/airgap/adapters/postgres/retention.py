"""Retention on the request network's database: closed requests created before a cutoff
are handed to the archive and deleted (their answers go with them, ``ON DELETE CASCADE``),
one chunk per transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine, delete, select

from airgap.adapters.postgres import tables
from airgap.adapters.postgres.translation import request_from, response_from
from airgap.domain.model.requests import RequestStatus
from airgap.ports.retention import ArchivedRequest

_CLOSED = (
    RequestStatus.COMPLETED.value,
    RequestStatus.FAILED.value,
    RequestStatus.CANCELLED.value,
)


class PostgresRequestRetention:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def archive_closed_before(
        self,
        cutoff: datetime,
        *,
        chunk: int,
        keep: Callable[[Sequence[ArchivedRequest]], None],
    ) -> int:
        r, a = tables.requests, tables.responses
        choose = (
            select(r)
            .where(r.c.status.in_(_CLOSED), r.c.created_at < cutoff)
            .order_by(r.c.created_at, r.c.id)
            .limit(chunk)
            # Two cleanups at once take different chunks instead of waiting for each other.
            .with_for_update(skip_locked=True)
        )
        total = 0
        while True:
            with self._engine.begin() as connection:
                requests = [request_from(row) for row in connection.execute(choose).mappings()]
                if not requests:
                    return total
                ids = [request.id for request in requests]
                answers = {
                    row["request_id"]: response_from(row)
                    for row in connection.execute(select(a).where(a.c.request_id.in_(ids)))
                    .mappings()
                    .all()
                }
                keep([ArchivedRequest(q, answers.get(q.id)) for q in requests])
                connection.execute(delete(r).where(r.c.id.in_(ids)))
            total += len(requests)
            if len(requests) < chunk:
                return total
