"""``airgap request api``: refuses a database whose schema is not current, and serves the
API from several uvicorn workers through the app factory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from api_harness import API, free_port
from click.testing import CliRunner

from airgap.entrypoints.cli.main import cli
from airgap.entrypoints.http.common.serving import NoDelayConfig
from support.databases import fresh_database, shared_server


def test_the_command_is_registered_with_its_options() -> None:
    result = CliRunner().invoke(cli, ["request", "api", "--help"])

    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers", "--data-dir"):
        assert option in result.output


def test_it_refuses_a_database_that_was_never_migrated(
    redis_server_url: str, tmp_path: Path
) -> None:
    unmigrated = shared_server().admin_url  # the server's own database: no airgap tables
    result = CliRunner().invoke(
        cli,
        ["request", "api", "--data-dir", str(tmp_path)],
        env={
            "AIRGAP_REQUEST_DATABASE_URL": unmigrated,
            "AIRGAP_REQUEST_REDIS_URL": redis_server_url,
        },
    )

    assert result.exit_code == 1
    assert "airgap db upgrade --network request" in result.output


@pytest.mark.slow
def test_two_workers_serve_the_api(redis_server_url: str, tmp_path: Path) -> None:
    port = free_port()
    with fresh_database("request") as url:
        env = {
            **os.environ,
            "AIRGAP_REQUEST_DATABASE_URL": url,
            "AIRGAP_REQUEST_REDIS_URL": redis_server_url,
            "AIRGAP_DATA_DIR": str(tmp_path),
            "AIRGAP_LOG_LEVEL": "warning",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        command = [sys.executable, "-m", "airgap", "request", "api", "--port", str(port)]
        process = subprocess.Popen(
            [*command, "--workers", "2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            ready = _wait_ready(f"http://127.0.0.1:{port}", process)
            assert ready["status"] == "ready"
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
                login = http.post(f"{API}/auth/login", json={"username": "x", "password": "y"})
                metrics = http.get("/metrics")
                # Keep-alive answers are not held back by Nagle's algorithm (≥ 40 ms each).
                fastest = min(_timed(lambda: http.get("/health")) for _ in range(10))
            assert fastest < 0.03, fastest
            assert login.status_code == 401
            assert login.json()["error"]["code"] == "unauthenticated"
            assert "airgap_http_requests_total" in metrics.text
            assert (tmp_path / "request" / "secret_key").is_file()
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def test_the_listening_socket_passes_no_delay_to_every_connection() -> None:
    config = NoDelayConfig("x:y", host="127.0.0.1", port=free_port())
    listener = config.bind_socket()
    try:
        listener.listen()
        with socket.create_connection(listener.getsockname()[:2]):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        listener.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"the API exited early:\n{output[-3000:]}")
        try:
            answer = httpx.get(f"{base}/health/ready", timeout=2)
        except httpx.HTTPError:
            time.sleep(0.2)
            continue
        body: dict[str, object] = answer.json()
        return body
    raise AssertionError("the API did not become ready in 90 s")
