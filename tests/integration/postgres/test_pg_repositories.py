"""What the PostgreSQL repositories must do beyond the shared port contract (which
tests/contracts runs on memory and PostgreSQL alike): keep every value exactly, lock what
they promise to lock, do bulk work in one statement, and let the planner use the indexes."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import IntegrityError

from airgap.adapters.postgres.unit_of_work import (
    PostgresRequestStore,
    PostgresResponseStore,
)
from airgap.domain.model.audit import AuditEntry
from airgap.domain.model.batching import ExportStatus
from airgap.domain.model.canonical import canonical_sha256
from airgap.domain.model.jobs import MAX_ATTEMPTS, JobStatus, QueryJob
from airgap.domain.model.users import ProfileType, Role
from contracts.builders import TO_REQUEST, TO_RESPONSE, Make, state

LEASE = timedelta(seconds=60)


@pytest.fixture
def make() -> Make:
    return Make()


@contextmanager
def statements(store: PostgresRequestStore | PostgresResponseStore) -> Iterator[list[str]]:
    """The SQL statements the store's engine sends while the block runs (an executemany
    counts once: it is one round of the driver's pipeline)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


# --- values survive exactly -----------------------------------------------------------------


def test_query_parameters_keep_every_number_and_character(
    pg_request_store: PostgresRequestStore, make: Make
) -> None:
    """The query hash is computed over the exact JSON; jsonb would re-spell 1e+20 as an
    integer and refuse NUL, and orjson would turn a 70-bit integer into a float."""
    alice = make.user("alice")
    request = make.request(alice)
    request.query_params = {
        "index": "products",
        "query": {"term": {"code": 2**70, "weight": 1e20, "ratio": 1.0, "name": "nul\u0000é☃"}},
        "size": 10,
    }
    request.query_hash = canonical_sha256(request.query_params)
    with pg_request_store.unit_of_work() as uow:
        uow.users.add(alice)
        uow.requests.add(request)
        uow.commit()
    with pg_request_store.unit_of_work() as uow:
        stored = uow.requests.get(request.id)
    assert stored is not None
    assert canonical_sha256(stored.query_params) == request.query_hash
    term = stored.query_params["query"]["term"]
    assert term["code"] == 2**70
    assert isinstance(term["weight"], float)
    assert isinstance(term["ratio"], float)


def test_unlimited_profiles_roles_and_index_whitelists_round_trip(
    pg_response_store: PostgresResponseStore, make: Make
) -> None:
    admin = make.user("root", profile=ProfileType.ADMIN, role=Role.ADMIN)
    assert admin.rate_limits.unlimited
    admin.allowed_indices = frozenset()
    admin.last_login = make.later(5)
    with pg_response_store.unit_of_work() as uow:
        uow.users.add(admin)
        uow.commit()
    with pg_response_store.unit_of_work() as uow:
        assert state(uow.users.get(admin.id)) == state(admin)
        assert uow.users.changed_since(0)[0].id == admin.id
        assert uow.users.changed_since(1) == []


def test_an_audit_entry_whose_address_is_not_an_ip_is_kept_whole(
    pg_request_store: PostgresRequestStore, make: Make
) -> None:
    entries = [
        AuditEntry(action="login", created_at=make.now, ip_address="testclient"),
        AuditEntry(action="login", created_at=make.now, ip_address="2001:db8::1"),
        AuditEntry(action="login", created_at=make.now, ip_address=None, details={"a": [1]}),
    ]
    with pg_request_store.unit_of_work() as uow:
        for entry in entries:
            uow.audit.record(entry)
        uow.commit()
    with pg_request_store.unit_of_work() as uow:
        assert uow.audit.entries() == entries


# --- units of work --------------------------------------------------------------------------


def test_a_failed_statement_rolls_back_the_whole_unit_of_work(
    pg_request_store: PostgresRequestStore, make: Make
) -> None:
    alice = make.user("alice")

    def add_twice() -> None:
        with pg_request_store.unit_of_work() as uow:
            uow.users.add(alice)
            uow.users.add(make.user("alice"))  # the same username: refused by the database
            uow.commit()

    with pytest.raises(IntegrityError):
        add_twice()
    with pg_request_store.unit_of_work() as uow:
        assert uow.users.get(alice.id) is None


def test_a_unit_of_work_is_entered_once_and_commits_only_inside(
    pg_request_store: PostgresRequestStore,
) -> None:
    uow = pg_request_store.unit_of_work()
    with pytest.raises(RuntimeError):
        uow.commit()
    with uow, pytest.raises(RuntimeError), uow:
        pass
    uow.rollback()  # harmless once closed, as in memory


def test_connections_go_back_to_the_pool(pg_response_store: PostgresResponseStore) -> None:
    for _ in range(30):
        with pg_response_store.unit_of_work() as uow:
            uow.jobs.all()
    assert pg_response_store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


# --- bulk work ------------------------------------------------------------------------------


def test_save_all_of_a_full_batch_is_one_statement(
    pg_request_store: PostgresRequestStore, make: Make
) -> None:
    alice = make.user("alice", profile=ProfileType.ADMIN)
    requests = [make.request(alice) for _ in range(500)]
    with pg_request_store.unit_of_work() as uow:
        uow.users.add(alice)
        uow.commit()
    with pg_request_store.unit_of_work() as uow:
        with statements(pg_request_store) as sent:
            uow.requests.save_all(requests)  # new rows: an UPDATE that finds none, an upsert
        assert len(sent) == 2
        uow.commit()
    batch_id = make.ids.new_id()
    for request in requests:
        request.mark_exported(batch_id, make.later(1))
    with pg_request_store.unit_of_work() as uow:
        with statements(pg_request_store) as sent:
            uow.requests.save_all(requests)
        assert len(sent) == 1
        uow.commit()
    with pg_request_store.unit_of_work() as uow:
        stored = uow.requests.in_export_batch(batch_id)
    assert sorted(r.id for r in stored) == sorted(r.id for r in requests)


def test_results_save_all_is_one_statement(
    pg_response_store: PostgresResponseStore, make: Make
) -> None:
    jobs = [make.job() for _ in range(200)]
    results = [make.result(job) for job in jobs]
    with pg_response_store.unit_of_work() as uow:
        for job in jobs:
            uow.jobs.add_if_absent(job)
        for result in results:
            uow.results.add(result)
        uow.commit()
    batch_id = make.ids.new_id()
    for result in results:
        result.mark_exported(batch_id, make.now)
    with pg_response_store.unit_of_work() as uow:
        with statements(pg_response_store) as sent:
            uow.results.save_all(results)
        assert len(sent) == 1
        uow.commit()
    with pg_response_store.unit_of_work() as uow:
        assert uow.results.unexported(10) == []
        assert len(uow.results.in_export_batch(batch_id)) == 200


# --- the job queue --------------------------------------------------------------------------


def _jobs_in_every_state(make: Make) -> list[QueryJob]:
    now = make.now
    jobs: list[QueryJob] = []
    for priority in (3, 7):
        for offset in (0, 5):
            pending = make.job(priority=priority, imported_at=make.later(offset - 100))
            jobs.append(pending)
            for due in (True, False):
                retry = make.job(priority=priority, imported_at=make.later(offset - 90))
                retry.claim("w", now - timedelta(minutes=10), LEASE)
                retry.retry_later("timeout", now - timedelta(minutes=10))
                retry.next_attempt_at = now + timedelta(seconds=-1 if due else 30)
                jobs.append(retry)
            for expired in (True, False):
                held = make.job(priority=priority, imported_at=make.later(offset - 80))
                held.claim("w", now - (LEASE * 2 if expired else timedelta(seconds=1)), LEASE)
                jobs.append(held)
            last = make.job(priority=priority, imported_at=make.later(offset - 70))
            for _ in range(MAX_ATTEMPTS):
                last.status = JobStatus.PENDING
                last.claim("w", now - LEASE * 2, LEASE)
            jobs.append(last)  # abandoned on its last attempt: claiming fails it
            done = make.job(priority=priority, imported_at=make.later(offset - 60))
            done.claim("w", now, LEASE)
            done.complete(now)
            jobs.append(done)
    return jobs


def test_claim_next_follows_the_domains_claimable_rule_and_order(
    pg_response_store: PostgresResponseStore, make: Make
) -> None:
    jobs = _jobs_in_every_state(make)
    now = make.now
    expected = sorted(
        (j for j in jobs if j.claimable(now)), key=lambda j: (-j.priority, j.imported_at, j.id)
    )
    with pg_response_store.unit_of_work() as uow:
        for job in jobs:
            uow.jobs.save(job)
        uow.commit()
    claimed: list[QueryJob] = []
    while True:
        with pg_response_store.unit_of_work() as uow:
            job = uow.jobs.claim_next("worker-2", now, LEASE)
            uow.commit()
        if job is None:
            break
        claimed.append(job)
    assert [j.id for j in claimed] == [j.id for j in expected]
    abandoned = [j.id for j in claimed if j.status is JobStatus.FAILED]
    assert abandoned == [j.id for j in expected if j.attempts >= MAX_ATTEMPTS]
    assert len(abandoned) == 4
    with pg_response_store.unit_of_work() as uow:
        for job in claimed:
            assert state(uow.jobs.get(job.id)) == state(job)


def _plan(connection: Connection, sql: str, params: Any) -> str:
    """The plan when scanning the whole table or sorting is priced out.

    The tables are nearly empty here and their statistics are whatever earlier tests left,
    so the planner's own choice between two usable indexes is a coin toss. Pricing out
    sequential scans and sorts asks the question that matters: is there an index that
    serves the query's filter *and* its order on its own?
    """
    for setting in ("enable_seqscan", "enable_sort", "enable_incremental_sort"):
        connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    rows = connection.exec_driver_sql("EXPLAIN " + sql, params).all()
    return "\n".join(r[0] for r in rows)


def test_the_queue_and_export_queries_use_their_partial_indexes(
    pg_request_store: PostgresRequestStore,
    pg_response_store: PostgresResponseStore,
    make: Make,
) -> None:
    cases = [
        (pg_response_store, lambda uow: uow.jobs.claim_next("w", make.now, LEASE), "priority"),
        (pg_response_store, lambda uow: uow.results.unexported(500), "unexported"),
        (pg_request_store, lambda uow: uow.requests.pending_for_export(500), "pending"),
        (pg_request_store, lambda uow: uow.import_batches.unreported(), "unreported"),
    ]
    for store, call, index in cases:
        captured: list[tuple[str, Any]] = []

        def record(
            _c: Any, _cur: Any, statement: str, params: Any, *_a: Any, into: Any = captured
        ) -> None:
            into.append((statement, params))

        event.listen(store.engine, "before_cursor_execute", record)
        try:
            with store.unit_of_work() as uow:
                call(uow)
        finally:
            event.remove(store.engine, "before_cursor_execute", record)
        sql, params = captured[0]
        with store.engine.connect() as connection:
            plan = _plan(connection, sql, params)
        assert index in plan, plan
        assert "Sort" not in plan, plan


# --- locks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["outbound", "inbound"])
def test_a_channel_end_stays_locked_until_its_unit_of_work_ends(
    pg_request_store: PostgresRequestStore, make: Make, end: str
) -> None:
    channel = TO_RESPONSE if end == "outbound" else TO_REQUEST
    held = threading.Event()
    release = threading.Event()

    def first() -> None:
        with pg_request_store.unit_of_work() as uow:
            if end == "outbound":
                state_ = uow.channels.outbound(channel)
                state_.next_sequence(make.now)
                uow.channels.save_outbound(state_)
            else:
                inbound = uow.channels.inbound(channel)
                inbound.record(1, make.now)
                uow.channels.save_inbound(inbound)
            held.set()
            release.wait(5)
            uow.commit()

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(5)
    timer = threading.Timer(0.3, release.set)
    timer.start()
    started = time.monotonic()
    with pg_request_store.unit_of_work() as uow:
        if end == "outbound":
            seen = uow.channels.outbound(channel).last_sequence
        else:
            seen = uow.channels.inbound(channel).received.highest
    waited = time.monotonic() - started
    thread.join()
    timer.cancel()
    assert waited >= 0.25  # it waited for the first unit of work to commit...
    assert seen == 1  # ...and then saw what it committed


def test_first_use_of_a_channel_by_many_at_once_makes_one_row(
    pg_request_store: PostgresRequestStore,
) -> None:
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def use() -> None:
        try:
            start.wait()
            with pg_request_store.unit_of_work() as uow:
                uow.channels.outbound(TO_RESPONSE)
                uow.commit()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with pg_request_store.engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM outbound_channels")).scalar()
    assert count == 1


def test_written_batches_record_when_they_were_written(
    pg_request_store: PostgresRequestStore, make: Make
) -> None:
    planned = make.export_batch(1, written=False)
    with pg_request_store.unit_of_work() as uow:
        uow.export_batches.add(planned)
        uow.commit()

    def completed_at() -> Any:
        with pg_request_store.engine.connect() as connection:
            return connection.execute(
                text("SELECT completed_at FROM export_batches WHERE id = :id"), {"id": planned.id}
            ).scalar()

    assert completed_at() is None
    planned.mark_written(make.manifest_for(planned))
    with pg_request_store.unit_of_work() as uow:
        uow.export_batches.save(planned)
        uow.commit()
    written = completed_at()
    assert written is not None
    planned.acknowledge(make.later(60))
    with pg_request_store.unit_of_work() as uow:
        uow.export_batches.save(planned)
        uow.commit()
        stored = uow.export_batches.get(planned.id)
    assert stored is not None
    assert stored.status is ExportStatus.ACKNOWLEDGED
    assert completed_at() == written


def test_a_job_re_run_by_an_operator_keeps_both_results(
    pg_response_store: PostgresResponseStore, make: Make
) -> None:
    """query_results.request_id is not unique (unlike the seeds): a failed job an operator
    retries leaves a second result, and get_for_job returns the newer one."""
    job = make.job()
    first = make.result(job, executed_at=make.now)
    first.status, first.error = "failed", "index unavailable"
    second = make.result(job, executed_at=make.later(60))
    with pg_response_store.unit_of_work() as uow:
        uow.jobs.add_if_absent(job)
        uow.results.add(first)
        uow.results.add(second)
        uow.commit()
    with pg_response_store.unit_of_work() as uow:
        newest = uow.results.get_for_job(job.id)
        assert newest is not None
        assert newest.id == second.id
        assert uow.results.get_for_job(uuid.uuid4()) is None


def test_add_all_if_absent_inserts_each_request_once_in_one_statement(
    pg_response_store: PostgresResponseStore, make: Make
) -> None:
    """The bulk form the importer could use (see the adapter's docstring)."""
    first = [make.job() for _ in range(3)]
    with pg_response_store.unit_of_work() as uow:
        assert uow.jobs.add_if_absent(first[0])
        uow.commit()
    again = make.job(request_id=first[1].request_id)  # the same request in a later batch
    with pg_response_store.unit_of_work() as uow:
        with statements(pg_response_store) as sent:
            inserted = uow.jobs.add_all_if_absent([*first, again])
        assert len(sent) == 1
        assert uow.jobs.add_all_if_absent([]) == set()
        uow.commit()
    assert inserted == {first[1].request_id, first[2].request_id}
    with pg_response_store.unit_of_work() as uow:
        stored = uow.jobs.all()
    assert sorted(j.id for j in stored) == sorted(j.id for j in first)
    assert [state(j) for j in stored if j.id == first[2].id] == [state(first[2])]
