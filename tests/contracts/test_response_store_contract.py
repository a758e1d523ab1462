"""Contract of the response network's unit of work (``ResponseNetworkUnitOfWork``) and its
repositories, written against the port only.

To check another adapter, add its name to the ``params`` of the ``store`` fixture and a branch
that builds it. Each branch must hand out an **empty** store per test (a fresh schema, or
truncated tables), and its units of work must be usable from several threads at once: the
claim test runs eight workers, each with its own unit of work.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta

import attrs
import pytest
from builders import TO_REQUEST, TO_RESPONSE, Make, state

from airgap.adapters.memory.store import MemoryResponseStore
from airgap.domain.model.audit import LogLevel, SystemLogEntry
from airgap.domain.model.batching import Acks, ImportStatus
from airgap.domain.model.jobs import MAX_ATTEMPTS, JobStatus, QueryJob, QueryResult
from airgap.domain.model.users import ProfileType, User
from airgap.ports.response_store import ResponseNetworkUnitOfWork
from support.databases import postgres_response_store

LEASE = timedelta(seconds=60)


@attrs.frozen
class ResponseStoreUnderTest:
    """What the tests need from one adapter: units of work on an empty store, and a way to
    read back the system log (the port only writes it)."""

    adapter: str
    unit_of_work: Callable[[], ResponseNetworkUnitOfWork]
    system_log_entries: Callable[[], Sequence[SystemLogEntry]]


def _memory() -> ResponseStoreUnderTest:
    memory = MemoryResponseStore()

    def system_log_entries() -> Sequence[SystemLogEntry]:
        with memory.unit_of_work() as uow:
            return uow.system_logs.entries()

    return ResponseStoreUnderTest("memory", memory.unit_of_work, system_log_entries)


@contextmanager
def _postgres() -> Iterator[ResponseStoreUnderTest]:
    """A fresh migrated database on the test server (support.databases), dropped after."""
    with postgres_response_store() as postgres:

        def system_log_entries() -> Sequence[SystemLogEntry]:
            with postgres.unit_of_work() as uow:
                return uow.system_logs.entries()

        yield ResponseStoreUnderTest("postgres", postgres.unit_of_work, system_log_entries)


@pytest.fixture(params=["memory", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[ResponseStoreUnderTest]:
    """One empty response-network store per adapter under test."""
    if request.param == "memory":
        yield _memory()
    elif request.param == "postgres":
        with _postgres() as postgres:
            yield postgres
    else:  # pragma: no cover - a param without a builder is a mistake in this file
        raise ValueError(f"no response store builder for {request.param!r}")


@pytest.fixture
def make() -> Make:
    return Make()


def given(
    store: ResponseStoreUnderTest,
    *,
    users: Sequence[User] = (),
    jobs: Sequence[QueryJob] = (),
    results: Sequence[QueryResult] = (),
) -> None:
    """Commit these rows, parents before children (results reference their jobs)."""
    with store.unit_of_work() as uow:
        for user in users:
            uow.users.add(user)
        for job in jobs:
            assert uow.jobs.add_if_absent(job)
        for result in results:
            uow.results.add(result)
        uow.commit()


def claim(store: ResponseStoreUnderTest, worker: str, now: datetime) -> QueryJob | None:
    """Claim one job in its own unit of work and commit the claim."""
    with store.unit_of_work() as uow:
        job = uow.jobs.claim_next(worker, now, LEASE)
        uow.commit()
        return job


def claim_all(store: ResponseStoreUnderTest, now: datetime) -> list[uuid.UUID]:
    claimed: list[uuid.UUID] = []
    while (job := claim(store, "worker-1", now)) is not None:
        claimed.append(job.id)
    return claimed


# --- transactions ---------------------------------------------------------------------------


def test_nothing_is_visible_to_another_unit_of_work_before_commit(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    alice, job = make.user("alice"), make.job()
    with store.unit_of_work() as writer:
        writer.users.add(alice)
        assert writer.jobs.add_if_absent(job)
        with store.unit_of_work() as reader:
            assert reader.users.get(alice.id) is None
            assert reader.users.all() == []
            assert reader.jobs.get(job.id) is None
            assert reader.jobs.get_by_request(job.request_id) is None
        writer.commit()
        with store.unit_of_work() as reader:
            assert reader.users.get(alice.id) is not None
            assert reader.jobs.get(job.id) is not None


def test_leaving_without_commit_discards_everything(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    job = make.job()
    with store.unit_of_work() as uow:
        uow.users.add(make.user("alice"))
        uow.jobs.add_if_absent(job)
        uow.results.add(make.result(job))
    with store.unit_of_work() as uow:
        assert uow.users.all() == []
        assert uow.jobs.get(job.id) is None
        assert uow.results.unexported(10) == []


def test_an_exception_discards_everything(store: ResponseStoreUnderTest, make: Make) -> None:
    job = make.job()
    given(store, jobs=[job])

    def claim_then_fail() -> None:
        with store.unit_of_work() as uow:
            assert uow.jobs.claim_next("worker-1", make.now, LEASE) is not None
            uow.users.add(make.user("alice"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        claim_then_fail()
    with store.unit_of_work() as uow:
        stored = uow.jobs.get(job.id)
        assert stored is not None
        assert stored.status is JobStatus.PENDING
        assert uow.users.all() == []


def test_an_uncommitted_claim_leaves_the_job_claimable(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    job = make.job()
    given(store, jobs=[job])
    with store.unit_of_work() as uow:
        assert uow.jobs.claim_next("worker-1", make.now, LEASE) is not None
    claimed = claim(store, "worker-2", make.now)
    assert claimed is not None
    assert claimed.id == job.id
    assert claimed.assigned_worker == "worker-2"
    assert claimed.attempts == 1


def test_rollback_discards_and_the_unit_of_work_carries_on(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    alice, bob = make.user("alice"), make.user("bob")
    with store.unit_of_work() as uow:
        uow.users.add(alice)
        uow.rollback()
        assert uow.users.get(alice.id) is None
        uow.users.add(bob)
        uow.commit()
    with store.unit_of_work() as uow:
        assert [u.id for u in uow.users.all()] == [bob.id]


def test_overlapping_units_of_work_keep_each_others_commits(
    request: pytest.FixtureRequest, store: ResponseStoreUnderTest, make: Make
) -> None:
    first, second = make.job(), make.job()
    with store.unit_of_work() as outer:
        assert outer.jobs.add_if_absent(first)
        with store.unit_of_work() as inner:
            assert inner.jobs.add_if_absent(second)
            inner.commit()
        outer.commit()
    with store.unit_of_work() as uow:
        assert uow.jobs.get(first.id) is not None
        assert uow.jobs.get(second.id) is not None


def test_a_fetched_job_is_a_copy_until_saved(store: ResponseStoreUnderTest, make: Make) -> None:
    job = make.job()
    given(store, jobs=[job])
    with store.unit_of_work() as uow:
        loaded = uow.jobs.get(job.id)
        assert loaded is not None
        loaded.fail("changed but never saved", make.now)
        by_request = uow.jobs.get_by_request(job.request_id)
        assert by_request is not None
        assert by_request.status is JobStatus.PENDING
        uow.commit()
    with store.unit_of_work() as uow:
        assert state(uow.jobs.get(job.id)) == state(job)


# --- users (the source of truth) ------------------------------------------------------------


def test_users_round_trip_and_list(store: ResponseStoreUnderTest, make: Make) -> None:
    alice, bob = make.user("alice"), make.user("bob", profile=ProfileType.PREMIUM)
    given(store, users=[bob, alice])
    with store.unit_of_work() as uow:
        assert state(uow.users.get(alice.id)) == state(alice)
        assert state(uow.users.get_by_username("bob")) == state(bob)
        assert uow.users.get(make.ids.new_id()) is None
        assert uow.users.get_by_username("carol") is None
        assert sorted(u.id for u in uow.users.all()) == sorted([alice.id, bob.id])


def test_changed_since_lists_users_with_a_newer_version(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    alice, bob, carol = make.user("alice"), make.user("bob"), make.user("carol")
    given(store, users=[alice, bob, carol])
    with store.unit_of_work() as uow:
        assert sorted(u.id for u in uow.users.changed_since(0)) == sorted(
            [alice.id, bob.id, carol.id]
        )
        assert uow.users.changed_since(1) == []
        changed = uow.users.get(bob.id)
        assert changed is not None
        changed.deactivate(make.later(5))
        uow.users.save(changed)
        uow.commit()
    with store.unit_of_work() as uow:
        newer = uow.users.changed_since(1)
        assert [u.id for u in newer] == [bob.id]
        assert newer[0].version == 2
        assert not newer[0].is_active
        assert uow.users.changed_since(2) == []


# --- jobs -------------------------------------------------------------------------------------


def test_add_if_absent_keeps_the_first_job_for_a_request(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    first = make.job(priority=3)
    again = make.job(priority=9, request_id=first.request_id)
    with store.unit_of_work() as uow:
        assert uow.jobs.add_if_absent(first) is True
        assert uow.jobs.add_if_absent(again) is False  # also within one unit of work
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.jobs.add_if_absent(again) is False  # and against committed rows
        uow.commit()
    with store.unit_of_work() as uow:
        assert state(uow.jobs.get_by_request(first.request_id)) == state(first)
        assert uow.jobs.get(again.id) is None


def test_a_saved_job_change_is_stored(store: ResponseStoreUnderTest, make: Make) -> None:
    job = make.job()
    given(store, jobs=[job])
    with store.unit_of_work() as uow:
        loaded = uow.jobs.get(job.id)
        assert loaded is not None
        loaded.claim("worker-1", make.now, LEASE)
        loaded.retry_later("timeout", make.later(1))
        uow.jobs.save(loaded)
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.jobs.get(job.id)
        assert state(stored) == state(loaded)
        assert uow.jobs.get_by_request(make.ids.new_id()) is None


def test_claim_next_takes_the_most_urgent_job_first(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    low_old = make.job(priority=1, imported_at=make.later(0))
    mid_new = make.job(priority=5, imported_at=make.later(30))
    high_new = make.job(priority=9, imported_at=make.later(20))
    mid_old = make.job(priority=5, imported_at=make.later(0))
    high_old = make.job(priority=9, imported_at=make.later(10))
    given(store, jobs=[low_old, mid_new, high_new, mid_old, high_old])
    assert claim_all(store, make.later(60)) == [
        high_old.id,
        high_new.id,
        mid_old.id,
        mid_new.id,
        low_old.id,
    ]


def test_claim_next_returns_the_job_marked_processing_and_stores_the_claim(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    job = make.job()
    given(store, jobs=[job])
    claimed = claim(store, "worker-7", make.now)
    assert claimed is not None
    assert claimed.id == job.id
    assert claimed.status is JobStatus.PROCESSING
    assert claimed.assigned_worker == "worker-7"
    assert claimed.attempts == 1
    assert claimed.started_at == make.now
    assert claimed.lease_expires_at == make.now + LEASE
    with store.unit_of_work() as uow:
        assert state(uow.jobs.get(job.id)) == state(claimed)
    assert claim(store, "worker-8", make.now) is None


def test_claim_next_skips_jobs_that_are_not_claimable(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    now = make.later(600)
    held = make.job(priority=10)
    held.claim("other", now - timedelta(seconds=30), LEASE)  # lease runs to now + 30 s
    backing_off = make.job(priority=10)
    backing_off.claim("other", now - timedelta(seconds=1), LEASE)
    backing_off.retry_later("timeout", now)  # next attempt one second from now
    completed = make.job(priority=10)
    completed.claim("other", now, LEASE)
    completed.complete(now)
    failed = make.job(priority=10)
    failed.fail("policy violation", now)
    given(store, jobs=[held, backing_off, completed, failed])
    assert claim(store, "worker-1", now) is None

    waiting = make.job(priority=1)
    given(store, jobs=[waiting])
    claimed = claim(store, "worker-1", now)
    assert claimed is not None
    assert claimed.id == waiting.id


def test_claim_next_takes_a_retry_once_it_is_due(store: ResponseStoreUnderTest, make: Make) -> None:
    job = make.job()
    job.claim("worker-1", make.now, LEASE)
    job.retry_later("timeout", make.now)
    assert job.next_attempt_at is not None
    given(store, jobs=[job])
    assert claim(store, "worker-2", job.next_attempt_at - timedelta(microseconds=1)) is None
    claimed = claim(store, "worker-2", job.next_attempt_at)
    assert claimed is not None
    assert claimed.id == job.id
    assert claimed.attempts == 2


def test_claim_next_takes_over_a_job_whose_lease_ran_out(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    job = make.job()
    given(store, jobs=[job])
    first = claim(store, "crashed-worker", make.now)
    assert first is not None
    assert first.lease_expires_at is not None
    assert claim(store, "worker-2", first.lease_expires_at - timedelta(microseconds=1)) is None
    taken = claim(store, "worker-2", first.lease_expires_at)
    assert taken is not None
    assert taken.id == job.id
    assert taken.assigned_worker == "worker-2"
    assert taken.attempts == 2


def test_claim_next_fails_a_job_abandoned_on_its_last_attempt(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    job = make.job()
    given(store, jobs=[job])
    now = make.now
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = claim(store, f"dying-worker-{attempt}", now)
        assert claimed is not None
        assert claimed.attempts == attempt
        assert claimed.lease_expires_at is not None
        now = claimed.lease_expires_at  # the worker died; its lease runs out
    abandoned = claim(store, "worker-9", now)
    assert abandoned is not None
    assert abandoned.id == job.id
    assert abandoned.status is JobStatus.FAILED
    assert abandoned.error_message is not None
    assert "abandoned" in abandoned.error_message
    with store.unit_of_work() as uow:
        assert state(uow.jobs.get(job.id)) == state(abandoned)
    assert claim(store, "worker-9", now + timedelta(days=1)) is None


def test_concurrent_workers_claim_every_job_exactly_once(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    jobs = [make.job(priority=1 + i % 10, imported_at=make.later(i)) for i in range(48)]
    given(store, jobs=jobs)
    now = make.later(3600)
    workers = 8
    start = threading.Barrier(workers)

    def work(number: int) -> list[uuid.UUID]:
        mine: list[uuid.UUID] = []
        start.wait()
        while (job := claim(store, f"worker-{number}", now)) is not None:
            assert job.assigned_worker == f"worker-{number}"
            mine.append(job.id)
        return mine

    with ThreadPoolExecutor(max_workers=workers) as pool:
        claimed = [job_id for mine in pool.map(work, range(workers)) for job_id in mine]
    counts = Counter(claimed)
    assert [job_id for job_id, n in counts.items() if n > 1] == []
    assert set(counts) == {job.id for job in jobs}
    with store.unit_of_work() as uow:
        for job in jobs:
            stored = uow.jobs.get(job.id)
            assert stored is not None
            assert stored.status is JobStatus.PROCESSING
            assert stored.attempts == 1


# --- results ----------------------------------------------------------------------------------


def test_a_result_round_trips(store: ResponseStoreUnderTest, make: Make) -> None:
    job = make.job()
    result = make.result(job)
    result.cache_hit = True
    given(store, jobs=[job], results=[result])
    with store.unit_of_work() as uow:
        assert state(uow.results.get(result.id)) == state(result)
        assert state(uow.results.get_for_job(job.id)) == state(result)
        assert uow.results.get(make.ids.new_id()) is None
        assert uow.results.get_for_job(make.ids.new_id()) is None


def test_unexported_results_oldest_first_and_limited(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    jobs = [make.job() for _ in range(4)]
    newest = make.result(jobs[0], executed_at=make.later(30))
    oldest = make.result(jobs[1], executed_at=make.later(0))
    middle = make.result(jobs[2], executed_at=make.later(10))
    exported = make.result(jobs[3], executed_at=make.later(-10))
    exported.mark_exported(make.ids.new_id(), make.now)
    given(store, jobs=jobs, results=[newest, oldest, middle, exported])
    with store.unit_of_work() as uow:
        assert [r.id for r in uow.results.unexported(10)] == [oldest.id, middle.id, newest.id]
        assert [r.id for r in uow.results.unexported(2)] == [oldest.id, middle.id]


def test_save_all_marks_results_exported_in_a_batch(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    jobs = [make.job() for _ in range(3)]
    results = [make.result(job, executed_at=make.later(i)) for i, job in enumerate(jobs)]
    given(store, jobs=jobs, results=results)
    batch = make.export_batch(1, channel=TO_REQUEST)
    with store.unit_of_work() as uow:
        chosen = list(uow.results.unexported(2))
        for result in chosen:
            result.mark_exported(batch.id, make.now)
        uow.results.save_all(chosen)
        uow.export_batches.add(batch)
        uow.commit()
    with store.unit_of_work() as uow:
        assert sorted(r.id for r in uow.results.in_export_batch(batch.id)) == sorted(
            r.id for r in results[:2]
        )
        assert [r.id for r in uow.results.unexported(10)] == [results[2].id]
        assert uow.results.in_export_batch(make.ids.new_id()) == []
        back = uow.results.get(results[0].id)
        assert back is not None
        back.unmark_exported()  # the re-send rule
        uow.results.save_all([back])
        uow.commit()
    with store.unit_of_work() as uow:
        assert [r.id for r in uow.results.unexported(10)] == [results[0].id, results[2].id]


# --- transfer bookkeeping (same repositories as the request network) --------------------------


def test_transfer_bookkeeping_is_kept(store: ResponseStoreUnderTest, make: Make) -> None:
    written = make.export_batch(1, channel=TO_REQUEST)
    unwritten = make.export_batch(2, channel=TO_REQUEST, written=False)
    batch_id = make.ids.new_id()
    imported = make.import_batch(batch_id=batch_id)
    with store.unit_of_work() as uow:
        uow.export_batches.add(written)
        uow.export_batches.add(unwritten)
        uow.import_batches.add(imported)
        outbound = uow.channels.outbound(TO_REQUEST)
        outbound.next_sequence(make.now)
        outbound.users_version_sent = 4
        uow.channels.save_outbound(outbound)
        inbound = uow.channels.inbound(TO_RESPONSE)
        inbound.record(1, make.now)
        uow.channels.save_inbound(inbound)
        uow.commit()
    with store.unit_of_work() as uow:
        assert [b.id for b in uow.export_batches.awaiting_ack(TO_REQUEST)] == [written.id]
        assert [b.id for b in uow.export_batches.unwritten(TO_REQUEST)] == [unwritten.id]
        assert state(uow.export_batches.by_sequence(TO_REQUEST, 1)) == state(written)
        assert uow.import_batches.was_imported(batch_id)
        assert [b.id for b in uow.import_batches.unreported()] == [imported.id]
        assert state(uow.channels.outbound(TO_REQUEST)) == state(outbound)
        assert uow.channels.inbound(TO_RESPONSE).acks() == Acks(received=((1, 1),))
    duplicate = make.import_batch(batch_id=batch_id, status=ImportStatus.DUPLICATE)
    with store.unit_of_work() as uow:
        uow.import_batches.add(duplicate)
        uow.commit()
    with store.unit_of_work() as uow:
        assert state(uow.import_batches.get(duplicate.id)) == state(duplicate)


# --- system log -------------------------------------------------------------------------------


def test_system_log_entries_are_kept_on_commit_only(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    kept = SystemLogEntry(
        level=LogLevel.WARNING,
        component="executor",
        message="search timed out; will retry",
        created_at=make.now,
        request_id=make.ids.new_id(),
        details={"attempt": 1, "backend": "memory"},
    )
    dropped = SystemLogEntry(LogLevel.INFO, "importer", "imported", make.later(1))
    with store.unit_of_work() as uow:
        uow.system_logs.record(kept)
        uow.commit()
    with store.unit_of_work() as uow:
        uow.system_logs.record(dropped)
    assert list(store.system_log_entries()) == [kept]


# --- API keys (operators' and admins' scripts) ------------------------------------------------


def test_api_keys_by_id_hash_and_user(store: ResponseStoreUnderTest, make: Make) -> None:
    alice, bob = make.user("alice"), make.user("bob")
    first, second = make.api_key(alice), make.api_key(alice, scopes=frozenset({"*"}))
    bobs = make.api_key(bob)
    given(store, users=[alice, bob])
    with store.unit_of_work() as uow:
        for key in (first, second, bobs):
            uow.api_keys.add(key)
        uow.commit()
    with store.unit_of_work() as uow:
        assert state(uow.api_keys.get(second.id)) == state(second)
        assert state(uow.api_keys.get_by_hash(bobs.key_hash)) == state(bobs)
        assert uow.api_keys.get_by_hash("0" * 64) is None
        assert uow.api_keys.get(make.ids.new_id()) is None
        assert sorted(k.id for k in uow.api_keys.for_user(alice.id)) == sorted(
            [first.id, second.id]
        )
        assert list(uow.api_keys.for_user(make.ids.new_id())) == []


def test_a_saved_api_key_change_is_stored_on_commit_only(
    store: ResponseStoreUnderTest, make: Make
) -> None:
    alice = make.user("alice")
    key = make.api_key(alice)
    given(store, users=[alice])
    with store.unit_of_work() as uow:
        uow.api_keys.add(key)
        uow.commit()
    with store.unit_of_work() as uow:
        loaded = uow.api_keys.get_by_hash(key.key_hash)
        assert loaded is not None
        loaded.revoke()
        uow.api_keys.save(loaded)  # not committed
    with store.unit_of_work() as uow:
        loaded = uow.api_keys.get(key.id)
        assert loaded is not None and loaded.is_active
        loaded.mark_used(make.later(5))
        loaded.revoke()
        uow.api_keys.save(loaded)
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.api_keys.get(key.id)
        assert stored is not None
        assert not stored.is_active
        assert stored.last_used_at == make.later(5)
