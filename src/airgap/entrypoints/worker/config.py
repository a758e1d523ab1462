"""The pipeline's settings: workers, schedules, retries, retention, health thresholds.

Read from the ``AIRGAP_*`` variables listed in
:data:`~airgap.entrypoints.bootstrap.settings.SETTINGS_TABLE` (the rows under "workers and
schedules"); each may be given per network, e.g. ``AIRGAP_RESPONSE_WORKER_THREADS`` wins
over ``AIRGAP_WORKER_THREADS`` in a response network process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import attrs
from apscheduler.triggers.cron import CronTrigger

from airgap.domain.model.batching import Network
from airgap.domain.model.health import HealthThresholds
from airgap.entrypoints.bootstrap.settings import SettingsError

#: Every variable this module reads (a test checks each is documented in SETTINGS_TABLE).
VARIABLES = (
    "WORKER_PROCESSES",
    "WORKER_THREADS",
    "EXECUTOR_THREADS",
    "EXECUTOR_IDLE_MAX_MS",
    "METRICS_PORT",
    "BROKER_NAMESPACE",
    "RETRY_MAX",
    "RETRY_MIN_BACKOFF_MS",
    "RETRY_MAX_BACKOFF_MS",
    "JOB_TIME_LIMIT_SECONDS",
    "JOB_LEASE_SECONDS",
    "SHUTDOWN_GRACE_SECONDS",
    "SCHEDULE_TIMEZONE",
    "EXPORT_INTERVAL_SECONDS",
    "EVENT_EXPORT_MIN_RECORDS",
    "IMPORT_INTERVAL_SECONDS",
    "RESEND_INTERVAL_SECONDS",
    "USERS_EXPORT_INTERVAL_SECONDS",
    "HEALTH_INTERVAL_SECONDS",
    "CACHE_MAINTENANCE_CRON",
    "CLEANUP_CRON",
    "WATCH_INBOX",
    "WATCH_POLLING",
    "RETENTION_REQUESTS_DAYS",
    "RETENTION_OUTBOX_DAYS",
    "RETENTION_INBOX_DAYS",
    "ARCHIVE_DIR",
    "NOTIFY_WEBHOOKS",
    "HEALTH_DISK_PERCENT",
    "HEALTH_MEMORY_PERCENT",
    "HEALTH_BACKLOG",
)

#: The queue every message of a network goes to (each network has its own broker).
QUEUE = "default"

DEFAULT_METRICS_PORTS = {Network.REQUEST: 9464, Network.RESPONSE: 9465}


def _int(name: str, raw: str, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"AIRGAP_{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"AIRGAP_{name} must be at least {minimum}")
    return value


def _percent(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"AIRGAP_{name} must be a number, not {raw!r}") from None
    if not 0 < value <= 100:
        raise SettingsError(f"AIRGAP_{name} must be a percentage above 0, at most 100")
    return value


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"AIRGAP_{name} must be true or false, not {raw!r}")


def _cron(name: str, raw: str) -> str:
    try:
        CronTrigger.from_crontab(raw)
    except ValueError as error:
        raise SettingsError(f"AIRGAP_{name} is not a crontab expression: {error}") from None
    return raw


@attrs.frozen
class Schedules:
    """How often the scheduler sends each periodic job (SPEC §11 defaults)."""

    export: timedelta = timedelta(minutes=2)
    import_: timedelta = timedelta(seconds=30)
    resend: timedelta = timedelta(minutes=5)
    users_export: timedelta = timedelta(minutes=5)
    health: timedelta = timedelta(minutes=5)
    cache_cron: str = "0 * * * *"  # hourly
    cleanup_cron: str = "0 2 * * *"  # daily at 02:00
    timezone: str = "UTC"


@attrs.frozen
class Retention:
    requests: timedelta = timedelta(days=30)
    outbox: timedelta = timedelta(days=7)
    inbox_archive: timedelta = timedelta(days=30)
    archive_dir: Path | None = None  # default: DATA_DIR/<network>/archive


@attrs.frozen
class PipelineSettings:
    """One network's worker and scheduler settings."""

    network: Network
    processes: int = 1
    threads: int = 8
    executor_threads: int = 8
    executor_idle_max: timedelta = timedelta(seconds=2)
    metrics_port: int | None = None  # None: no /metrics endpoint
    broker_namespace: str | None = None  # default: dramatiq (Dramatiq's own)
    retry_max: int = 5
    retry_min_backoff_ms: int = 1_000
    retry_max_backoff_ms: int = 300_000
    time_limit: timedelta = timedelta(minutes=10)
    job_lease: timedelta = timedelta(seconds=60)
    shutdown_grace: timedelta = timedelta(seconds=30)
    schedules: Schedules = Schedules()
    #: How many records must wait before an event-triggered export sends them; ``None``: a
    #: full batch (production: batches stay full under load). ``airgap up`` sends at once.
    event_export_min_records: int | None = None
    watch_inbox: bool = True
    watch_polling: bool = False
    retention: Retention = Retention()
    notify_webhooks: Path | None = None
    health: HealthThresholds = HealthThresholds()

    def event_export_threshold(self, full_batch: int) -> int:
        """How many waiting records make an event-triggered export worth sending."""
        if self.event_export_min_records is None:
            return full_batch
        return min(self.event_export_min_records, full_batch)

    @property
    def namespace(self) -> str:
        """The Redis key prefix of this network's queues: Dramatiq's own (``dramatiq``)
        unless set, so any Dramatiq sender on the network's Redis reaches the workers. Each
        network has its own Redis; networks made to share one must set different ones."""
        return self.broker_namespace or "dramatiq"

    @classmethod
    def from_env(cls, network: Network, env: Mapping[str, str] | None = None) -> PipelineSettings:
        """Read the settings of ``network``; raises ``SettingsError`` naming a bad one."""
        env = os.environ if env is None else env

        def get(name: str, default: str) -> str:
            specific = env.get(f"AIRGAP_{network.value.upper()}_{name}")
            return specific or env.get(f"AIRGAP_{name}") or default

        def seconds(name: str, default: int) -> timedelta:
            return timedelta(seconds=_int(name, get(name, str(default)), 1))

        port = _int("METRICS_PORT", get("METRICS_PORT", str(DEFAULT_METRICS_PORTS[network])), 0)
        webhooks = get("NOTIFY_WEBHOOKS", "")
        archive = get("ARCHIVE_DIR", "")
        return cls(
            network=network,
            processes=_int("WORKER_PROCESSES", get("WORKER_PROCESSES", "1"), 1),
            threads=_int("WORKER_THREADS", get("WORKER_THREADS", "8"), 1),
            executor_threads=_int("EXECUTOR_THREADS", get("EXECUTOR_THREADS", "8"), 0),
            executor_idle_max=timedelta(
                milliseconds=_int("EXECUTOR_IDLE_MAX_MS", get("EXECUTOR_IDLE_MAX_MS", "2000"), 10)
            ),
            metrics_port=port or None,
            broker_namespace=get("BROKER_NAMESPACE", "") or None,
            retry_max=_int("RETRY_MAX", get("RETRY_MAX", "5"), 0),
            retry_min_backoff_ms=_int(
                "RETRY_MIN_BACKOFF_MS", get("RETRY_MIN_BACKOFF_MS", "1000"), 1
            ),
            retry_max_backoff_ms=_int(
                "RETRY_MAX_BACKOFF_MS", get("RETRY_MAX_BACKOFF_MS", "300000"), 1
            ),
            time_limit=seconds("JOB_TIME_LIMIT_SECONDS", 600),
            job_lease=seconds("JOB_LEASE_SECONDS", 60),
            shutdown_grace=timedelta(
                seconds=_int("SHUTDOWN_GRACE_SECONDS", get("SHUTDOWN_GRACE_SECONDS", "30"), 0)
            ),
            event_export_min_records=_int(
                "EVENT_EXPORT_MIN_RECORDS", get("EVENT_EXPORT_MIN_RECORDS", "0"), 0
            )
            or None,
            schedules=Schedules(
                export=seconds("EXPORT_INTERVAL_SECONDS", 120),
                import_=seconds("IMPORT_INTERVAL_SECONDS", 30),
                resend=seconds("RESEND_INTERVAL_SECONDS", 300),
                users_export=seconds("USERS_EXPORT_INTERVAL_SECONDS", 300),
                health=seconds("HEALTH_INTERVAL_SECONDS", 300),
                cache_cron=_cron(
                    "CACHE_MAINTENANCE_CRON", get("CACHE_MAINTENANCE_CRON", "0 * * * *")
                ),
                cleanup_cron=_cron("CLEANUP_CRON", get("CLEANUP_CRON", "0 2 * * *")),
                timezone=get("SCHEDULE_TIMEZONE", "UTC"),
            ),
            watch_inbox=_bool("WATCH_INBOX", get("WATCH_INBOX", "true")),
            watch_polling=_bool("WATCH_POLLING", get("WATCH_POLLING", "false")),
            retention=Retention(
                requests=timedelta(
                    days=_int("RETENTION_REQUESTS_DAYS", get("RETENTION_REQUESTS_DAYS", "30"), 1)
                ),
                outbox=timedelta(
                    days=_int("RETENTION_OUTBOX_DAYS", get("RETENTION_OUTBOX_DAYS", "7"), 1)
                ),
                inbox_archive=timedelta(
                    days=_int("RETENTION_INBOX_DAYS", get("RETENTION_INBOX_DAYS", "30"), 1)
                ),
                archive_dir=Path(archive) if archive else None,
            ),
            notify_webhooks=Path(webhooks) if webhooks else None,
            health=HealthThresholds(
                disk_percent=_percent("HEALTH_DISK_PERCENT", get("HEALTH_DISK_PERCENT", "80")),
                memory_percent=_percent(
                    "HEALTH_MEMORY_PERCENT", get("HEALTH_MEMORY_PERCENT", "90")
                ),
                queue_backlog=_int("HEALTH_BACKLOG", get("HEALTH_BACKLOG", "1000"), 1),
            ),
        )
