"""Figures the request network's API reads that the admin lists (``read_models``) do not:
account counts, the busiest users, recent activity, and a round trip for health checks.

Read-only, outside the units of work, like the read models.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import attrs
from sqlalchemy import Connection, Engine, and_, func, select, text

from airgap.adapters.postgres import tables


@attrs.frozen
class AccountCounts:
    total: int
    active: int  # may sign in: active on the response network and not stopped here
    locally_deactivated: int


@attrs.frozen
class UserActivity:
    user_id: uuid.UUID
    username: str
    requests: int


class RequestApiQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as connection:
            try:
                yield connection
            finally:
                connection.rollback()

    def ping(self) -> None:
        """One round trip to the database (raises when it does not answer)."""
        with self._read() as c:
            c.execute(text("SELECT 1")).scalar_one()

    def account_counts(self) -> AccountCounts:
        u = tables.request_users
        may_sign_in = and_(u.c.is_active.is_(True), u.c.locally_deactivated.is_(False))
        with self._read() as c:
            row = c.execute(
                select(
                    func.count(),
                    func.count().filter(may_sign_in),
                    func.count().filter(u.c.locally_deactivated.is_(True)),
                )
            ).one()
        return AccountCounts(total=row[0], active=row[1], locally_deactivated=row[2])

    def users_submitting_since(self, since: datetime) -> int:
        """How many distinct users submitted a request at or after ``since``."""
        r = tables.requests
        with self._read() as c:
            return int(
                c.execute(
                    select(func.count(func.distinct(r.c.user_id))).where(r.c.created_at >= since)
                ).scalar_one()
            )

    def submitted_since(self, since: datetime) -> int:
        r = tables.requests
        with self._read() as c:
            return int(c.execute(select(func.count()).where(r.c.created_at >= since)).scalar_one())

    def top_users(self, limit: int = 10, since: datetime | None = None) -> list[UserActivity]:
        """The users with the most requests (since ``since``, or ever), most first."""
        r, u = tables.requests, tables.request_users
        counted = func.count(r.c.id).label("requests")
        statement = (
            select(u.c.id, u.c.username, counted)
            .join(r, r.c.user_id == u.c.id)
            .group_by(u.c.id, u.c.username)
            .order_by(counted.desc(), u.c.username)
            .limit(limit)
        )
        if since is not None:
            statement = statement.where(r.c.created_at >= since)
        with self._read() as c:
            rows = c.execute(statement).all()
        return [UserActivity(row[0], row[1], int(row[2])) for row in rows]
