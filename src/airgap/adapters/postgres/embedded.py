"""The embedded default: a PostgreSQL server from the ``pgserver`` package.

When no database URL is configured (``airgap up`` on a fresh machine, the test fixtures
without ``AIRGAP_TEST_DATABASE_URL``), a server is started under the data directory -- a
Unix socket only, no TCP port, trust authentication for the local user -- and each network
gets its own database on it (``airgap_request``, ``airgap_response``): separate databases,
never shared tables, so the air gap is honoured even on one machine.

The server outlives nothing: it stops when the last process that started or joined it
exits (several processes on one data directory share one server).
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors, sql

from airgap.adapters.postgres.engine import libpq_url, with_database

NETWORK_DATABASES: dict[str, str] = {"request": "airgap_request", "response": "airgap_response"}


class EmbeddedPostgres:
    """A pgserver-managed PostgreSQL under ``data_dir / "postgres"``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._server: Any = None
        self._lock = threading.Lock()

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    def start(self) -> str:
        """Start (or join) the server; return a URL for its ``postgres`` database."""
        with self._lock:
            if self._server is None:
                with warnings.catch_warnings():
                    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, root).
                    warnings.simplefilter("ignore")
                    from pgserver import postgres_server  # noqa: PLC0415 - slow, only here

                self.data_dir.mkdir(parents=True, exist_ok=True)
                self._server = postgres_server.get_server(self.pgdata, cleanup_mode="stop")
            uri: str = self._server.get_uri("postgres")
            return uri

    def database_url(self, network: str) -> str:
        """A SQLAlchemy URL for ``network``'s database, created if missing."""
        if network not in NETWORK_DATABASES:
            raise ValueError(f"unknown network {network!r}; expected 'request' or 'response'")
        admin = self.start()
        name = NETWORK_DATABASES[network]
        ensure_database(admin, name)
        return with_database(admin, name).render_as_string(hide_password=False)

    def stop(self) -> None:
        """Let go of the server (it stops if no other process holds it)."""
        with self._lock:
            if self._server is not None:
                self._server.cleanup()
                self._server = None


def ensure_database(admin_url: str, name: str) -> bool:
    """Create database ``name`` on the server of ``admin_url`` unless it exists; True if it
    was created. Safe when two processes try at once."""
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is not None:
            return False
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except (errors.DuplicateDatabase, errors.UniqueViolation):
            return False  # another process created it between the check and here
        return True


def resolve_database_url(network: str, configured: str | None, data_dir: Path) -> str:
    """``configured`` if given, else ``network``'s database on the embedded server under
    ``data_dir`` (started on demand)."""
    if configured:
        return configured
    return EmbeddedPostgres(data_dir).database_url(network)
