"""The request network's repositories: users replica, requests, responses, API keys, audit."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Table, select

from airgap.adapters.postgres import tables
from airgap.adapters.postgres.statements import (
    by,
    fetch_all,
    fetch_any,
    fetch_one,
    insert,
    save_many,
    select_by,
    upsert,
)
from airgap.adapters.postgres.translation import (
    api_key_from,
    api_key_row,
    audit_from,
    audit_row,
    request_from,
    request_row,
    response_from,
    response_row,
    user_from,
    user_row,
)
from airgap.domain.model.audit import AuditEntry
from airgap.domain.model.requests import RequestStatus, Response, SearchRequest
from airgap.domain.model.users import ApiKey, User


class PostgresUsers:
    """Accounts, on either network (``synced_at`` exists only in the request network's
    replica, where it records when this network last wrote the row)."""

    def __init__(self, connection: Connection, table: Table) -> None:
        self._connection = connection
        self._table = table
        self._replica = "synced_at" in table.c

    def _row(self, user: User) -> dict[str, object]:
        row = user_row(user)
        if self._replica:
            row["synced_at"] = datetime.now(UTC)
        return row

    def get(self, user_id: uuid.UUID) -> User | None:
        row = fetch_one(self._connection, select_by(self._table, "id"), by(id=user_id))
        return None if row is None else user_from(row)

    def get_by_username(self, username: str) -> User | None:
        statement = select_by(self._table, "username")
        row = fetch_one(self._connection, statement, by(username=username))
        return None if row is None else user_from(row)

    def add(self, user: User) -> None:
        insert(self._connection, self._table, [self._row(user)])

    def save(self, user: User) -> None:
        upsert(self._connection, self._table, [self._row(user)])

    def changed_since(self, version: int) -> Sequence[User]:
        t = self._table
        statement = select(t).where(t.c.version > version).order_by(t.c.username)
        return [user_from(r) for r in fetch_all(self._connection, statement)]

    def all(self) -> Sequence[User]:
        t = self._table
        return [user_from(r) for r in fetch_all(self._connection, select(t).order_by(t.c.username))]


class PostgresRequests:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, request_id: uuid.UUID) -> SearchRequest | None:
        row = fetch_one(self._connection, select_by(tables.requests, "id"), by(id=request_id))
        return None if row is None else request_from(row)

    def get_many(self, request_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SearchRequest]:
        if not request_ids:
            return {}
        found = fetch_any(self._connection, tables.requests, "id", request_ids)
        return {row["id"]: request_from(row) for row in found}

    def add(self, request: SearchRequest) -> None:
        insert(self._connection, tables.requests, [request_row(request)])

    def save(self, request: SearchRequest) -> None:
        upsert(self._connection, tables.requests, [request_row(request)])

    def save_all(self, requests: Sequence[SearchRequest]) -> None:
        """One ``UPDATE … FROM unnest(…)`` for the lot (a 500-request batch marked
        exported is one statement), inserting any that were not stored yet."""
        save_many(self._connection, tables.requests, [request_row(r) for r in requests])

    def pending_for_export(self, limit: int) -> Sequence[SearchRequest]:
        """Locked ``FOR UPDATE SKIP LOCKED``: two exporters running at once each take
        different requests instead of both sending the same ones."""
        t = tables.requests
        statement = (
            select(t)
            .where(t.c.status == RequestStatus.PENDING.value)
            .order_by(t.c.priority.desc(), t.c.created_at, t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [request_from(r) for r in fetch_all(self._connection, statement)]

    def in_export_batch(self, batch_id: uuid.UUID) -> Sequence[SearchRequest]:
        """Locked ``FOR UPDATE``: the re-send rule changes these rows, and a result being
        imported for one of them must not be overwritten by a stale copy."""
        t = tables.requests
        statement = (
            select(t)
            .where(t.c.export_batch_id == batch_id)
            .order_by(t.c.priority.desc(), t.c.created_at, t.c.id)
            .with_for_update()
        )
        return [request_from(r) for r in fetch_all(self._connection, statement)]

    def all(self) -> list[SearchRequest]:
        t = tables.requests
        statement = select(t).order_by(t.c.created_at, t.c.id)
        return [request_from(r) for r in fetch_all(self._connection, statement)]


class PostgresResponses:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_for_request(self, request_id: uuid.UUID) -> Response | None:
        statement = select_by(tables.responses, "request_id")
        row = fetch_one(self._connection, statement, by(request_id=request_id))
        return None if row is None else response_from(row)

    def add(self, response: Response) -> None:
        insert(self._connection, tables.responses, [response_row(response)])

    def add_all(self, responses: Sequence[Response]) -> None:
        if responses:
            insert(self._connection, tables.responses, [response_row(r) for r in responses])

    def answered(self, request_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        if not request_ids:
            return set()
        found = fetch_any(
            self._connection, tables.responses, "request_id", request_ids, ("request_id",)
        )
        return {row["request_id"] for row in found}

    def find_fresh(self, query_hash: str, since: datetime) -> Response | None:
        r, q = tables.responses, tables.requests
        statement = (
            select(r)
            .join(q, q.c.id == r.c.request_id)
            .where(
                q.c.query_hash == query_hash,
                r.c.status == "completed",
                r.c.received_at >= since,
                r.c.from_cache.is_(False),
            )
            .order_by(r.c.received_at.desc())
            .limit(1)
        )
        row = fetch_one(self._connection, statement)
        return None if row is None else response_from(row)

    def all(self) -> list[Response]:
        r = tables.responses
        statement = select(r).order_by(r.c.received_at, r.c.request_id)
        return [response_from(row) for row in fetch_all(self._connection, statement)]


class PostgresApiKeys:
    """API keys, on either network (``tables.api_keys`` or ``tables.response_api_keys``)."""

    def __init__(self, connection: Connection, table: Table = tables.api_keys) -> None:
        self._connection = connection
        self._table = table

    def add(self, key: ApiKey) -> None:
        insert(self._connection, self._table, [api_key_row(key)])

    def save(self, key: ApiKey) -> None:
        upsert(self._connection, self._table, [api_key_row(key)])

    def get(self, key_id: uuid.UUID) -> ApiKey | None:
        row = fetch_one(self._connection, select_by(self._table, "id"), by(id=key_id))
        return None if row is None else api_key_from(row)

    def get_by_hash(self, key_hash: str) -> ApiKey | None:
        statement = select_by(self._table, "key_hash")
        row = fetch_one(self._connection, statement, by(key_hash=key_hash))
        return None if row is None else api_key_from(row)

    def for_user(self, user_id: uuid.UUID) -> Sequence[ApiKey]:
        t = self._table
        statement = select(t).where(t.c.user_id == user_id).order_by(t.c.created_at, t.c.id)
        return [api_key_from(r) for r in fetch_all(self._connection, statement)]


def _inet(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class PostgresAuditLog:
    """``audit_logs``. An address that is not an IP (``inet`` would refuse it and abort the
    transaction it audits) is kept in the entry's metadata instead."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, entry: AuditEntry) -> None:
        insert(self._connection, tables.audit_logs, [audit_row(entry, _inet(entry.ip_address))])

    def entries(self) -> list[AuditEntry]:
        t = tables.audit_logs
        return [audit_from(r) for r in fetch_all(self._connection, select(t).order_by(t.c.id))]
