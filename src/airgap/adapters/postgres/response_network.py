"""The response network's repositories: query jobs (``incoming_requests``), results and the
system log. Users are :class:`~airgap.adapters.postgres.request_network.PostgresUsers` on
this network's table."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from airgap.adapters.postgres import tables
from airgap.adapters.postgres.statements import (
    by,
    fetch_all,
    fetch_one,
    insert,
    insert_many_if_absent,
    save_many,
    select_by,
    upsert,
)
from airgap.adapters.postgres.translation import (
    job_from,
    job_row,
    result_from,
    result_row,
    system_log_from,
    system_log_row,
)
from airgap.domain.model.audit import SystemLogEntry
from airgap.domain.model.jobs import JobStatus, QueryJob, QueryResult

_jobs = tables.incoming_requests
_results = tables.query_results

# The states a job can be claimed from; the claim query names them so the planner can use
# the partial index ``idx_incoming_priority``, which covers exactly these.
_OPEN = (JobStatus.PENDING.value, JobStatus.RETRY.value, JobStatus.PROCESSING.value)

_ADD_IF_ABSENT = (
    pg_insert(_jobs)
    .on_conflict_do_nothing(index_elements=[_jobs.c.original_request_id])
    .returning(_jobs.c.id)
)

_GET_JOB_FOR_UPDATE = select_by(_jobs, "id").with_for_update()

# Columns fixed when a job is imported; everything else may change with its lifecycle.
_IMMUTABLE = frozenset({"id", "original_request_id", "user_id", "query_type", "query_params"})


class PostgresJobs:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, job_id: uuid.UUID) -> QueryJob | None:
        """Locked ``FOR UPDATE``: a worker checks it still holds the job before it records
        the outcome, and another worker taking the job over must wait for that."""
        row = fetch_one(self._connection, _GET_JOB_FOR_UPDATE, by(id=job_id))
        return None if row is None else job_from(row)

    def get_by_request(self, request_id: uuid.UUID) -> QueryJob | None:
        statement = select_by(_jobs, "original_request_id")
        row = fetch_one(self._connection, statement, by(original_request_id=request_id))
        return None if row is None else job_from(row)

    def add_if_absent(self, job: QueryJob) -> bool:
        """``INSERT … ON CONFLICT (original_request_id) DO NOTHING``: of two imports racing
        with the same request, the second waits for the first and then inserts nothing."""
        inserted = self._connection.execute(_ADD_IF_ABSENT, job_row(job)).first()
        return inserted is not None

    def add_all_if_absent(self, jobs: Sequence[QueryJob]) -> set[uuid.UUID]:
        """The bulk form of :meth:`add_if_absent`, in one statement; returns the request
        ids that were inserted."""
        inserted = insert_many_if_absent(
            self._connection,
            _jobs,
            [job_row(j) for j in jobs],
            conflict="original_request_id",
            returning="original_request_id",
        )
        return set(inserted)

    def save(self, job: QueryJob) -> None:
        upsert(self._connection, _jobs, [job_row(job)])

    def claim_next(self, worker: str, now: datetime, lease: timedelta) -> QueryJob | None:
        """The most urgent claimable job, locked with ``FOR UPDATE SKIP LOCKED`` so that
        concurrent workers each get a different one, then claimed by ``QueryJob.claim``.

        Claimable is ``QueryJob.claimable`` spelled in SQL: pending; retry whose
        ``next_attempt_at`` is due; processing whose lease ran out."""
        statement = (
            select(_jobs)
            .where(
                _jobs.c.status.in_(_OPEN),
                or_(
                    _jobs.c.status == JobStatus.PENDING.value,
                    and_(
                        _jobs.c.status == JobStatus.RETRY.value,
                        or_(_jobs.c.next_attempt_at.is_(None), _jobs.c.next_attempt_at <= now),
                    ),
                    and_(
                        _jobs.c.status == JobStatus.PROCESSING.value,
                        _jobs.c.lease_expires_at <= now,
                    ),
                ),
            )
            .order_by(_jobs.c.priority.desc(), _jobs.c.imported_at, _jobs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = fetch_one(self._connection, statement)
        if row is None:
            return None
        job = job_from(row)
        # Processing under a lease -- or failed, when a dead worker's lease ran out on the
        # last attempt (QueryJob.claim decides; this only stores what it decided).
        job.claim(worker, now, lease)
        values = job_row(job)
        self._connection.execute(
            update(_jobs)
            .where(_jobs.c.id == job.id)
            .values({name: value for name, value in values.items() if name not in _IMMUTABLE})
        )
        return job

    def all(self) -> list[QueryJob]:
        statement = select(_jobs).order_by(_jobs.c.imported_at, _jobs.c.id)
        return [job_from(r) for r in fetch_all(self._connection, statement)]


class PostgresResults:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, result_id: uuid.UUID) -> QueryResult | None:
        row = fetch_one(self._connection, select_by(_results, "id"), by(id=result_id))
        return None if row is None else result_from(row)

    def get_for_job(self, job_id: uuid.UUID) -> QueryResult | None:
        """The job's newest result (an operator's retry of a failed job adds another)."""
        statement = (
            select(_results)
            .where(_results.c.request_id == job_id)
            .order_by(_results.c.executed_at.desc(), _results.c.id.desc())
            .limit(1)
        )
        row = fetch_one(self._connection, statement)
        return None if row is None else result_from(row)

    def add(self, result: QueryResult) -> None:
        insert(self._connection, _results, [result_row(result)])

    def save_all(self, results: Sequence[QueryResult]) -> None:
        """One ``UPDATE … FROM unnest(…)`` for the lot (see ``PostgresRequests.save_all``)."""
        save_many(self._connection, _results, [result_row(r) for r in results])

    def unexported(self, limit: int) -> Sequence[QueryResult]:
        """Locked ``FOR UPDATE SKIP LOCKED``: concurrent exporters take different results."""
        statement = (
            select(_results)
            .where(_results.c.export_batch_id.is_(None))
            .order_by(_results.c.executed_at, _results.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [result_from(r) for r in fetch_all(self._connection, statement)]

    def in_export_batch(self, batch_id: uuid.UUID) -> Sequence[QueryResult]:
        """Locked ``FOR UPDATE`` (the re-send rule changes these rows)."""
        statement = (
            select(_results)
            .where(_results.c.export_batch_id == batch_id)
            .order_by(_results.c.executed_at, _results.c.id)
            .with_for_update()
        )
        return [result_from(r) for r in fetch_all(self._connection, statement)]

    def withdraw(self, result_id: uuid.UUID) -> bool:
        """``DELETE`` the result unless it was exported (the condition is in the statement,
        so an exporter that took it first wins)."""
        statement = (
            delete(_results)
            .where(_results.c.id == result_id, _results.c.export_batch_id.is_(None))
            .returning(_results.c.id)
        )
        return self._connection.execute(statement).first() is not None

    def all(self) -> list[QueryResult]:
        statement = select(_results).order_by(_results.c.executed_at, _results.c.id)
        return [result_from(r) for r in fetch_all(self._connection, statement)]


class PostgresSystemLog:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, entry: SystemLogEntry) -> None:
        insert(self._connection, tables.system_logs, [system_log_row(entry)])

    def entries(self) -> list[SystemLogEntry]:
        t = tables.system_logs
        return [system_log_from(r) for r in fetch_all(self._connection, select(t).order_by(t.c.id))]
