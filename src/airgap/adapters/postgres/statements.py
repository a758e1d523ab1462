"""Statements the repositories share, built once per table and reused (SQLAlchemy then
finds their compiled form in its cache without walking a new statement each time)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    DateTime,
    Insert,
    Integer,
    RowMapping,
    Select,
    String,
    Table,
    Uuid,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from airgap.adapters.postgres.engine import json_dumps


@functools.cache
def insert_statement(table: Table) -> Insert:
    return table.insert()


@functools.cache
def upsert_statement(
    table: Table,
    key: tuple[str, ...],
    columns: tuple[str, ...],
    keep_existing: tuple[str, ...] = (),
) -> Insert:
    """``INSERT … ON CONFLICT (key) DO UPDATE`` setting ``columns`` from the new row;
    ``keep_existing`` columns keep a non-null stored value (``COALESCE(old, new)``)."""
    statement = pg_insert(table)
    update: dict[str, Any] = {name: statement.excluded[name] for name in columns if name not in key}
    for name in keep_existing:
        update[name] = func.coalesce(table.c[name], statement.excluded[name])
    return statement.on_conflict_do_update(index_elements=list(key), set_=update)


@functools.cache
def select_by(table: Table, *columns: str) -> Select[Any]:
    """``SELECT * FROM table WHERE c1 = :p_c1 AND …`` (bind values with :func:`by`)."""
    statement = select(table)
    for name in columns:
        statement = statement.where(table.c[name] == bindparam(f"p_{name}"))
    return statement


def fetch_one(
    connection: Connection, statement: Select[Any], params: Mapping[str, Any] | None = None
) -> RowMapping | None:
    return connection.execute(statement, dict(params or {})).mappings().first()


def fetch_all(
    connection: Connection, statement: Select[Any], params: Mapping[str, Any] | None = None
) -> Sequence[RowMapping]:
    return connection.execute(statement, dict(params or {})).mappings().all()


def fetch_any(
    connection: Connection,
    table: Table,
    column: str,
    values: Sequence[Any],
    columns: tuple[str, ...] | None = None,
) -> Sequence[RowMapping]:
    """``columns`` (default: all of the table's) of the rows whose ``column`` is one of
    ``values``: ``= ANY`` of one binary array parameter (an ``IN`` list would send, and
    plan, one parameter per value)."""
    names = columns or tuple(c.name for c in table.c)
    statement = _any_statement(table.name, column, _array_type(table, column), names)
    return connection.exec_driver_sql(statement, {"values": list(values)}).mappings().all()


@functools.cache
def _any_statement(table: str, column: str, kind: str, columns: tuple[str, ...]) -> str:
    return (
        f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608 - names from the metadata
        f"WHERE {column} = ANY(CAST(%(values)b AS {kind}[]))"
    )


def by(**values: Any) -> dict[str, Any]:
    """Bind values for :func:`select_by`."""
    return {f"p_{name}": value for name, value in values.items()}


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: tuple[str, ...] = ("id",),
    keep_existing: tuple[str, ...] = (),
) -> None:
    """Insert or update ``rows`` (which all have the same columns) in one execution."""
    if not rows:
        return
    statement = upsert_statement(table, key, tuple(rows[0]), keep_existing)
    connection.execute(statement, list(rows) if len(rows) > 1 else dict(rows[0]))


def insert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same columns): one row through SQLAlchemy, several as
    one ``INSERT … SELECT * FROM unnest(…)`` with binary arrays (see below)."""
    if not rows:
        return
    if len(rows) == 1:
        connection.execute(insert_statement(table), dict(rows[0]))
        return
    statement = bulk_insert_statement(table, tuple(rows[0]), None, None)
    connection.exec_driver_sql(statement, _arrays(table, rows))


def _array_type(table: Table, name: str) -> str:
    """The PostgreSQL type of column ``name``, for ``CAST(:values AS type[])``."""
    kind = table.c[name].type
    # Order matters: JSONB is a JSON, BigInteger an Integer.
    for python_type, sql_type in (
        (Uuid, "uuid"),
        (DateTime, "timestamptz"),
        (Boolean, "boolean"),
        (BigInteger, "bigint"),
        (Integer, "integer"),
        (JSONB, "jsonb"),
        (JSON, "json"),
        (String, "text"),
    ):
        if isinstance(kind, python_type):
            return sql_type
    raise TypeError(f"{table.name}.{name}: no array form for {kind!r}")


# The bulk statements send each column as one array parameter, in PostgreSQL's binary
# format (``%(name)b``): the text format quotes and escapes every element through regular
# expressions in Python, which made a 500-row UPDATE spend ~40 ms building its arguments
# (binary: ~4 ms). They run through ``exec_driver_sql``, so SQLAlchemy still sees (and
# logs, and counts) every statement.


@functools.cache
def bulk_update_statement(table: Table, columns: tuple[str, ...], key: str) -> str:
    """``UPDATE t SET c = v.c, … FROM unnest(%(c)b::type[], …) AS v(…) WHERE t.key =
    v.key``: one statement whatever the number of rows, each column sent as one array."""
    names = (key, *(c for c in columns if c != key))
    arrays = ", ".join(f"CAST(%({n})b AS {_array_type(table, n)}[])" for n in names)
    assignments = ", ".join(f"{n} = v.{n}" for n in names if n != key)
    return (
        f"UPDATE {table.name} AS t SET {assignments} "  # noqa: S608 - names from the metadata
        f"FROM unnest({arrays}) AS v({', '.join(names)}) WHERE t.{key} = v.{key}"
    )


@functools.cache
def bulk_insert_statement(
    table: Table, columns: tuple[str, ...], conflict: str | None, returning: str | None
) -> str:
    """``INSERT … SELECT * FROM unnest(…)``, with ``ON CONFLICT (conflict) DO NOTHING`` and
    ``RETURNING returning`` when given."""
    arrays = ", ".join(f"CAST(%({n})b AS {_array_type(table, n)}[])" for n in columns)
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - metadata names
        f"SELECT * FROM unnest({arrays})"
    )
    if conflict is not None:
        statement += f" ON CONFLICT ({conflict}) DO NOTHING"
    if returning is not None:
        statement += f" RETURNING {returning}"
    return statement


def _arrays(table: Table, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Column-wise parameters for the ``unnest`` statements (JSON sent as text)."""
    params: dict[str, list[Any]] = {}
    for name in rows[0]:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, JSON):
            values = [None if v is None else json_dumps(v) for v in values]
        params[name] = values
    return params


def insert_many_if_absent(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: str,
    returning: str,
) -> list[Any]:
    """Insert the ``rows`` that do not collide on ``conflict``, in one statement; returns
    the ``returning`` column of those inserted."""
    if not rows:
        return []
    statement = bulk_insert_statement(table, tuple(rows[0]), conflict, returning)
    return list(connection.exec_driver_sql(statement, _arrays(table, rows)).scalars())


def update_many(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str = "id",
) -> int:
    """Update existing ``rows`` (all with the same columns) in one statement; returns how
    many rows it updated (fewer than given when some do not exist)."""
    if not rows:
        return 0
    statement = bulk_update_statement(table, tuple(rows[0]), key)
    return int(connection.exec_driver_sql(statement, _arrays(table, rows)).rowcount)


def save_many(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str = "id",
) -> None:
    """Store ``rows`` whether they exist or not: one bulk UPDATE, and an upsert only when
    some rows were new (``save_all`` is almost always called on loaded objects)."""
    if len(rows) > 1 and update_many(connection, table, rows, key=key) == len(rows):
        return
    upsert(connection, table, rows, key=(key,))
