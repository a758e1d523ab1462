"""The admin lists: pages with totals, filters and sorting, read from a real run."""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pytest
from pg_systems import UnsaltedHasher, postgres_system, story
from sqlalchemy import event, text

from airgap.adapters.postgres.read_models import (
    InvalidQuery,
    RequestNetworkQueries,
    ResponseNetworkQueries,
)
from airgap.adapters.postgres.unit_of_work import PostgresRequestStore, PostgresResponseStore
from airgap.domain.model.batching import BatchType, ExportStatus, ImportStatus
from airgap.domain.model.jobs import JobStatus
from airgap.domain.model.requests import RequestStatus
from contracts.builders import Make


@pytest.fixture
def stores(
    pg_request_store: PostgresRequestStore, pg_response_store: PostgresResponseStore
) -> tuple[RequestNetworkQueries, ResponseNetworkQueries]:
    system = attrs.evolve(
        postgres_system(pg_request_store, pg_response_store), hasher=UnsaltedHasher()
    )
    story(system)
    return RequestNetworkQueries(pg_request_store.engine), ResponseNetworkQueries(
        pg_response_store.engine
    )


def test_request_lists_page_filter_and_sort(
    stores: tuple[RequestNetworkQueries, ResponseNetworkQueries],
) -> None:
    queries, _ = stores
    everything = queries.requests(limit=500)
    assert everything.total == len(everything.items) == 8
    created = [r.created_at for r in everything.items]
    assert created == sorted(created, reverse=True)  # newest first by default

    first, second = queries.requests(limit=3), queries.requests(limit=3, offset=3)
    assert (first.total, first.limit, first.offset) == (8, 3, 0)
    assert [r.id for r in first.items + second.items] == [r.id for r in everything.items[:6]]

    alice = queries.users(search="ALI").items[0]
    mine = queries.requests(user_id=alice.id, sort="created_at")
    assert mine.total == 5
    assert {r.user_id for r in mine.items} == {alice.id}
    assert [r.created_at for r in mine.items] == sorted(r.created_at for r in mine.items)

    cancelled = queries.requests(status="cancelled")
    assert [r.status for r in cancelled.items] == [RequestStatus.CANCELLED]
    finished = queries.requests(status=["completed", "cancelled"])
    assert finished.total == 8

    by_priority = queries.requests(sort="-priority").items
    assert [r.priority for r in by_priority] == sorted(
        (r.priority for r in by_priority), reverse=True
    )
    assert queries.request_counts() == {"completed": 7, "cancelled": 1}

    answers = queries.responses(user_id=alice.id)
    assert answers.total == 5
    assert {a.request_id for a in answers.items} <= {r.id for r in mine.items}


def test_users_batches_and_audit_lists(
    stores: tuple[RequestNetworkQueries, ResponseNetworkQueries],
) -> None:
    queries, monitoring = stores
    assert [u.username for u in queries.users().items] == ["alice", "bob"]
    assert [u.username for u in queries.users(profile_type="basic").items] == ["bob"]
    assert queries.users(search="nobody").total == 0
    assert queries.users(search="%").total == 0  # a wildcard is a character here

    sent = queries.export_batches(batch_type="requests")
    assert sent.total >= 3
    assert {b.batch_type for b in sent.items} == {BatchType.REQUESTS}
    assert {b.status for b in queries.export_batches(status="resent").items} == {
        ExportStatus.RESENT
    }
    by_sequence = queries.export_batches(sort="sequence").items
    assert [b.sequence for b in by_sequence] == sorted(b.sequence for b in by_sequence)
    found = queries.export_batch(by_sequence[0].id)
    assert found is not None
    assert found.sequence == by_sequence[0].sequence
    assert queries.export_batch(uuid.uuid4()) is None

    received = queries.import_batches()
    assert {b.status for b in received.items} == {ImportStatus.COMPLETED, ImportStatus.DUPLICATE}
    duplicate = queries.import_batches(status="duplicate").items[0]
    assert queries.import_batch(duplicate.id) is not None

    submits = queries.audit_logs(action="request.submit")
    assert submits.total == 8
    assert all(row.entry.action == "request.submit" for row in submits.items)
    ids = [row.id for row in queries.audit_logs(limit=500).items]
    assert ids == sorted(ids, reverse=True)
    one = submits.items[0].entry
    assert one.resource_id is not None
    assert queries.audit_logs(resource_type="request", resource_id=one.resource_id).total >= 1

    assert [u.username for u in monitoring.users(sort="-username").items] == ["bob", "alice"]


def test_monitoring_lists_and_transfer_status(
    stores: tuple[RequestNetworkQueries, ResponseNetworkQueries],
) -> None:
    queries, monitoring = stores
    jobs = monitoring.jobs(limit=500)
    assert jobs.total == 6  # 8 requests: one cancelled, one answered from a stored answer
    assert {j.status for j in jobs.items} == {JobStatus.COMPLETED}
    assert monitoring.jobs(status="pending").total == 0
    job = monitoring.job(jobs.items[0].id)
    assert job is not None
    assert monitoring.job_counts() == {"completed": 6}

    results = monitoring.results(limit=500)
    assert results.total == 6
    assert monitoring.results(exported=False).total == 0
    assert monitoring.results(exported=True, index="products").total == 6
    assert monitoring.result(results.items[0].id) is not None

    logs = monitoring.system_logs(component="import")
    assert logs.total >= 3
    assert all(row.entry.component == "import" for row in logs.items)

    status = queries.transfer_status()
    assert status.outbound.last_sequence >= 3
    assert status.missing == ()
    assert status.unwritten == 0
    assert status.awaiting_ack == len(
        [b for b in queries.export_batches(limit=500).items if b.awaits_ack]
    )
    assert monitoring.transfer_status().inbound.received.highest >= 3


def test_dead_letters_are_listed_newest_first(
    pg_response_store: PostgresResponseStore,
) -> None:
    with pg_response_store.engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO dead_letters (message_id, queue_name, actor_name, args, error,"
                    " attempts, failed_at) VALUES (:m, 'default', :a, '[1]', 'boom', 4,"
                    " now() - make_interval(mins => :n))"
                ),
                {"m": f"msg-{n}", "a": "queries.execute" if n else "results.export", "n": n},
            )
    queries = ResponseNetworkQueries(pg_response_store.engine)
    letters = queries.dead_letters()
    assert [d.message_id for d in letters.items] == ["msg-0", "msg-1", "msg-2"]
    assert letters.items[0].args == (1,)
    assert queries.dead_letters(actor_name="queries.execute").total == 2


@pytest.mark.parametrize(
    "arguments",
    [{"sort": "password"}, {"limit": 0}, {"limit": 501}, {"offset": -1}],
)
def test_bad_pages_and_sorts_are_refused(
    pg_request_store: PostgresRequestStore, arguments: dict[str, Any]
) -> None:
    with pytest.raises(InvalidQuery):
        RequestNetworkQueries(pg_request_store.engine).requests(**arguments)


def test_a_users_requests_newest_first_are_one_index_scan(
    pg_request_store: PostgresRequestStore,
) -> None:
    captured: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
        captured.append((statement, params))

    queries = RequestNetworkQueries(pg_request_store.engine)
    event.listen(pg_request_store.engine, "before_cursor_execute", record)
    try:
        queries.requests(user_id=uuid.uuid4(), limit=20)
    finally:
        event.remove(pg_request_store.engine, "before_cursor_execute", record)
    page_sql, params = next((s, p) for s, p in captured if "ORDER BY" in s)
    with pg_request_store.engine.connect() as connection:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            r[0] for r in connection.exec_driver_sql("EXPLAIN " + page_sql, params).all()
        )
    assert "idx_requests_user" in plan, plan


def test_lists_leave_the_pooled_connections_writable(
    pg_request_store: PostgresRequestStore,
) -> None:
    """Lists read in read-only REPEATABLE READ transactions; the pool must not hand that
    setting on to the next unit of work."""
    queries = RequestNetworkQueries(pg_request_store.engine)
    make = Make()
    for _ in range(8):
        assert queries.users().total >= 0
        with pg_request_store.unit_of_work() as uow:
            uow.users.add(make.user())
            uow.commit()
    assert queries.users().total == 8
