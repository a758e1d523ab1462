"""Alembic, configured in code: one migration history per network database.

The histories live in the repository's ``migrations/request`` and ``migrations/response``
(``AIRGAP_MIGRATIONS_DIR`` points elsewhere, e.g. in an installed deployment). No
``alembic.ini`` is needed: :func:`alembic_config` builds the configuration, and ``env.py``
uses the connection or URL it is handed.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, pool
from sqlalchemy.engine import URL

from airgap.adapters.postgres.engine import sqlalchemy_url

MIGRATIONS_DIR_ENV = "AIRGAP_MIGRATIONS_DIR"
NETWORKS = ("request", "response")


def migrations_root() -> Path:
    """The directory holding ``request/`` and ``response/``."""
    configured = os.environ.get(MIGRATIONS_DIR_ENV)
    candidates = [Path(configured)] if configured else []
    # src/airgap/adapters/postgres/migrate.py -> the repository root is four levels up.
    candidates.append(Path(__file__).resolve().parents[4] / "migrations")
    for candidate in candidates:
        if (candidate / "request" / "env.py").is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"no migrations found (tried {tried}); set {MIGRATIONS_DIR_ENV}")


def _check(network: str) -> str:
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; expected 'request' or 'response'")
    return network


def alembic_config(
    network: str, url: str | URL | None = None, *, connection: Connection | None = None
) -> Config:
    """The Alembic configuration of ``network``'s history, bound to ``url`` or to an open
    ``connection`` (which the migration then uses inside its transaction)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_root() / _check(network)))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(migrations_root() / network / "versions"))
    if url is not None:
        rendered = sqlalchemy_url(url).render_as_string(hide_password=False)
        # ConfigParser interpolates "%"; a password may contain one.
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    config.attributes["network"] = network
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(network: str, url: str | URL, revision: str = "head") -> None:
    """Migrate ``network``'s database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(network, url), revision)


def downgrade(network: str, url: str | URL, revision: str = "-1") -> None:
    """Migrate down to ``revision`` (``-1``: one step; ``base``: an empty database)."""
    command.downgrade(alembic_config(network, url), revision)


def upgrade_sql(network: str, revision: str = "head", start: str | None = None) -> str:
    """The SQL an upgrade would run, without a database (offline mode)."""
    config = alembic_config(network, "postgresql+psycopg://offline/airgap")
    target = f"{start}:{revision}" if start else revision
    buffer = io.StringIO()
    config.stdout = buffer
    with redirect_stdout(buffer):
        command.upgrade(config, target, sql=True)
    return buffer.getvalue()


@contextmanager
def _connect(url: str | URL) -> Iterator[Connection]:
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def current(network: str, url: str | URL) -> str | None:
    """The revision the database is at (None: never migrated)."""
    _check(network)
    with _connect(url) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head(network: str) -> str:
    """The newest revision of ``network``'s history."""
    script = ScriptDirectory.from_config(alembic_config(network))
    found = script.get_current_head()
    if found is None:
        raise RuntimeError(f"the {network} history has no revisions")
    return found


def revisions(network: str) -> list[str]:
    """Every revision of ``network``'s history, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(network))
    return [r.revision for r in reversed(list(script.walk_revisions()))]
