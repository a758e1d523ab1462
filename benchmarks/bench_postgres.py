"""PostgreSQL persistence: a 500-record batch through the real repositories and use cases,
next to raw COPY / executemany / UPDATE … = ANY of the same rows, in the same run.

    uv run python benchmarks/bench_postgres.py [--runs 20] [--database-url URL]

The server is ``--database-url``, else ``AIRGAP_BENCH_DATABASE_URL``, else an embedded
pgserver in a temporary directory. Two scratch databases are created, migrated and dropped.
Every figure is the median (and 90th percentile) of ``--runs`` timed runs after two warm-up
runs; each run works on fresh rows (new ids), so nothing is a no-op.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import psycopg
import report
from psycopg import sql
from psycopg.types.json import Json

from airgap.adapters.memory.clock import FakeClock
from airgap.adapters.memory.transfer import MemoryInbox, MemoryOutbox
from airgap.adapters.postgres import migrate
from airgap.adapters.postgres.embedded import EmbeddedPostgres
from airgap.adapters.postgres.engine import libpq_url, with_database
from airgap.adapters.postgres.translation import job_row
from airgap.adapters.postgres.unit_of_work import PostgresRequestStore, PostgresResponseStore
from airgap.domain.model.batching import Acks, BatchHeader, BatchType, Channel, Network
from airgap.domain.model.jobs import QueryJob
from airgap.domain.model.records import RequestRecord, ResultRecord
from airgap.domain.model.requests import SearchRequest
from airgap.domain.model.users import ProfileType, User
from airgap.domain.services import request_transfer, response_transfer
from airgap.entrypoints.bootstrap.memory import build_memory_system

RECORDS = 500
QUERY = {"index": "products", "query": {"match": {"name": "red kettle"}}, "size": 10}
JOB_COLUMNS = [
    "id",
    "original_request_id",
    "user_id",
    "query_type",
    "query_params",
    "query_hash",
    "priority",
    "created_at",
    "expires_at",
    "imported_at",
    "import_batch_id",
    "import_batch_sequence",
    "status",
    "attempts",
]


@attrs.frozen
class Figure:
    name: str
    samples: tuple[float, ...]  # seconds

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def rate(self) -> float:
        """Records per second at the median."""
        return RECORDS / (self.median_ms / 1000)

    @property
    def p90_ms(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000


def timed(
    name: str, runs: int, prepare: Callable[[], object], act: Callable[[object], None]
) -> Figure:
    """``prepare`` (untimed) then ``act`` (timed), ``runs`` times after two warm-ups."""
    samples = []
    for n in range(runs + 2):
        state = prepare()
        started = time.perf_counter()
        act(state)
        elapsed = time.perf_counter() - started
        if n >= 2:
            samples.append(elapsed)
    return Figure(name, tuple(samples))


def _records(now: datetime) -> list[RequestRecord]:
    user = uuid.uuid4()
    return [
        RequestRecord(
            request_id=uuid.uuid4(),
            user_id=user,
            query_type="match",
            query_params=dict(QUERY),
            query_hash="ab" * 32,
            priority=1 + n % 10,
            created_at=now,
            expires_at=now + timedelta(days=7),
        )
        for n in range(RECORDS)
    ]


def _jobs(records: list[RequestRecord], now: datetime) -> list[QueryJob]:
    batch = uuid.uuid4()
    return [
        QueryJob(
            id=uuid.uuid5(batch, str(r.request_id)),
            request_id=r.request_id,
            user_id=r.user_id,
            query_type=r.query_type,
            query_params=r.query_params,
            query_hash=r.query_hash,
            priority=r.priority,
            created_at=r.created_at,
            expires_at=r.expires_at,
            imported_at=now,
            import_batch_id=batch,
            import_batch_sequence=1,
        )
        for r in records
    ]


def bench_import(response_url: str, runs: int) -> list[Figure]:
    store = PostgresResponseStore.from_url(response_url)
    system = build_memory_system()
    side = attrs.evolve(system.response, uow=store.unit_of_work)
    clock = FakeClock(datetime.now(UTC))
    sequence = iter(range(1, 10_000))

    def batch_in_inbox() -> object:
        outbox = MemoryOutbox()
        header = BatchHeader(
            batch_id=uuid.uuid4(),
            batch_type=BatchType.REQUESTS,
            channel=Channel.from_(Network.REQUEST),
            sequence=next(sequence),
            created_at=clock.now(),
            acks=Acks(),
        )
        outbox.write(header, _records(clock.now()))
        inbox = MemoryInbox(Network.RESPONSE)
        for file in outbox.take():
            inbox.deliver(file)
        return attrs.evolve(side, inbox=inbox)

    def import_batch(prepared: object) -> None:
        (done,) = response_transfer.import_batches(prepared)  # type: ignore[arg-type]
        assert done.accepted == RECORDS, done

    def jobs_only() -> object:
        return _jobs(_records(clock.now()), clock.now())

    def add_if_absent(prepared: object) -> None:
        with store.unit_of_work() as uow:
            for job in prepared:  # type: ignore[attr-defined]
                assert uow.jobs.add_if_absent(job)
            uow.commit()

    def add_all_if_absent(prepared: object) -> None:
        with store.unit_of_work() as uow:
            assert len(uow.jobs.add_all_if_absent(prepared)) == RECORDS  # type: ignore[arg-type]
            uow.commit()

    def rows() -> object:
        values = []
        for job in _jobs(_records(clock.now()), clock.now()):
            row = job_row(job)
            row["query_params"] = Json(row["query_params"])
            values.append(tuple(row[c] for c in JOB_COLUMNS))
        return values

    columns = sql.SQL(", ").join(sql.Identifier(c) for c in JOB_COLUMNS)
    copy_sql = sql.SQL("COPY incoming_requests ({}) FROM STDIN").format(columns)
    insert_sql = sql.SQL("INSERT INTO incoming_requests ({}) VALUES ({})").format(
        columns, sql.SQL(", ").join(sql.Placeholder() * len(JOB_COLUMNS))
    )
    raw = psycopg.connect(libpq_url(response_url))

    def copy(prepared: object) -> None:
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in prepared:  # type: ignore[attr-defined]
                copy.write_row(row)
        raw.commit()

    def executemany(prepared: object) -> None:
        with raw.cursor() as cursor:
            cursor.executemany(insert_sql, prepared)  # type: ignore[arg-type]
        raw.commit()

    try:
        return [
            timed(
                "import 500-record requests batch (use case)", runs, batch_in_inbox, import_batch
            ),
            timed("  500 × jobs.add_if_absent + commit", runs, jobs_only, add_if_absent),
            timed(
                "  jobs.add_all_if_absent (one statement; not in the port)",
                runs,
                jobs_only,
                add_all_if_absent,
            ),
            timed("  raw COPY of the same 500 rows", runs, rows, copy),
            timed("  raw executemany INSERT of the same rows", runs, rows, executemany),
        ]
    finally:
        raw.close()
        store.dispose()


def bench_mark_exported(request_url: str, runs: int) -> list[Figure]:
    store = PostgresRequestStore.from_url(request_url)
    clock = FakeClock(datetime.now(UTC))
    owner = User.create(
        id=uuid.uuid4(),
        username="bench",
        email="bench@example.org",
        hashed_password="-",
        profile_type=ProfileType.ADMIN,
        now=clock.now(),
    )
    with store.unit_of_work() as uow:
        uow.users.add(owner)
        uow.commit()
    system = build_memory_system(clock=clock)
    side = attrs.evolve(system.request, uow=store.unit_of_work)
    raw = psycopg.connect(libpq_url(request_url))

    def pending() -> list[SearchRequest]:
        requests = [
            SearchRequest.submit(
                id=uuid.uuid4(),
                user_id=owner.id,
                query_type="match",
                query_params=dict(QUERY),
                query_hash="ab" * 32,
                priority=5,
                now=clock.now(),
            )
            for _ in range(RECORDS)
        ]
        with store.unit_of_work() as uow:
            uow.requests.save_all(requests)
            uow.commit()
        return requests

    def loaded_and_marked() -> object:
        pending()
        with store.unit_of_work() as uow:
            requests = list(uow.requests.pending_for_export(RECORDS))
        batch = uuid.uuid4()
        for request in requests:
            request.mark_exported(batch, clock.now())
        return requests

    def save_all(prepared: object) -> None:
        with store.unit_of_work() as uow:
            uow.requests.save_all(prepared)  # type: ignore[arg-type]
            uow.commit()

    def export(_prepared: object) -> None:
        exported = request_transfer.export_requests(side)
        assert exported.requests == RECORDS, exported
        system.to_response.outbox.take()

    def ids() -> object:
        return [r.id for r in pending()]

    def update_any(prepared: object) -> None:
        raw.execute(
            "UPDATE requests SET status = 'exported', exported_at = now(),"
            " export_batch_id = %s, export_count = export_count + 1 WHERE id = ANY(%s)",
            (uuid.uuid4(), prepared),
        )
        raw.commit()

    def update_many(prepared: object) -> None:
        batch = uuid.uuid4()
        with raw.cursor() as cursor:
            cursor.executemany(
                "UPDATE requests SET status = 'exported', exported_at = now(),"
                " export_batch_id = %s, export_count = export_count + 1 WHERE id = %s",
                [(batch, i) for i in prepared],  # type: ignore[attr-defined]
            )
        raw.commit()

    try:
        return [
            timed(
                "mark 500 requests exported: save_all + commit", runs, loaded_and_marked, save_all
            ),
            timed("  export use case (select, plan, mark, write, record)", runs, pending, export),
            timed("  raw UPDATE … WHERE id = ANY of 500 rows", runs, ids, update_any),
            timed("  raw executemany UPDATE of 500 rows", runs, ids, update_many),
        ]
    finally:
        raw.close()
        store.dispose()


def bench_results_import(request_url: str, runs: int) -> list[Figure]:
    """The request network's side: 500 answers applied one by one (4 statements each)."""
    store = PostgresRequestStore.from_url(request_url)
    clock = FakeClock(datetime.now(UTC))
    owner = User.create(
        id=uuid.uuid4(),
        username="answers",
        email="answers@example.org",
        hashed_password="-",
        profile_type=ProfileType.ADMIN,
        now=clock.now(),
    )
    with store.unit_of_work() as uow:
        uow.users.add(owner)
        uow.commit()
    side = attrs.evolve(build_memory_system(clock=clock).request, uow=store.unit_of_work)
    sequence = iter(range(1, 10_000))
    hits = {"hits": {"total": {"value": 2, "relation": "eq"}, "hits": [{"_id": "1"}]}}

    def exported_and_answered() -> object:
        batch = uuid.uuid4()
        requests = []
        for _ in range(RECORDS):
            request = SearchRequest.submit(
                id=uuid.uuid4(),
                user_id=owner.id,
                query_type="match",
                query_params=dict(QUERY),
                query_hash="ab" * 32,
                priority=5,
                now=clock.now(),
            )
            request.mark_exported(batch, clock.now())
            requests.append(request)
        with store.unit_of_work() as uow:
            uow.requests.save_all(requests)
            uow.commit()
        results = [
            ResultRecord(
                request_id=r.id,
                request_batch_id=batch,
                request_batch_sequence=1,
                query_hash=r.query_hash,
                status="completed",
                backend="tantivy",
                index="products",
                executed_at=clock.now(),
                result_data=hits,
                result_count=2,
                execution_time_ms=1,
            )
            for r in requests
        ]
        outbox = MemoryOutbox()
        header = BatchHeader(
            batch_id=uuid.uuid4(),
            batch_type=BatchType.RESPONSES,
            channel=Channel.from_(Network.RESPONSE),
            sequence=next(sequence),
            created_at=clock.now(),
            acks=Acks(),
        )
        outbox.write(header, results)
        inbox = MemoryInbox(Network.REQUEST)
        for file in outbox.take():
            inbox.deliver(file)
        return attrs.evolve(side, inbox=inbox)

    def import_results(prepared: object) -> None:
        (done,) = request_transfer.import_batches(prepared)  # type: ignore[arg-type]
        assert done.accepted == RECORDS, done

    try:
        return [
            timed(
                "import 500-record responses batch (use case)",
                runs,
                exported_and_answered,
                import_results,
            )
        ]
    finally:
        store.dispose()


def table(figures: list[Figure], baselines: dict[str, Figure]) -> str:
    lines = [
        "| operation | median ms | p90 ms | records/s | × raw |",
        "|---|---:|---:|---:|---:|",
    ]
    for figure in figures:
        base = baselines.get(figure.name)
        ratio = f"{figure.median_ms / base.median_ms:.1f}" if base else ""
        lines.append(
            f"| {figure.name.strip()} | {figure.median_ms:.1f} | {figure.p90_ms:.1f} "
            f"| {figure.rate:,.0f} | {ratio} |"
        )
    return "\n".join(lines)


def headline(
    imports: list[Figure], exports: list[Figure], answers: list[Figure]
) -> list[report.Row]:
    """The figures SPEC §13 holds batches to, on the database side (the transfer is in
    memory; the filesystem side is in ``bench_batches.py``), next to the raw statements of
    the same run. Medians. Export throughput, files included, is ``bench_pipeline.py``'s."""
    use_case_import, copy = imports[0], imports[3]
    use_case_export, update_any = exports[1], exports[2]
    (results_import,) = answers
    small_bar = "< 100 ms (floor), goal < 20 ms; database side, no files"
    return [
        report.Row(
            area="PostgreSQL",
            measure=f"import {RECORDS}-record requests batch (use case, in-memory inbox)",
            value=use_case_import.median_ms,
            unit="ms",
            baseline="raw COPY of the same rows",
            baseline_value=copy.median_ms,
            goal=small_bar,
            met=use_case_import.median_ms < 100,
        ),
        report.Row(
            area="PostgreSQL",
            measure=f"import rate, {RECORDS}-record requests batches",
            value=use_case_import.rate,
            unit="records/s",
            baseline="raw COPY of the same rows",
            baseline_value=copy.rate,
            goal="≥ 30,000/s (floor), goal ≥ 50,000/s; database side, no files",
            met=use_case_import.rate >= 30_000,
        ),
        report.Row(
            area="PostgreSQL",
            measure=f"export {RECORDS} requests (use case, in-memory outbox)",
            value=use_case_export.median_ms,
            unit="ms",
            baseline="raw UPDATE … = ANY of the rows",
            baseline_value=update_any.median_ms,
            goal=small_bar,
            met=use_case_export.median_ms < 100,
        ),
        report.Row(
            area="PostgreSQL",
            measure=f"import {RECORDS}-record responses batch (use case, in-memory inbox)",
            value=results_import.median_ms,
            unit="ms",
            baseline=f"raw COPY of {RECORDS} job rows",
            baseline_value=copy.median_ms,
            goal=small_bar,
            met=results_import.median_ms < 100,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("AIRGAP_BENCH_DATABASE_URL"))
    args = parser.parse_args()

    embedded: EmbeddedPostgres | None = None
    admin_url = args.database_url
    if not admin_url:
        embedded = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="airgap-bench-pg-")))
        admin_url = embedded.start()
    tag = uuid.uuid4().hex[:8]
    names = {"request": f"airgap_bench_request_{tag}", "response": f"airgap_bench_response_{tag}"}
    admin = psycopg.connect(libpq_url(admin_url), autocommit=True)
    try:
        urls = {}
        for network, name in names.items():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            urls[network] = with_database(admin_url, name).render_as_string(hide_password=False)
            migrate.upgrade(network, urls[network])
        server = admin.execute("SHOW server_version").fetchone()
        imports = bench_import(urls["response"], args.runs)
        exports = bench_mark_exported(urls["request"], args.runs)
        answers = bench_results_import(urls["request"], args.runs)
    finally:
        for name in names.values():
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()
        if embedded is not None:
            embedded.stop()

    where = "embedded pgserver" if embedded else "server at --database-url"
    print(
        f"PostgreSQL {server[0] if server else '?'} ({where}), {RECORDS} records, "
        f"median of {args.runs} runs\n"
    )
    print(table(imports, {f.name: imports[3] for f in imports}))
    print()
    print(table(exports, {f.name: exports[2] for f in exports}))
    print()
    print(table(answers, {answers[0].name: imports[3]}))
    report.emit(headline(imports, exports, answers))


if __name__ == "__main__":
    main()
