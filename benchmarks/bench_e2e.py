"""End-to-end latency in embedded mode with the automatic carrier (SPEC §13: p95 < 3 s).

Starts `airgap up` in a temporary directory on free ports, then submits requests at a
steady rate (default 200 per minute for 2 minutes, as the admin account, whose profile is
not rate-limited) and polls each request's status until it is answered. Reports submit →
answer latency p50/p95/p99, next to the baseline of the same HTTP round trip the client
makes for a status poll (what a crossing-free answer would cost). Bounded in count and
time; it only talks to 127.0.0.1.

    uv run python benchmarks/bench_e2e.py [--rate 200] [--minutes 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.airgap_up import free_port, wait_for

PASSWORD = "bench-admin-password-1"
QUERIES = [
    {"index": "products", "query": {"match": {"name": word}}, "size": 5}
    for word in ("kettle", "lamp", "chair", "phone", "desk", "pan", "mug", "fan")
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=200, help="requests per minute")
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="airgap-bench-e2e-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRGAP_")}
    env.update(AIRGAP_ADMIN_PASSWORD=PASSWORD, AIRGAP_DEMO_PASSWORD=PASSWORD + "x")
    log = (data_dir / "up.log").open("wb")
    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airgap",
            "up",
            "--data-dir",
            str(data_dir),
            "--request-port",
            str(port),
            "--response-port",
            str(free_port()),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    exit_code = 0
    try:
        client = httpx.Client(base_url=base, timeout=30)

        def login() -> str | None:
            try:
                answer = client.post(
                    "/auth/login", json={"username": "admin", "password": PASSWORD}
                )
            except httpx.HTTPError:
                return None
            return str(answer.json()["access_token"]) if answer.status_code == 200 else None

        token = wait_for(login, 300, "the admin account on the request network", interval=1)
        headers = {"Authorization": f"Bearer {token}"}
        total = int(args.rate * args.minutes)
        gap = 60.0 / args.rate
        submitted: dict[str, float] = {}
        answered: dict[str, float] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def poll() -> None:
            poller = httpx.Client(base_url=base, timeout=30, headers=headers)
            while not stop.is_set():
                with lock:
                    waiting = [r for r in submitted if r not in answered]
                    done = len(answered) == total
                if done:
                    return
                for request_id in waiting:
                    status = poller.get(f"/requests/{request_id}/status").json()["status"]
                    if status in ("completed", "failed"):
                        with lock:
                            answered[request_id] = time.perf_counter()
                time.sleep(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        start = time.perf_counter()
        for n in range(total):
            due = start + n * gap
            time.sleep(max(0.0, due - time.perf_counter()))
            query = QUERIES[n % len(QUERIES)]
            answer = client.post(
                "/requests",
                json={"query_type": "match", "query_params": query},
                headers=headers,
            )
            assert answer.status_code == 202, answer.text
            with lock:
                submitted[answer.json()["id"]] = time.perf_counter()
        poller.join(timeout=120)
        stop.set()  # the poller may still be waiting on unanswered requests: stop it first
        poller.join(timeout=30)
        with lock:
            latencies = [answered[r] - submitted[r] for r in answered]
        polls = []
        some = next(iter(submitted))
        for _ in range(200):
            t = time.perf_counter()
            client.get(f"/requests/{some}/status", headers=headers)
            polls.append(time.perf_counter() - t)
        print(
            f"\nEnd to end, embedded mode, automatic carrier: {args.rate}/min for "
            f"{args.minutes} min ({total} requests, {len(latencies)} answered)"
        )
        if latencies:
            exit_code = report_latencies(latencies, polls, args.rate, total)
        else:
            print("NOT ANSWERED: no request was answered")
            exit_code = 1
        if exit_code:
            print(f"(log of `airgap up`: {data_dir / 'up.log'})")
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(60)
        except subprocess.TimeoutExpired:
            up.kill()
    sys.exit(exit_code)


def report_latencies(latencies: list[float], polls: list[float], rate: int, total: int) -> int:
    """Print the table and emit the headline rows; 1 if any request went unanswered."""
    print("| measure | p50 | p95 | p99 |")
    print("|---|---|---|---|")
    figures = {
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
    }
    baseline = {
        "p50": statistics.median(polls),
        "p95": percentile(polls, 0.95),
        "p99": percentile(polls, 0.99),
    }
    print(
        f"| submit → answer (s) | {figures['p50']:.2f} | "
        f"{figures['p95']:.2f} | {figures['p99']:.2f} |"
    )
    print(
        f"| baseline: one status round trip (ms) | {baseline['p50'] * 1000:.1f} | "
        f"{baseline['p95'] * 1000:.1f} | {baseline['p99'] * 1000:.1f} |"
    )
    print(f"\nanswered: {len(latencies)} of {total} submitted")
    unanswered = total - len(latencies)
    if unanswered:
        print(f"NOT ANSWERED: {unanswered} request(s) never answered")
    report.emit(headline(figures, baseline, rate, len(latencies), total))
    return 1 if unanswered else 0


def headline(
    figures: dict[str, float], baseline: dict[str, float], rate: int, answered: int, total: int
) -> list[report.Row]:
    """Submit → answer percentiles in seconds, each next to one status round trip (same
    percentile, also in seconds). SPEC §13 holds p95 to < 3 s at 200 requests/min."""
    note = f"{rate}/min" + ("" if answered == total else f", {answered} of {total} answered")
    rows = []
    for name, value in figures.items():
        bar = name == "p95"
        rows.append(
            report.Row(
                area="End to end",
                measure=f"submit → answer {name} ({note})",
                value=value,
                unit="s",
                baseline=f"one status round trip {name}",
                baseline_value=baseline[name],
                goal="< 3 s at 200/min" if bar else None,
                # The bar is set at 200/min; a slower run does not test it.
                met=(value < 3 and answered == total) if bar and rate >= 200 else None,
            )
        )
    return rows


if __name__ == "__main__":
    main()
