"""Engines: URL spelling, the psycopg 3 driver, JSON and time-zone settings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.engine import URL

DATABASE_URL_ENV = "AIRGAP_DATABASE_URL"


def sqlalchemy_url(url: str | URL) -> URL:
    """``url`` with the psycopg 3 driver: ``postgresql://``, ``postgres://`` and
    ``postgresql+psycopg2://`` all become ``postgresql+psycopg://``."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql+psycopg")


def libpq_url(url: str | URL) -> str:
    """``url`` as libpq (and ``psycopg.connect``) spell it, password included."""
    parsed = sqlalchemy_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def with_database(url: str | URL, database: str) -> URL:
    """The same server and credentials, another database."""
    return sqlalchemy_url(url).set(database=database)


def _json_default(value: object) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def json_dumps(value: object) -> str:
    """JSON text of ``value``: orjson when it can say it exactly, else the standard library
    (integers beyond 64 bits, non-string keys)."""
    try:
        return orjson.dumps(value, default=_json_default).decode()
    except TypeError:
        return json.dumps(value, default=_json_default, ensure_ascii=False, allow_nan=False)


def json_loads(text: str | bytes) -> Any:
    """The standard library's parser: unlike orjson it keeps integers beyond 64 bits exact,
    and a query's hash depends on every digit."""
    return json.loads(text)


def build_engine(
    url: str | URL,
    *,
    application_name: str = "airgap",
    pool_size: int = 5,
    max_overflow: int = 10,
    echo: bool = False,
) -> Engine:
    """An engine on the psycopg 3 driver. Sessions run in UTC, so timestamps come back as
    UTC-aware datetimes whatever the server's time zone."""
    return create_engine(
        sqlalchemy_url(url),
        json_serializer=json_dumps,
        json_deserializer=json_loads,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        echo=echo,
        connect_args={
            "options": "-c timezone=UTC",
            "application_name": application_name,
        },
    )
