"""A unit of work per network: one connection and one transaction at a time.

Entering takes a connection from the engine's pool; the first statement begins a
transaction. ``commit()`` commits it (later statements begin another, which needs its own
commit); leaving the ``with`` block rolls back whatever was not committed and returns the
connection. Repositories share the connection and never commit. A unit of work is for one
request or job and one thread: make a new one each time (the store's ``unit_of_work`` is
the factory the use cases are given).
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from airgap.adapters.postgres import tables
from airgap.adapters.postgres.engine import build_engine
from airgap.adapters.postgres.request_network import (
    PostgresApiKeys,
    PostgresAuditLog,
    PostgresRequests,
    PostgresResponses,
    PostgresUsers,
)
from airgap.adapters.postgres.response_network import (
    PostgresJobs,
    PostgresResults,
    PostgresSystemLog,
)
from airgap.adapters.postgres.transfer import (
    REQUEST_TRANSFER_TABLES,
    RESPONSE_TRANSFER_TABLES,
    PostgresChannels,
    PostgresExportBatches,
    PostgresImportBatches,
    TransferTables,
)

if TYPE_CHECKING:
    from airgap.ports.accounts import AccountsUnitOfWork
    from airgap.ports.request_store import RequestNetworkUnitOfWork
    from airgap.ports.response_store import ResponseNetworkUnitOfWork


class _PostgresUnitOfWork:
    _transfer: TransferTables

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self.committed = False

    def _bind(self, connection: Connection) -> None:
        self.export_batches = PostgresExportBatches(connection, self._transfer.export_batches)
        self.import_batches = PostgresImportBatches(connection, self._transfer.import_batches)
        self.channels = PostgresChannels(connection, self._transfer)

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("a unit of work cannot be entered twice; make a new one")
        self._connection = self._engine.connect()
        self.committed = False
        self._bind(self._connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self._connection
        if connection is None:
            return
        self._connection = None
        try:
            connection.rollback()
        finally:
            connection.close()

    @property
    def connection(self) -> Connection:
        """The connection of the open unit of work (for read models that must see its
        uncommitted changes)."""
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    def commit(self) -> None:
        self.connection.commit()
        self.committed = True

    def rollback(self) -> None:
        if self._connection is not None:
            self._connection.rollback()


class PostgresRequestUnitOfWork(_PostgresUnitOfWork):
    """The request network's unit of work (``RequestNetworkUnitOfWork``)."""

    _transfer = REQUEST_TRANSFER_TABLES

    users: PostgresUsers
    requests: PostgresRequests
    responses: PostgresResponses
    api_keys: PostgresApiKeys
    export_batches: PostgresExportBatches
    import_batches: PostgresImportBatches
    channels: PostgresChannels
    audit: PostgresAuditLog

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.users = PostgresUsers(connection, tables.request_users)
        self.requests = PostgresRequests(connection)
        self.responses = PostgresResponses(connection)
        self.api_keys = PostgresApiKeys(connection)
        self.audit = PostgresAuditLog(connection)


class PostgresResponseUnitOfWork(_PostgresUnitOfWork):
    """The response network's unit of work (``ResponseNetworkUnitOfWork``)."""

    _transfer = RESPONSE_TRANSFER_TABLES

    users: PostgresUsers
    api_keys: PostgresApiKeys
    jobs: PostgresJobs
    results: PostgresResults
    export_batches: PostgresExportBatches
    import_batches: PostgresImportBatches
    channels: PostgresChannels
    system_logs: PostgresSystemLog

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.users = PostgresUsers(connection, tables.response_users)
        self.api_keys = PostgresApiKeys(connection, tables.response_api_keys)
        self.jobs = PostgresJobs(connection)
        self.results = PostgresResults(connection)
        self.system_logs = PostgresSystemLog(connection)


class _PostgresStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine

    def dispose(self) -> None:
        """Close the pooled connections (at shutdown)."""
        self._engine.dispose()


class PostgresRequestStore(_PostgresStore):
    """The request network's database; ``unit_of_work`` is the factory use cases take."""

    @classmethod
    def from_url(cls, url: str | URL, *, pool_size: int = 5) -> PostgresRequestStore:
        return cls(build_engine(url, application_name="airgap-request", pool_size=pool_size))

    def unit_of_work(self) -> PostgresRequestUnitOfWork:
        return PostgresRequestUnitOfWork(self._engine)


class PostgresResponseStore(_PostgresStore):
    """The response network's database; ``unit_of_work`` is the factory use cases take."""

    @classmethod
    def from_url(cls, url: str | URL, *, pool_size: int = 5) -> PostgresResponseStore:
        return cls(build_engine(url, application_name="airgap-response", pool_size=pool_size))

    def unit_of_work(self) -> PostgresResponseUnitOfWork:
        return PostgresResponseUnitOfWork(self._engine)


if TYPE_CHECKING:  # mypy checks that the units of work satisfy the ports

    def _conforms(
        request: PostgresRequestUnitOfWork, response: PostgresResponseUnitOfWork
    ) -> tuple[RequestNetworkUnitOfWork, ResponseNetworkUnitOfWork, AccountsUnitOfWork]:
        return request, response, request
