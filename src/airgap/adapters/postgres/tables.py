"""The two networks' schemas as SQLAlchemy Core tables, one ``MetaData`` per network.

The starting point is the SQL of ``seeds/ARCHITECTURE.md``; every difference from it is
explained in the Alembic migration that creates it (``migrations/{network}/versions``), and a
test checks that these tables and the migrated database agree. Index names are the seeds'
(``idx_…``); every other constraint is named by :data:`NAMING_CONVENTION`, so migrations
can refer to stable names.

Conventions: ids are UUIDs the domain generates; timestamps are ``timestamptz``; enums are
``varchar`` with a check constraint (as in the seeds), so adding a value is a constraint
change, not a type migration. Payloads that are hashed or cross the gap (query parameters,
search results) are ``json`` -- stored as the exact text written -- because ``jsonb``
normalises numbers (``1e+20`` comes back as an integer) and refuses ``\\u0000``, either of
which would change a query's hash; bookkeeping (metadata, acks, rejections) is ``jsonb``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSON, JSONB

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Python None is SQL NULL in every JSON column (not the JSON value ``null``).
_JSON = JSON(none_as_null=True)
_JSONB = JSONB(none_as_null=True)

request_metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""The request network's database."""

response_metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""The response network's database."""

NETWORKS = ("request", "response")
PROFILE_TYPES = ("basic", "premium", "enterprise", "admin")
ROLES = ("user", "operator", "admin", "system")
BATCH_TYPES = ("requests", "responses", "users", "system")
REQUEST_STATUSES = (
    "pending",
    "queued",
    "exported",
    "processing",
    "completed",
    "failed",
    "cancelled",
)
JOB_STATUSES = ("pending", "processing", "completed", "failed", "retry")
EXPORT_STATUSES = ("pending", "processing", "completed", "acknowledged", "resent", "failed")
IMPORT_STATUSES = ("pending", "processing", "completed", "failed", "duplicate")
ANSWER_STATUSES = ("completed", "failed")


def _one_of(column: str, values: Iterable[str]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({listed})"


def _tstz(name: str, *, nullable: bool = True, now: bool = False) -> Column[Any]:
    return Column(
        name,
        DateTime(timezone=True),
        nullable=nullable,
        server_default=text("CURRENT_TIMESTAMP") if now else None,
    )


# --- tables both networks keep ----------------------------------------------------------------


def _users(metadata: MetaData, *, replica: bool) -> Table:
    """Accounts: the source of truth on the response network, a replica on the request
    network (refreshed from ``users`` batches, so ids are never generated there)."""
    extra: list[Column[Any]] = (
        [_tstz("synced_at", now=True)] if replica else []  # when the replica last wrote it
    )
    return Table(
        "users",
        metadata,
        Column(
            "id",
            Uuid,
            primary_key=True,
            server_default=None if replica else text("gen_random_uuid()"),
        ),
        Column("username", String(100), nullable=False, unique=True),
        Column("email", String(255), nullable=False, unique=True),
        Column("hashed_password", String(255), nullable=False),
        Column("full_name", String(255)),
        Column("profile_type", String(50), nullable=False, server_default="basic"),
        # NULL = unlimited (the admin profile); the seeds had NOT NULL.
        Column("rate_limit_per_minute", Integer, server_default="10"),
        Column("rate_limit_per_hour", Integer, server_default="100"),
        Column("rate_limit_per_day", Integer, server_default="500"),
        Column("priority", Integer, nullable=False, server_default="5"),
        Column("role", String(20), nullable=False, server_default="user"),
        Column("is_active", Boolean, nullable=False, server_default=text("true")),
        Column("locally_deactivated", Boolean, nullable=False, server_default=text("false")),
        Column("allowed_indices", ARRAY(Text)),
        Column("version", BigInteger, nullable=False, server_default="1"),
        _tstz("created_at", now=True),
        _tstz("updated_at", now=True),
        _tstz("last_login"),
        *extra,
        CheckConstraint(_one_of("profile_type", PROFILE_TYPES), name="profile_type"),
        CheckConstraint(_one_of("role", ROLES), name="role"),
        CheckConstraint("priority >= 1 AND priority <= 10", name="priority"),
        CheckConstraint(
            "(rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0)"
            " AND (rate_limit_per_hour IS NULL OR rate_limit_per_hour > 0)"
            " AND (rate_limit_per_day IS NULL OR rate_limit_per_day > 0)",
            name="rate_limits",
        ),
        CheckConstraint("version >= 1", name="version"),
        Index("idx_users_profile", "profile_type"),
        Index("idx_users_active", "is_active"),
        Index("idx_users_version", "version"),
    )


def _export_batches(metadata: MetaData) -> Table:
    return Table(
        "export_batches",
        metadata,
        Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
        Column("batch_type", String(50), nullable=False),
        Column("source_network", String(20), nullable=False),
        Column("destination_network", String(20), nullable=False),
        Column("sequence", Integer, nullable=False),
        Column("filename", String(255), nullable=False),
        Column("file_path", String(500)),
        Column("file_size_bytes", BigInteger),
        Column("record_count", Integer, nullable=False, server_default="0"),
        Column("checksum", String(64)),
        Column("encrypted", Boolean, nullable=False, server_default=text("false")),
        Column("signed", Boolean, nullable=False, server_default=text("false")),
        Column("status", String(50), nullable=False, server_default="pending"),
        _tstz("created_at", nullable=False, now=True),
        _tstz("completed_at"),
        _tstz("acknowledged_at"),
        _tstz("resent_at"),
        Column("error_message", Text),
        Column("remote_accepted", Integer),
        Column("remote_duplicates", Integer),
        Column("remote_rejections", _JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        Column("user_ids", ARRAY(Uuid), nullable=False, server_default=text("'{}'::uuid[]")),
        Column("report_ids", ARRAY(Uuid), nullable=False, server_default=text("'{}'::uuid[]")),
        Column("metadata", _JSONB),
        CheckConstraint(_one_of("batch_type", BATCH_TYPES), name="batch_type"),
        CheckConstraint(_one_of("status", EXPORT_STATUSES), name="status"),
        CheckConstraint(_one_of("source_network", NETWORKS), name="source_network"),
        CheckConstraint(_one_of("destination_network", NETWORKS), name="destination_network"),
        CheckConstraint("source_network <> destination_network", name="channel"),
        CheckConstraint("sequence >= 1", name="sequence"),
        UniqueConstraint("source_network", "destination_network", "sequence"),
        Index("idx_batches_type", "batch_type"),
        Index("idx_batches_status", "status"),
        Index("idx_batches_created", text("created_at DESC")),
    )


def _import_batches(metadata: MetaData) -> Table:
    return Table(
        "import_batches",
        metadata,
        Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
        # NULL when the manifest could not be read (the batch is then recorded as failed).
        Column("batch_type", String(50)),
        Column("source_network", String(20)),
        Column("sequence", Integer),
        Column("filename", String(255), nullable=False),
        Column("file_path", String(500)),
        Column("file_size_bytes", BigInteger),
        Column("record_count", Integer, nullable=False, server_default="0"),
        Column("checksum", String(64)),
        Column("source_batch_id", Uuid),
        Column("status", String(50), nullable=False, server_default="pending"),
        _tstz("created_at", nullable=False, now=True),
        _tstz("processed_at"),
        Column("accepted", Integer, nullable=False, server_default="0"),
        Column("duplicates", Integer, nullable=False, server_default="0"),
        Column("rejections", _JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        Column("reported", Boolean, nullable=False, server_default=text("false")),
        Column("error_message", Text),
        Column("metadata", _JSONB),
        CheckConstraint(
            f"batch_type IS NULL OR {_one_of('batch_type', BATCH_TYPES)}", name="batch_type"
        ),
        CheckConstraint(_one_of("status", IMPORT_STATUSES), name="status"),
        CheckConstraint(
            f"source_network IS NULL OR {_one_of('source_network', NETWORKS)}",
            name="source_network",
        ),
        Index("idx_import_batches_status", "status"),
        Index("idx_import_batches_created", text("created_at DESC")),
        Index("idx_import_batches_checksum", "checksum"),
        Index(
            "idx_import_batches_imported",
            "source_batch_id",
            postgresql_where=text("status = 'completed'"),
        ),
        Index(
            "idx_import_batches_unreported",
            "created_at",
            "id",
            postgresql_where=text("NOT reported"),
        ),
    )


def _outbound_channels(metadata: MetaData) -> Table:
    """The sending end of this network's channel: the last sequence number handed out (the
    row is locked while a batch is planned), the acks last sent, the users version sent."""
    return Table(
        "outbound_channels",
        metadata,
        Column("source_network", String(20), nullable=False),
        Column("destination_network", String(20), nullable=False),
        Column("last_sequence", Integer, nullable=False, server_default="0"),
        Column("acks_sent", _JSONB),
        _tstz("last_sent_at"),
        Column("users_version_sent", BigInteger, nullable=False, server_default="0"),
        PrimaryKeyConstraint("source_network", "destination_network"),
        CheckConstraint(_one_of("source_network", NETWORKS), name="source_network"),
        CheckConstraint(_one_of("destination_network", NETWORKS), name="destination_network"),
        CheckConstraint("last_sequence >= 0", name="last_sequence"),
    )


def _inbound_channels(metadata: MetaData) -> Table:
    """The receiving end: the sequence numbers received from the other side, as ranges."""
    return Table(
        "inbound_channels",
        metadata,
        Column("source_network", String(20), nullable=False),
        Column("destination_network", String(20), nullable=False),
        Column("received", _JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        _tstz("last_received_at"),
        Column("ack_owed", Boolean, nullable=False, server_default=text("false")),
        PrimaryKeyConstraint("source_network", "destination_network"),
        CheckConstraint(_one_of("source_network", NETWORKS), name="source_network"),
        CheckConstraint(_one_of("destination_network", NETWORKS), name="destination_network"),
    )


def _dead_letters(metadata: MetaData) -> Table:
    """Task messages that exhausted their retries (SPEC §11), kept until an operator retries
    or deletes them."""
    return Table(
        "dead_letters",
        metadata,
        Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
        Column("message_id", String(100), nullable=False, unique=True),
        Column("queue_name", String(100), nullable=False),
        Column("actor_name", String(100), nullable=False),
        Column("args", _JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        Column("kwargs", _JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("options", _JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("error", Text),
        Column("attempts", Integer, nullable=False, server_default="0"),
        _tstz("failed_at", nullable=False, now=True),
        _tstz("retried_at"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("idx_dead_letters_failed", text("failed_at DESC")),
        Index("idx_dead_letters_actor", "actor_name"),
    )


# --- request network --------------------------------------------------------------------------

request_users = _users(request_metadata, replica=True)

requests = Table(
    "requests",
    request_metadata,
    Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("query_type", String(50), nullable=False),
    Column("query_params", _JSON, nullable=False),
    Column("elasticsearch_query", _JSONB),
    Column("query_hash", String(64), nullable=False),
    Column("status", String(50), nullable=False, server_default="pending"),
    Column("priority", Integer, nullable=False, server_default="5"),
    _tstz("created_at", nullable=False, now=True),
    _tstz("expires_at", nullable=False),
    _tstz("exported_at"),
    Column("export_batch_id", Uuid),
    Column("export_count", Integer, nullable=False, server_default="0"),
    # How often the request was re-sent; derived, so it can never disagree with export_count.
    Column("retry_count", Integer, Computed("GREATEST(export_count - 1, 0)", persisted=True)),
    _tstz("result_received_at"),
    _tstz("cancelled_at"),
    Column("error_message", Text),
    Column("metadata", _JSONB),
    CheckConstraint(_one_of("status", REQUEST_STATUSES), name="status"),
    CheckConstraint("priority >= 1 AND priority <= 10", name="priority"),
    CheckConstraint("export_count >= 0", name="export_count"),
    Index("idx_requests_user", "user_id", text("created_at DESC")),
    Index("idx_requests_status", "status"),
    Index("idx_requests_created", text("created_at DESC")),
    Index("idx_requests_export", "exported_at", postgresql_where=text("exported_at IS NOT NULL")),
    Index(
        "idx_requests_batch",
        "export_batch_id",
        postgresql_where=text("export_batch_id IS NOT NULL"),
    ),
    Index(
        "idx_requests_pending",
        text("priority DESC"),
        "created_at",
        "id",
        postgresql_where=text("status = 'pending'"),
    ),
    Index("idx_requests_query_hash", "query_hash"),
)

responses = Table(
    "responses",
    request_metadata,
    Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column(
        "request_id",
        Uuid,
        ForeignKey("requests.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("status", String(20), nullable=False, server_default="completed"),
    Column("result_data", _JSON),
    Column("result_count", Integer),
    Column("execution_time_ms", Integer),
    _tstz("received_at", nullable=False, now=True),
    Column("import_batch_id", Uuid),
    Column("is_cached", Boolean, nullable=False, server_default=text("false")),
    Column("from_cache", Boolean, nullable=False, server_default=text("false")),
    Column("cache_key", String(255)),
    Column("error_message", Text),
    Column("metadata", _JSONB),
    CheckConstraint(_one_of("status", ANSWER_STATUSES), name="status"),
    Index("idx_responses_received", text("received_at DESC")),
    Index(
        "idx_responses_batch",
        "import_batch_id",
        postgresql_where=text("import_batch_id IS NOT NULL"),
    ),
    Index("idx_responses_cache", "cache_key", postgresql_where=text("cache_key IS NOT NULL")),
)

request_export_batches = _export_batches(request_metadata)
request_import_batches = _import_batches(request_metadata)
request_outbound_channels = _outbound_channels(request_metadata)
request_inbound_channels = _inbound_channels(request_metadata)

audit_logs = Table(
    "audit_logs",
    request_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="SET NULL")),
    Column("action", String(100), nullable=False),
    Column("resource_type", String(100)),
    Column("resource_id", String(100)),
    Column("ip_address", INET),
    Column("user_agent", Text),
    Column("request_data", _JSONB),
    Column("response_status", Integer),
    _tstz("created_at", nullable=False, now=True),
    Column("metadata", _JSONB),
    Index("idx_audit_user", "user_id"),
    Index("idx_audit_action", "action"),
    Index("idx_audit_created", text("created_at DESC")),
    Index("idx_audit_resource", "resource_type", "resource_id"),
)

api_keys = Table(
    "api_keys",
    request_metadata,
    Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("key_hash", String(255), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("scopes", _JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    _tstz("last_used_at"),
    _tstz("expires_at"),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    _tstz("created_at", nullable=False, now=True),
    Column("metadata", _JSONB),
    Index("idx_apikeys_user", "user_id"),
    Index("idx_apikeys_active", "is_active"),
    Index("idx_apikeys_expires", "expires_at"),
)

request_dead_letters = _dead_letters(request_metadata)


# --- response network -------------------------------------------------------------------------

response_users = _users(response_metadata, replica=False)

incoming_requests = Table(
    "incoming_requests",
    response_metadata,
    Column("id", Uuid, primary_key=True),
    Column("original_request_id", Uuid, nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("query_type", String(50), nullable=False),
    Column("query_params", _JSON, nullable=False),
    Column("elasticsearch_query", _JSONB),
    Column("query_hash", String(64), nullable=False),
    Column("priority", Integer, nullable=False, server_default="5"),
    _tstz("created_at", nullable=False),
    _tstz("expires_at", nullable=False),
    _tstz("imported_at", nullable=False, now=True),
    Column("import_batch_id", Uuid, nullable=False),
    Column("import_batch_sequence", Integer, nullable=False),
    Column("status", String(50), nullable=False, server_default="pending"),
    Column("assigned_worker", String(100)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("retry_count", Integer, Computed("GREATEST(attempts - 1, 0)", persisted=True)),
    _tstz("lease_expires_at"),
    _tstz("next_attempt_at"),
    _tstz("started_at"),
    _tstz("completed_at"),
    Column("error_message", Text),
    Column("metadata", _JSONB),
    CheckConstraint(_one_of("status", JOB_STATUSES), name="status"),
    CheckConstraint("priority >= 1 AND priority <= 10", name="priority"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index("idx_incoming_status", "status"),
    Index(
        "idx_incoming_priority",
        text("priority DESC"),
        "imported_at",
        "id",
        postgresql_where=text("status IN ('pending', 'retry', 'processing')"),
    ),
    Index("idx_incoming_imported", text("imported_at DESC")),
    Index("idx_incoming_batch", "import_batch_id"),
    Index("idx_incoming_original", "original_request_id", unique=True),
)

query_results = Table(
    "query_results",
    response_metadata,
    Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column(
        "request_id",
        Uuid,
        ForeignKey("incoming_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("original_request_id", Uuid, nullable=False),
    Column("request_batch_id", Uuid, nullable=False),
    Column("request_batch_sequence", Integer, nullable=False),
    Column("query_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False, server_default="completed"),
    Column("backend", String(50), nullable=False),
    Column("index_name", String(255), nullable=False),
    Column("result_data", _JSON),
    Column("result_count", Integer),
    Column("execution_time_ms", Integer),
    Column("elasticsearch_took_ms", Integer),
    Column("cache_hit", Boolean, nullable=False, server_default=text("false")),
    Column("error_message", Text),
    _tstz("executed_at", nullable=False, now=True),
    _tstz("exported_at"),
    Column("export_batch_id", Uuid),
    Column("metadata", _JSONB),
    CheckConstraint(_one_of("status", ANSWER_STATUSES), name="status"),
    Index("idx_results_request", "request_id"),
    Index("idx_results_original", "original_request_id"),
    Index("idx_results_executed", text("executed_at DESC")),
    Index("idx_results_export", "exported_at", postgresql_where=text("exported_at IS NOT NULL")),
    Index(
        "idx_results_unexported",
        "executed_at",
        "id",
        postgresql_where=text("export_batch_id IS NULL"),
    ),
    Index(
        "idx_results_batch", "export_batch_id", postgresql_where=text("export_batch_id IS NOT NULL")
    ),
)

response_export_batches = _export_batches(response_metadata)
response_import_batches = _import_batches(response_metadata)
response_outbound_channels = _outbound_channels(response_metadata)
response_inbound_channels = _inbound_channels(response_metadata)

system_logs = Table(
    "system_logs",
    response_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("level", String(20), nullable=False),
    Column("component", String(100), nullable=False),
    Column("message", Text, nullable=False),
    Column("error_trace", Text),
    Column("request_id", Uuid),
    _tstz("created_at", nullable=False, now=True),
    Column("metadata", _JSONB),
    Index("idx_logs_level", "level"),
    Index("idx_logs_component", "component"),
    Index("idx_logs_created", text("created_at DESC")),
    Index("idx_logs_request", "request_id", postgresql_where=text("request_id IS NOT NULL")),
)

query_cache = Table(
    "query_cache",
    response_metadata,
    Column("key", String(100), primary_key=True),
    Column("index_name", String(255), nullable=False),
    Column("result_data", _JSON, nullable=False),
    Column("result_count", Integer, nullable=False, server_default="0"),
    Column("took_ms", Integer),
    Column("has_aggregations", Boolean, nullable=False, server_default=text("false")),
    _tstz("stored_at", nullable=False, now=True),
    _tstz("expires_at", nullable=False),
    Column("hit_count", Integer, nullable=False, server_default="0"),
    _tstz("last_hit_at"),
    CheckConstraint("hit_count >= 0", name="hit_count"),
    Index("idx_query_cache_index", "index_name"),
    Index("idx_query_cache_expires", "expires_at"),
)

response_dead_letters = _dead_letters(response_metadata)

# API keys of the response network's operators and admins (for scripts); the request
# network's table, on this network's users (revision 0003).
response_api_keys = Table(
    "api_keys",
    response_metadata,
    Column("id", Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("key_hash", String(255), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("scopes", _JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    _tstz("last_used_at"),
    _tstz("expires_at"),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    _tstz("created_at", nullable=False, now=True),
    Column("metadata", _JSONB),
    Index("idx_apikeys_user", "user_id"),
    Index("idx_apikeys_active", "is_active"),
    Index("idx_apikeys_expires", "expires_at"),
)


def metadata_for(network: str) -> MetaData:
    """The ``MetaData`` of ``network`` (``"request"`` or ``"response"``)."""
    if network == "request":
        return request_metadata
    if network == "response":
        return response_metadata
    raise ValueError(f"unknown network {network!r}; expected 'request' or 'response'")
