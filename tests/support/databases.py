"""PostgreSQL for tests: a real server, an empty database per test, never a skip.

The server is the one named by ``AIRGAP_TEST_DATABASE_URL`` (any database on it; the
fixtures create their own) or, when that is unset, an embedded server from the ``pgserver``
package started once per test process in a temporary directory.

Each network's schema is migrated once per process into a template database; a test gets
a database made with ``CREATE DATABASE … TEMPLATE`` of it. When the test is done its tables
are truncated and the database waits for the next test of that network (creating a
database writes and syncs several megabytes, which a loaded machine turns into a second;
a TRUNCATE takes milliseconds). Everything is dropped when the process exits. Names carry
a random suffix, so several test runs can share one server.

The server and templates are process-wide (not pytest session fixtures) because the
fixtures below are imported into more than one place (the postgres integration tests and
the port contract tests) and must not start a server for each.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from airgap.adapters.postgres import migrate
from airgap.adapters.postgres.embedded import EmbeddedPostgres
from airgap.adapters.postgres.engine import libpq_url, with_database
from airgap.adapters.postgres.tables import metadata_for
from airgap.adapters.postgres.unit_of_work import PostgresRequestStore, PostgresResponseStore

TEST_DATABASE_URL_ENV = "AIRGAP_TEST_DATABASE_URL"
NETWORKS = ("request", "response")


class DatabaseServer:
    """One PostgreSQL server, migrated templates, and the databases made from them."""

    def __init__(self, admin_url: str, *, stop: Any = None) -> None:
        self.admin_url = admin_url
        self._stop = stop
        self._tag = uuid.uuid4().hex[:10]
        self._lock = threading.Lock()
        self._templates: dict[str, str] = {}
        self._idle: dict[str, list[str]] = {network: [] for network in NETWORKS}
        self._made: set[str] = set()

    def url(self, database: str) -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for ``database`` on this server."""
        return with_database(self.admin_url, database).render_as_string(hide_password=False)

    @contextmanager
    def _admin(self) -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(libpq_url(self.admin_url), autocommit=True) as connection:
            yield connection

    def _create(self, name: str, template: str | None = None) -> None:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with self._admin() as admin:
            admin.execute(statement)

    def drop(self, name: str) -> None:
        with self._admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def template(self, network: str) -> str:
        """The name of ``network``'s migrated template (made on first use)."""
        with self._lock:
            if network not in self._templates:
                name = f"airgap_tpl_{network}_{self._tag}"
                self._create(name)
                migrate.upgrade(network, self.url(name))
                self._templates[network] = name
            return self._templates[network]

    def create_database(self, network: str | None = None) -> str:
        """A new database (migrated for ``network``, or empty) and its name."""
        name = f"airgap_test_{network or 'empty'}_{uuid.uuid4().hex[:12]}"
        self._create(name, self.template(network) if network else None)
        return name

    def acquire(self, network: str) -> str:
        """A migrated database for ``network`` with empty tables (give it back with
        :meth:`release`)."""
        with self._lock:
            if self._idle[network]:
                return self._idle[network].pop()
        name = self.create_database(network)
        with self._lock:
            self._made.add(name)
        return name

    def release(self, network: str, name: str) -> None:
        """Empty every table and keep the database for the next test; a database that
        cannot be emptied quickly (a test left a connection holding locks) is dropped."""
        tables = [t.name for t in metadata_for(network).sorted_tables]
        statement = sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in tables)
        )
        try:
            with psycopg.connect(libpq_url(self.url(name)), autocommit=True) as connection:
                connection.execute("SET lock_timeout = '2s'")
                connection.execute(statement)
        except psycopg.Error:
            with self._lock:
                self._made.discard(name)
            self.drop(name)
            return
        with self._lock:
            self._idle[network].append(name)

    def close(self) -> None:
        for name in [*self._made, *self._templates.values()]:
            with suppress(psycopg.Error):
                self.drop(name)
        self._made.clear()
        self._templates.clear()
        if self._stop is not None:
            self._stop()


_shared: list[DatabaseServer] = []  # at most one: the process's server
_shared_lock = threading.Lock()


def _start_embedded() -> DatabaseServer:
    directory = Path(tempfile.mkdtemp(prefix="airgap-test-pg-"))
    server = EmbeddedPostgres(directory)

    def stop() -> None:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)

    return DatabaseServer(server.start(), stop=stop)


def shared_server() -> DatabaseServer:
    """The process's test server (started on first use, stopped at exit)."""
    with _shared_lock:
        if not _shared:
            configured = os.environ.get(TEST_DATABASE_URL_ENV)
            server = DatabaseServer(configured) if configured else _start_embedded()
            atexit.register(server.close)
            _shared.append(server)
        return _shared[0]


@contextmanager
def fresh_database(network: str | None = None) -> Iterator[str]:
    """The URL of a database with nothing in it: migrated to head for ``network`` with
    empty tables, or (``None``) brand new without tables, dropped afterwards. Close every
    connection to it before the block ends."""
    server = shared_server()
    if network is None:
        name = server.create_database(None)
        try:
            yield server.url(name)
        finally:
            server.drop(name)
        return
    name = server.acquire(network)
    try:
        yield server.url(name)
    finally:
        server.release(network, name)


@contextmanager
def postgres_request_store() -> Iterator[PostgresRequestStore]:
    """A request network store on a fresh migrated database."""
    with fresh_database("request") as url:
        store = PostgresRequestStore.from_url(url)
        try:
            yield store
        finally:
            store.dispose()


@contextmanager
def postgres_response_store() -> Iterator[PostgresResponseStore]:
    """A response network store on a fresh migrated database."""
    with fresh_database("response") as url:
        store = PostgresResponseStore.from_url(url)
        try:
            yield store
        finally:
            store.dispose()


# --- pytest fixtures (import them where they are needed) --------------------------------------


@pytest.fixture
def request_database_url() -> Iterator[str]:
    """A fresh request network database, migrated to head."""
    with fresh_database("request") as url:
        yield url


@pytest.fixture
def response_database_url() -> Iterator[str]:
    """A fresh response network database, migrated to head."""
    with fresh_database("response") as url:
        yield url


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    """A fresh database with no tables."""
    with fresh_database(None) as url:
        yield url


@pytest.fixture
def pg_request_store() -> Iterator[PostgresRequestStore]:
    with postgres_request_store() as store:
        yield store


@pytest.fixture
def pg_response_store() -> Iterator[PostgresResponseStore]:
    with postgres_response_store() as store:
        yield store
