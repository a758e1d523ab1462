"""In-memory persistence for both networks: for unit tests of the domain and for embedding.

Semantics match the PostgreSQL adapter that the same contract tests exercise: a unit of work
sees a private working copy, nothing is visible to others until ``commit()``, leaving the
``with`` block without committing discards everything, and repositories hand out copies so
a change that is not saved is not stored. Units of work on one store are serialised by a
lock, which also gives ``claim_next`` its skip-locked guarantee.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

from airgap.domain.model.audit import AuditEntry, SystemLogEntry
from airgap.domain.model.batching import (
    Channel,
    ExportBatch,
    ExportStatus,
    ImportBatch,
    ImportStatus,
    InboundChannel,
    OutboundChannel,
    batch_order_key,
)
from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.requests import RequestStatus, Response, SearchRequest
from airgap.domain.model.users import ApiKey, User

T = TypeVar("T")


def _copy(value: T) -> T:
    return copy.deepcopy(value)


class _Tables:
    """Named tables (dicts) and logs (lists); copying it copies the containers only.

    A working copy remembers which rows it wrote and where its logs began, so a commit
    merges exactly its own changes into the shared state — two units of work that overlap
    (nested in one thread) never undo each other's commits.
    """

    def __init__(self, tables: dict[str, dict[Any, Any]], logs: dict[str, list[Any]]) -> None:
        self.tables = tables
        self.logs = logs
        self.written: dict[str, set[Any]] = {name: set() for name in tables}
        self.log_start = {name: len(log) for name, log in logs.items()}

    def working_copy(self) -> _Tables:
        return _Tables(
            {name: dict(t) for name, t in self.tables.items()},
            {name: list(log) for name, log in self.logs.items()},
        )

    def merge_into(self, shared: _Tables) -> None:
        for name, keys in self.written.items():
            for key in keys:
                if key in self.tables[name]:
                    shared.tables[name][key] = self.tables[name][key]
                else:  # deleted in this unit of work
                    shared.tables[name].pop(key, None)
        for name, log in self.logs.items():
            shared.logs[name].extend(log[self.log_start[name] :])


class _Store:
    def __init__(self, tables: list[str], logs: list[str]) -> None:
        self.state = _Tables({t: {} for t in tables}, {log: [] for log in logs})
        self.lock = threading.RLock()


class _Table:
    def __init__(self, state: _Tables, name: str) -> None:
        self._rows: dict[Any, Any] = state.tables[name]
        self._written = state.written[name]

    def _get(self, key: Any) -> Any:
        row = self._rows.get(key)
        return None if row is None else _copy(row)

    def _put(self, key: Any, row: Any) -> None:
        self._rows[key] = _copy(row)
        self._written.add(key)

    def _all(self) -> list[Any]:
        return [_copy(r) for r in self._rows.values()]


# --- shared transfer bookkeeping ------------------------------------------------------------


class MemoryExportBatches(_Table):
    def add(self, batch: ExportBatch) -> None:
        self._put(batch.id, batch)

    save = add

    def get(self, batch_id: uuid.UUID) -> ExportBatch | None:
        found: ExportBatch | None = self._get(batch_id)
        return found

    def by_sequence(self, channel: Channel, sequence: int) -> ExportBatch | None:
        for b in self._rows.values():
            if b.channel == channel and b.sequence == sequence:
                found: ExportBatch = _copy(b)
                return found
        return None

    def _where(self, channel: Channel, status: ExportStatus) -> list[ExportBatch]:
        rows = [b for b in self._rows.values() if b.channel == channel and b.status is status]
        return [_copy(b) for b in sorted(rows, key=lambda b: b.sequence)]

    def awaiting_ack(self, channel: Channel) -> Sequence[ExportBatch]:
        return self._where(channel, ExportStatus.COMPLETED)

    def unwritten(self, channel: Channel) -> Sequence[ExportBatch]:
        return self._where(channel, ExportStatus.PENDING)

    def all(self) -> list[ExportBatch]:
        return sorted(self._all(), key=lambda b: (b.channel.name, b.sequence))


class MemoryImportBatches(_Table):
    def add(self, batch: ImportBatch) -> None:
        self._put(batch.id, batch)

    save = add

    def get(self, import_id: uuid.UUID) -> ImportBatch | None:
        found: ImportBatch | None = self._get(import_id)
        return found

    def was_imported(self, batch_id: uuid.UUID) -> bool:
        return any(
            b.batch_id == batch_id and b.status is ImportStatus.COMPLETED
            for b in self._rows.values()
        )

    def unreported(self) -> Sequence[ImportBatch]:
        rows = [b for b in self._rows.values() if not b.reported]
        return [_copy(b) for b in sorted(rows, key=lambda b: b.received_at)]

    def all(self) -> list[ImportBatch]:
        return sorted(self._all(), key=lambda b: b.received_at)


class MemoryChannels:
    def __init__(self, state: _Tables) -> None:
        self._out = _Table(state, "outbound")
        self._in = _Table(state, "inbound")

    def outbound(self, channel: Channel) -> OutboundChannel:
        found: OutboundChannel | None = self._out._get(channel)
        return found or OutboundChannel(channel)

    def inbound(self, channel: Channel) -> InboundChannel:
        found: InboundChannel | None = self._in._get(channel)
        return found or InboundChannel(channel)

    def save_outbound(self, state: OutboundChannel) -> None:
        self._out._put(state.channel, state)

    def save_inbound(self, state: InboundChannel) -> None:
        self._in._put(state.channel, state)


class _Log:
    def __init__(self, state: _Tables, name: str) -> None:
        self._entries: list[Any] = state.logs[name]

    def record(self, entry: Any) -> None:
        self._entries.append(entry)

    def entries(self) -> list[Any]:
        return list(self._entries)


class MemoryAuditLog(_Log):
    def record(self, entry: AuditEntry) -> None:
        super().record(entry)


class MemorySystemLog(_Log):
    def record(self, entry: SystemLogEntry) -> None:
        super().record(entry)


class _UnitOfWork:
    """Enter takes the store's lock and a working copy; commit publishes it."""

    def __init__(self, store: _Store) -> None:
        self._store = store
        self._working: _Tables | None = None
        self.committed = False

    def _bind(self, state: _Tables) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._store.lock.acquire()
        self._working = self._store.state.working_copy()
        self.committed = False
        self._bind(self._working)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._store.lock.release()

    def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit outside the unit of work")
        self._working.merge_into(self._store.state)
        # Keep working on a fresh copy so later changes need another commit.
        self._working = self._store.state.working_copy()
        self._bind(self._working)
        self.committed = True

    def rollback(self) -> None:
        if self._working is not None:
            self._working = self._store.state.working_copy()
            self._bind(self._working)


# --- request network -----------------------------------------------------------------------


class MemoryUserReplica(_Table):
    def get(self, user_id: uuid.UUID) -> User | None:
        found: User | None = self._get(user_id)
        return found

    def get_by_username(self, username: str) -> User | None:
        for u in self._rows.values():
            if u.username == username:
                found: User = _copy(u)
                return found
        return None

    def add(self, user: User) -> None:
        self._put(user.id, user)

    save = add

    def all(self) -> Sequence[User]:
        return sorted(self._all(), key=lambda u: u.username)

    def changed_since(self, version: int) -> Sequence[User]:
        return [u for u in self.all() if u.version > version]


class MemoryRequests(_Table):
    def get(self, request_id: uuid.UUID) -> SearchRequest | None:
        found: SearchRequest | None = self._get(request_id)
        return found

    def get_many(self, request_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SearchRequest]:
        return {i: _copy(self._rows[i]) for i in request_ids if i in self._rows}

    def add(self, request: SearchRequest) -> None:
        self._put(request.id, request)

    save = add

    def save_all(self, requests: Sequence[SearchRequest]) -> None:
        for r in requests:
            self._put(r.id, r)

    def pending_for_export(self, limit: int) -> Sequence[SearchRequest]:
        rows = [r for r in self._rows.values() if r.status is RequestStatus.PENDING]
        rows.sort(key=lambda r: batch_order_key(r.priority, r.created_at, r.id))
        return [_copy(r) for r in rows[:limit]]

    def in_export_batch(self, batch_id: uuid.UUID) -> Sequence[SearchRequest]:
        return [_copy(r) for r in self._rows.values() if r.export_batch_id == batch_id]

    def all(self) -> list[SearchRequest]:
        return sorted(self._all(), key=lambda r: (r.created_at, r.id))


class MemoryResponses(_Table):
    def __init__(self, state: _Tables) -> None:
        super().__init__(state, "responses")
        # Responses do not store the query hash; the request they answer does.
        self._requests: dict[uuid.UUID, SearchRequest] = state.tables["requests"]

    def get_for_request(self, request_id: uuid.UUID) -> Response | None:
        found: Response | None = self._get(request_id)
        return found

    def add(self, response: Response) -> None:
        self._put(response.request_id, response)

    def add_all(self, responses: Sequence[Response]) -> None:
        for response in responses:
            self._put(response.request_id, response)

    def answered(self, request_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        return {i for i in request_ids if i in self._rows}

    def find_fresh(self, query_hash: str, since: datetime) -> Response | None:
        best: Response | None = None
        for response in self._rows.values():
            request = self._requests.get(response.request_id)
            if request is None or request.query_hash != query_hash:
                continue
            if response.status != "completed" or response.received_at < since:
                continue
            if response.from_cache:
                continue  # its data is as old as the answer it copied
            if best is None or response.received_at > best.received_at:
                best = response
        return None if best is None else _copy(best)

    def all(self) -> list[Response]:
        return self._all()


class MemoryApiKeys(_Table):
    def add(self, key: ApiKey) -> None:
        self._put(key.id, key)

    save = add

    def get(self, key_id: uuid.UUID) -> ApiKey | None:
        found: ApiKey | None = self._get(key_id)
        return found

    def get_by_hash(self, key_hash: str) -> ApiKey | None:
        for k in self._rows.values():
            if k.key_hash == key_hash:
                found: ApiKey = _copy(k)
                return found
        return None

    def for_user(self, user_id: uuid.UUID) -> Sequence[ApiKey]:
        return [_copy(k) for k in self._rows.values() if k.user_id == user_id]


class MemoryRequestStore(_Store):
    """The request network's database, in memory."""

    def __init__(self) -> None:
        super().__init__(
            [
                "users",
                "requests",
                "responses",
                "api_keys",
                "export_batches",
                "import_batches",
                "outbound",
                "inbound",
            ],
            ["audit"],
        )

    def unit_of_work(self) -> MemoryRequestUnitOfWork:
        return MemoryRequestUnitOfWork(self)


class MemoryRequestUnitOfWork(_UnitOfWork):
    users: MemoryUserReplica
    requests: MemoryRequests
    responses: MemoryResponses
    api_keys: MemoryApiKeys
    export_batches: MemoryExportBatches
    import_batches: MemoryImportBatches
    channels: MemoryChannels
    audit: MemoryAuditLog

    def _bind(self, state: _Tables) -> None:
        self.users = MemoryUserReplica(state, "users")
        self.requests = MemoryRequests(state, "requests")
        self.responses = MemoryResponses(state)
        self.api_keys = MemoryApiKeys(state, "api_keys")
        self.export_batches = MemoryExportBatches(state, "export_batches")
        self.import_batches = MemoryImportBatches(state, "import_batches")
        self.channels = MemoryChannels(state)
        self.audit = MemoryAuditLog(state, "audit")


# --- response network ----------------------------------------------------------------------


class MemoryJobs(_Table):
    def get(self, job_id: uuid.UUID) -> QueryJob | None:
        found: QueryJob | None = self._get(job_id)
        return found

    def get_by_request(self, request_id: uuid.UUID) -> QueryJob | None:
        for j in self._rows.values():
            if j.request_id == request_id:
                found: QueryJob = _copy(j)
                return found
        return None

    def add_if_absent(self, job: QueryJob) -> bool:
        if any(j.request_id == job.request_id for j in self._rows.values()):
            return False
        self._put(job.id, job)
        return True

    def add_all_if_absent(self, jobs: Sequence[QueryJob]) -> set[uuid.UUID]:
        present = {j.request_id for j in self._rows.values()}
        inserted: set[uuid.UUID] = set()
        for job in jobs:
            if job.request_id not in present:
                self._put(job.id, job)
                present.add(job.request_id)
                inserted.add(job.request_id)
        return inserted

    def save(self, job: QueryJob) -> None:
        self._put(job.id, job)

    def claim_next(self, worker: str, now: datetime, lease: timedelta) -> QueryJob | None:
        claimable = [j for j in self._rows.values() if j.claimable(now)]
        if not claimable:
            return None
        job: QueryJob = _copy(min(claimable, key=lambda j: (-j.priority, j.imported_at, j.id)))
        job.claim(worker, now, lease)
        self._put(job.id, job)
        return _copy(job)

    def all(self) -> list[QueryJob]:
        return sorted(self._all(), key=lambda j: (j.imported_at, j.id))


class MemoryResults(_Table):
    def get(self, result_id: uuid.UUID) -> QueryResult | None:
        found: QueryResult | None = self._get(result_id)
        return found

    def get_for_job(self, job_id: uuid.UUID) -> QueryResult | None:
        for r in self._rows.values():
            if r.job_id == job_id:
                found: QueryResult = _copy(r)
                return found
        return None

    def add(self, result: QueryResult) -> None:
        self._put(result.id, result)

    def save_all(self, results: Sequence[QueryResult]) -> None:
        for r in results:
            self._put(r.id, r)

    def unexported(self, limit: int) -> Sequence[QueryResult]:
        rows = [r for r in self._rows.values() if r.export_batch_id is None]
        rows.sort(key=lambda r: (r.executed_at, r.id))
        return [_copy(r) for r in rows[:limit]]

    def in_export_batch(self, batch_id: uuid.UUID) -> Sequence[QueryResult]:
        return [_copy(r) for r in self._rows.values() if r.export_batch_id == batch_id]

    def withdraw(self, result_id: uuid.UUID) -> bool:
        row = self._rows.get(result_id)
        if row is None or row.export_batch_id is not None:
            return False
        del self._rows[result_id]
        self._written.add(result_id)
        return True

    def all(self) -> list[QueryResult]:
        return sorted(self._all(), key=lambda r: (r.executed_at, r.id))


class MemoryResponseStore(_Store):
    """The response network's database, in memory."""

    def __init__(self) -> None:
        super().__init__(
            [
                "users",
                "api_keys",
                "jobs",
                "results",
                "export_batches",
                "import_batches",
                "outbound",
                "inbound",
            ],
            ["system_logs"],
        )

    def unit_of_work(self) -> MemoryResponseUnitOfWork:
        return MemoryResponseUnitOfWork(self)


class MemoryResponseUnitOfWork(_UnitOfWork):
    users: MemoryUserReplica
    api_keys: MemoryApiKeys
    jobs: MemoryJobs
    results: MemoryResults
    export_batches: MemoryExportBatches
    import_batches: MemoryImportBatches
    channels: MemoryChannels
    system_logs: MemorySystemLog

    def _bind(self, state: _Tables) -> None:
        self.users = MemoryUserReplica(state, "users")
        self.api_keys = MemoryApiKeys(state, "api_keys")
        self.jobs = MemoryJobs(state, "jobs")
        self.results = MemoryResults(state, "results")
        self.export_batches = MemoryExportBatches(state, "export_batches")
        self.import_batches = MemoryImportBatches(state, "import_batches")
        self.channels = MemoryChannels(state)
        self.system_logs = MemorySystemLog(state, "system_logs")
