"""Dead letters in PostgreSQL: task messages that exhausted their retries (SPEC §11).

Both networks keep a ``dead_letters`` table; :meth:`PostgresDeadLetters.for_network` picks
the right one. Every call is its own short transaction on a pooled connection, outside any
unit of work: a worker records a dead letter after the job's own transaction has rolled
back, and an operator's retry or discard must not wait for a job.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from airgap.adapters.postgres import tables
from airgap.domain.model.errors import ValidationFailed
from airgap.domain.model.operations import DeadLetter, Page

_MAX_LIMIT = 500
_ERROR_CHARS = 20_000  # a traceback is kept, but not an unbounded one


def _letter(row: Mapping[Any, Any]) -> DeadLetter:
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


class PostgresDeadLetters:
    """The ``DeadLetters`` port on one network's ``dead_letters`` table (the response
    network's unless told otherwise; see :meth:`for_network`)."""

    def __init__(self, engine: Engine, table: Table = tables.response_dead_letters) -> None:
        self._engine = engine
        self._table = table

    @classmethod
    def for_network(cls, engine: Engine, network: str) -> PostgresDeadLetters:
        """The dead letters of ``network`` (``"request"`` or ``"response"``)."""
        if network == "request":
            return cls(engine, tables.request_dead_letters)
        if network == "response":
            return cls(engine, tables.response_dead_letters)
        raise ValueError(f"unknown network {network!r}; expected 'request' or 'response'")

    def add(self, letter: DeadLetter) -> bool:
        t = self._table
        statement = (
            pg_insert(t)
            .values(
                id=letter.id,
                message_id=letter.message_id,
                queue_name=letter.queue_name,
                actor_name=letter.actor_name,
                args=list(letter.args),
                kwargs=dict(letter.kwargs),
                options=dict(letter.options),
                error=None if letter.error is None else letter.error[-_ERROR_CHARS:],
                attempts=letter.attempts,
                failed_at=letter.failed_at,
                retried_at=letter.retried_at,
            )
            .on_conflict_do_nothing(index_elements=[t.c.message_id])
            .returning(t.c.id)
        )
        with self._engine.begin() as connection:
            return connection.execute(statement).first() is not None

    def get(self, letter_id: uuid.UUID) -> DeadLetter | None:
        t = self._table
        with self._engine.connect() as connection:
            row = connection.execute(select(t).where(t.c.id == letter_id)).mappings().first()
        return None if row is None else _letter(row)

    def page(
        self,
        *,
        actor_name: str | None = None,
        retried: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[DeadLetter]:
        if not 1 <= limit <= _MAX_LIMIT or offset < 0:
            raise ValidationFailed(f"limit must be 1-{_MAX_LIMIT} and offset at least 0")
        t = self._table
        where: list[Any] = []
        if actor_name is not None:
            where.append(t.c.actor_name == actor_name)
        if retried is not None:
            where.append(t.c.retried_at.is_not(None) if retried else t.c.retried_at.is_(None))
        listing = (
            select(t)
            .where(*where)
            .order_by(t.c.failed_at.desc(), t.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(listing).mappings().all()
            total = connection.execute(select(func.count()).select_from(t).where(*where))
            count = int(total.scalar_one())
        return Page(tuple(_letter(r) for r in rows), count, limit, offset)

    def mark_retried(self, letter_id: uuid.UUID, at: datetime) -> bool:
        t = self._table
        statement = (
            update(t)
            .where(t.c.id == letter_id, t.c.retried_at.is_(None))
            .values(retried_at=at)
            .returning(t.c.id)
        )
        with self._engine.begin() as connection:
            return connection.execute(statement).first() is not None

    def discard(self, letter_id: uuid.UUID) -> bool:
        t = self._table
        with self._engine.begin() as connection:
            deleted = connection.execute(delete(t).where(t.c.id == letter_id).returning(t.c.id))
            return deleted.first() is not None
