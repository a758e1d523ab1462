"""A real `airgap up` for the end-to-end tests, started once per module as a subprocess on
free ports in a temporary data directory, and driven only over HTTP and the CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

ADMIN_PASSWORD = "e2e-admin-password-1"
DEMO_PASSWORD = "e2e-demo-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.define
class Running:
    data_dir: Path
    request_url: str
    response_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def airgap(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run another `airgap` command against this instance."""
        return subprocess.run(
            [sys.executable, "-m", "airgap", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "AIRGAP_DATA_DIR": str(self.data_dir)},
        )

    def client(self, network: str) -> httpx.Client:
        base = self.request_url if network == "request" else self.response_url
        return httpx.Client(base_url=base, timeout=30)

    def login(self, network: str, username: str, password: str) -> dict[str, str]:
        with self.client(network) as client:
            answer = client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


@pytest.fixture(scope="module")
def airgap_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data_dir = tmp_path_factory.mktemp("airgap-up")
    log = data_dir.parent / f"{data_dir.name}.log"
    request_port, response_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRGAP_")},
        "AIRGAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "AIRGAP_DEMO_PASSWORD": DEMO_PASSWORD,
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airgap",
                "up",
                "--data-dir",
                str(data_dir),
                "--request-port",
                str(request_port),
                "--response-port",
                str(response_port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    running = Running(
        data_dir=data_dir,
        request_url=f"http://127.0.0.1:{request_port}",
        response_url=f"http://127.0.0.1:{response_port}",
        process=process,
        log=log,
    )
    try:
        wait_for(
            lambda: "Ctrl-C stops everything" in running.output() or process.poll() is not None,
            240,
            "airgap up to be ready",
        )
        assert process.poll() is None, running.output()
        # The demo accounts cross in a users batch; wait until alice can log in.
        wait_for(lambda: _can_log_in(running), 60, "alice to reach the request network")
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _can_log_in(running: Running) -> bool:
    try:
        with running.client("request") as client:
            answer = client.post(
                "/api/v1/auth/login", json={"username": "alice", "password": DEMO_PASSWORD}
            )
    except httpx.HTTPError:
        return False
    return answer.status_code == 200
