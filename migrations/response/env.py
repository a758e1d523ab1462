"""Alembic environment of the response network's database.

Configured in code by `airgap.adapters.postgres.migrate.alembic_config` (used by
`airgap db …` and the tests): it hands over either an open connection or a URL. Every
upgrade or downgrade runs in one transaction (PostgreSQL has transactional DDL), so a
failed migration leaves the database as it was.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from airgap.adapters.postgres.engine import DATABASE_URL_ENV, sqlalchemy_url
from airgap.adapters.postgres.tables import metadata_for

NETWORK = "response"
config = context.config
target_metadata = metadata_for(NETWORK)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(DATABASE_URL_ENV)
    if not url:
        raise RuntimeError(f"no database URL: pass one or set {DATABASE_URL_ENV}")
    return sqlalchemy_url(url).render_as_string(hide_password=False)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
