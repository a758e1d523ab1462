"""The request network's schema.

The tables of ``seeds/ARCHITECTURE.md`` (users replica, requests, responses, export_batches,
import_batches, audit_logs, api_keys) with their columns, statuses, check constraints and
indexes, plus what SPEC.md and the domain add: channels with sequence numbers and acks, the
batch bookkeeping of the transfer format, request expiry, query hashes and re-send counts.
Every difference from the seeds is marked ``SEEDS:`` with its reason.

Conventions for the whole schema:
- Constraints are named by the metadata's naming convention (``pk_users``,
  ``uq_users_email``, ``ck_requests_status``, ``fk_requests_user_id_users``); indexes keep
  the seeds' ``idx_…`` names.
- SEEDS: timestamp columns the application orders or filters by (``created_at`` and the
  like) are NOT NULL; a NULL there would silently drop a row from every sorted list.
- SEEDS: booleans are NOT NULL (a NULL ``is_active`` is neither active nor inactive).
- SEEDS: ``query_params`` and ``result_data`` are ``json``, not ``jsonb``. ``jsonb``
  re-spells numbers (a float ``1e+20`` comes back as the integer ``100000000000000000000``)
  and refuses ``\\u0000``; the query hash that binds an answer to its question is computed
  over the exact JSON, and a changed number would make the other side refuse the answer.
  ``json`` keeps the text as written. Bookkeeping JSON (metadata, acks, rejections) stays
  ``jsonb``.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")
NETWORKS = "('request', 'response')"
BATCH_TYPES = "('requests', 'responses', 'users', 'system')"


def _tstz(name: str, *, nullable: bool = True, now: bool = False) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), nullable=nullable, server_default=NOW if now else None
    )


def _jsonb(name: str, *, default: str | None = None) -> sa.Column[object]:
    return sa.Column(
        name,
        postgresql.JSONB(),
        nullable=default is None,
        server_default=None if default is None else sa.text(f"'{default}'::jsonb"),
    )


def create_users(*, replica: bool) -> None:
    # SEEDS: the replica carries the whole account as the response network exports it
    # (role, version, allowed indices, timestamps), so that a users snapshot can be applied
    # by version and a request can be checked against the profile's index whitelist.
    # SEEDS: the rate limits are nullable: NULL means unlimited (the admin profile).
    # SEEDS: the checks on profile and priority, which the seeds put only on the response
    # network's table, hold for the replica too (it holds the same data).
    extra = [_tstz("synced_at", now=True)] if replica else []
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.Uuid(),
            nullable=False,
            server_default=None if replica else sa.text("gen_random_uuid()"),
        ),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("hashed_password", sa.String(255), nullable=False),
        sa.Column("full_name", sa.String(255)),
        sa.Column("profile_type", sa.String(50), nullable=False, server_default="basic"),
        sa.Column("rate_limit_per_minute", sa.Integer(), server_default="10"),
        sa.Column("rate_limit_per_hour", sa.Integer(), server_default="100"),
        sa.Column("rate_limit_per_day", sa.Integer(), server_default="500"),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="5"),
        sa.Column("role", sa.String(20), nullable=False, server_default="user"),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        # Request network: an admin there stopped the user locally (an emergency stop that
        # a snapshot from the response network does not undo).
        sa.Column(
            "locally_deactivated", sa.Boolean(), nullable=False, server_default=sa.text("false")
        ),
        sa.Column("allowed_indices", postgresql.ARRAY(sa.Text())),
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="1"),
        _tstz("created_at", now=True),
        _tstz("updated_at", now=True),
        _tstz("last_login"),
        *extra,
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.CheckConstraint(
            "profile_type IN ('basic', 'premium', 'enterprise', 'admin')",
            name="ck_users_profile_type",
        ),
        sa.CheckConstraint("role IN ('user', 'operator', 'admin', 'system')", name="ck_users_role"),
        sa.CheckConstraint("priority >= 1 AND priority <= 10", name="ck_users_priority"),
        sa.CheckConstraint(
            "(rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0)"
            " AND (rate_limit_per_hour IS NULL OR rate_limit_per_hour > 0)"
            " AND (rate_limit_per_day IS NULL OR rate_limit_per_day > 0)",
            name="ck_users_rate_limits",
        ),
        sa.CheckConstraint("version >= 1", name="ck_users_version"),
    )
    # SEEDS: no idx_users_username -- the UNIQUE constraint's index already serves it.
    op.create_index("idx_users_profile", "users", ["profile_type"])
    op.create_index("idx_users_active", "users", ["is_active"])
    # Which accounts changed since a users snapshot.
    op.create_index("idx_users_version", "users", ["version"])


def create_transfer_tables() -> None:
    """Batches and channels: the same on both networks."""
    # SEEDS: export batches belong to a channel (source -> destination) and carry its
    # sequence number (unique per channel: SPEC §4, no gaps, never reused); 'users' batches
    # exist; a batch is 'acknowledged' when the other side says it imported it and
    # 'resent' when its contents went out again; the other side's per-item import report
    # (accepted, duplicates, rejections) is kept. user_ids/report_ids are the contents that
    # have no column of their own, so a batch whose file was never written (a crash) can be
    # written again, identically, from the database.
    # SEEDS: file_path is nullable: the outbox owns where files live; the database records
    # the file name. encrypted defaults to false, as in the embedded default.
    op.create_table(
        "export_batches",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("batch_type", sa.String(50), nullable=False),
        sa.Column("source_network", sa.String(20), nullable=False),
        sa.Column("destination_network", sa.String(20), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("file_path", sa.String(500)),
        sa.Column("file_size_bytes", sa.BigInteger()),
        sa.Column("record_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("checksum", sa.String(64)),
        sa.Column("encrypted", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("signed", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("status", sa.String(50), nullable=False, server_default="pending"),
        _tstz("created_at", nullable=False, now=True),
        _tstz("completed_at"),
        _tstz("acknowledged_at"),
        _tstz("resent_at"),
        sa.Column("error_message", sa.Text()),
        sa.Column("remote_accepted", sa.Integer()),
        sa.Column("remote_duplicates", sa.Integer()),
        _jsonb("remote_rejections", default="[]"),
        sa.Column(
            "user_ids",
            postgresql.ARRAY(sa.Uuid()),
            nullable=False,
            server_default=sa.text("'{}'::uuid[]"),
        ),
        sa.Column(
            "report_ids",
            postgresql.ARRAY(sa.Uuid()),
            nullable=False,
            server_default=sa.text("'{}'::uuid[]"),
        ),
        _jsonb("metadata"),
        sa.PrimaryKeyConstraint("id", name="pk_export_batches"),
        sa.UniqueConstraint(
            "source_network",
            "destination_network",
            "sequence",
            name="uq_export_batches_source_network_destination_network_sequence",
        ),
        sa.CheckConstraint(f"batch_type IN {BATCH_TYPES}", name="ck_export_batches_batch_type"),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'acknowledged', 'resent', 'failed')",
            name="ck_export_batches_status",
        ),
        sa.CheckConstraint(
            f"source_network IN {NETWORKS}", name="ck_export_batches_source_network"
        ),
        sa.CheckConstraint(
            f"destination_network IN {NETWORKS}", name="ck_export_batches_destination_network"
        ),
        sa.CheckConstraint(
            "source_network <> destination_network", name="ck_export_batches_channel"
        ),
        sa.CheckConstraint("sequence >= 1", name="ck_export_batches_sequence"),
    )
    op.create_index("idx_batches_type", "export_batches", ["batch_type"])
    op.create_index("idx_batches_status", "export_batches", ["status"])
    op.create_index("idx_batches_created", "export_batches", [sa.literal_column("created_at DESC")])

    # SEEDS: batch_type is nullable (a batch whose manifest cannot be read is still recorded,
    # as failed, with its reason); 'users' batches exist; the source network and sequence
    # number are kept (acks are computed from them), and so is the per-item report that goes
    # back to the sender (accepted, duplicates, rejections, and whether it was reported).
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("batch_type", sa.String(50)),
        sa.Column("source_network", sa.String(20)),
        sa.Column("sequence", sa.Integer()),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("file_path", sa.String(500)),
        sa.Column("file_size_bytes", sa.BigInteger()),
        sa.Column("record_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("checksum", sa.String(64)),
        sa.Column("source_batch_id", sa.Uuid()),
        sa.Column("status", sa.String(50), nullable=False, server_default="pending"),
        _tstz("created_at", nullable=False, now=True),
        _tstz("processed_at"),
        sa.Column("accepted", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("duplicates", sa.Integer(), nullable=False, server_default="0"),
        _jsonb("rejections", default="[]"),
        sa.Column("reported", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("error_message", sa.Text()),
        _jsonb("metadata"),
        sa.PrimaryKeyConstraint("id", name="pk_import_batches"),
        sa.CheckConstraint(
            f"batch_type IS NULL OR batch_type IN {BATCH_TYPES}",
            name="ck_import_batches_batch_type",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'duplicate')",
            name="ck_import_batches_status",
        ),
        sa.CheckConstraint(
            f"source_network IS NULL OR source_network IN {NETWORKS}",
            name="ck_import_batches_source_network",
        ),
    )
    op.create_index("idx_import_batches_status", "import_batches", ["status"])
    op.create_index(
        "idx_import_batches_created", "import_batches", [sa.literal_column("created_at DESC")]
    )
    op.create_index("idx_import_batches_checksum", "import_batches", ["checksum"])
    # "Was this batch id imported before?" -- asked for every arriving batch.
    op.create_index(
        "idx_import_batches_imported",
        "import_batches",
        ["source_batch_id"],
        postgresql_where=sa.text("status = 'completed'"),
    )
    # Imports whose report has not gone back yet -- asked for every outgoing batch.
    op.create_index(
        "idx_import_batches_unreported",
        "import_batches",
        ["created_at", "id"],
        postgresql_where=sa.text("NOT reported"),
    )

    # New (SPEC §4): the two ends of each channel. The outbound row is locked while a batch
    # is planned, which serialises sequence allocation between concurrent exporters.
    op.create_table(
        "outbound_channels",
        sa.Column("source_network", sa.String(20), nullable=False),
        sa.Column("destination_network", sa.String(20), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False, server_default="0"),
        _jsonb("acks_sent"),
        _tstz("last_sent_at"),
        sa.Column("users_version_sent", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint(
            "source_network", "destination_network", name="pk_outbound_channels"
        ),
        sa.CheckConstraint(
            f"source_network IN {NETWORKS}", name="ck_outbound_channels_source_network"
        ),
        sa.CheckConstraint(
            f"destination_network IN {NETWORKS}", name="ck_outbound_channels_destination_network"
        ),
        sa.CheckConstraint("last_sequence >= 0", name="ck_outbound_channels_last_sequence"),
    )
    # The sequence numbers received from the other side, as [[low, high], ...] ranges.
    op.create_table(
        "inbound_channels",
        sa.Column("source_network", sa.String(20), nullable=False),
        sa.Column("destination_network", sa.String(20), nullable=False),
        _jsonb("received", default="[]"),
        _tstz("last_received_at"),
        sa.Column("ack_owed", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.PrimaryKeyConstraint(
            "source_network", "destination_network", name="pk_inbound_channels"
        ),
        sa.CheckConstraint(
            f"source_network IN {NETWORKS}", name="ck_inbound_channels_source_network"
        ),
        sa.CheckConstraint(
            f"destination_network IN {NETWORKS}", name="ck_inbound_channels_destination_network"
        ),
    )


def upgrade() -> None:
    create_users(replica=True)

    # SEEDS: query_hash (binds the answer to the question), expires_at (SPEC §4, default
    # 7 days), export_count and cancelled_at are new. retry_count is kept, derived from
    # export_count (how often the request was re-sent) so the two can never disagree; the
    # seeds' cap of 5 is dropped because re-sends are bounded by the request's expiry, not
    # by a count -- a request whose batches keep getting lost goes again until it expires.
    # SEEDS: priority is checked to be 1..10, as the users' priority is.
    op.create_table(
        "requests",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("query_type", sa.String(50), nullable=False),
        sa.Column("query_params", postgresql.JSON(), nullable=False),
        _jsonb("elasticsearch_query"),
        sa.Column("query_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(50), nullable=False, server_default="pending"),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="5"),
        _tstz("created_at", nullable=False, now=True),
        _tstz("expires_at", nullable=False),
        _tstz("exported_at"),
        sa.Column("export_batch_id", sa.Uuid()),
        sa.Column("export_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "retry_count",
            sa.Integer(),
            sa.Computed("GREATEST(export_count - 1, 0)", persisted=True),
        ),
        _tstz("result_received_at"),
        _tstz("cancelled_at"),
        sa.Column("error_message", sa.Text()),
        _jsonb("metadata"),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_requests_user_id_users", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'exported', 'processing', 'completed', 'failed',"
            " 'cancelled')",
            name="ck_requests_status",
        ),
        sa.CheckConstraint("priority >= 1 AND priority <= 10", name="ck_requests_priority"),
        sa.CheckConstraint("export_count >= 0", name="ck_requests_export_count"),
    )
    # SEEDS: idx_requests_user also covers created_at, so "a user's requests, newest first"
    # (GET /requests) is one index range scan.
    op.create_index(
        "idx_requests_user", "requests", ["user_id", sa.literal_column("created_at DESC")]
    )
    op.create_index("idx_requests_status", "requests", ["status"])
    op.create_index("idx_requests_created", "requests", [sa.literal_column("created_at DESC")])
    op.create_index(
        "idx_requests_export",
        "requests",
        ["exported_at"],
        postgresql_where=sa.text("exported_at IS NOT NULL"),
    )
    op.create_index(
        "idx_requests_batch",
        "requests",
        ["export_batch_id"],
        postgresql_where=sa.text("export_batch_id IS NOT NULL"),
    )
    # The export's selection: pending requests, priority DESC then oldest first.
    op.create_index(
        "idx_requests_pending",
        "requests",
        [sa.literal_column("priority DESC"), "created_at", "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    # max_age_seconds: a fresh stored answer to the same query.
    op.create_index("idx_requests_query_hash", "requests", ["query_hash"])

    # SEEDS: an answer is 'completed' or 'failed' (with its reason in error_message);
    # is_cached is the response network's cache hit; from_cache marks an answer given on
    # this network from a stored answer (max_age_seconds), never itself reused.
    op.create_table(
        "responses",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="completed"),
        sa.Column("result_data", postgresql.JSON()),
        sa.Column("result_count", sa.Integer()),
        sa.Column("execution_time_ms", sa.Integer()),
        _tstz("received_at", nullable=False, now=True),
        sa.Column("import_batch_id", sa.Uuid()),
        sa.Column("is_cached", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("from_cache", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("cache_key", sa.String(255)),
        sa.Column("error_message", sa.Text()),
        _jsonb("metadata"),
        sa.PrimaryKeyConstraint("id", name="pk_responses"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_responses_request_id_requests",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("request_id", name="uq_responses_request_id"),
        sa.CheckConstraint("status IN ('completed', 'failed')", name="ck_responses_status"),
    )
    # SEEDS: no idx_responses_request -- the UNIQUE constraint's index already serves it.
    op.create_index("idx_responses_received", "responses", [sa.literal_column("received_at DESC")])
    op.create_index(
        "idx_responses_batch",
        "responses",
        ["import_batch_id"],
        postgresql_where=sa.text("import_batch_id IS NOT NULL"),
    )
    op.create_index(
        "idx_responses_cache",
        "responses",
        ["cache_key"],
        postgresql_where=sa.text("cache_key IS NOT NULL"),
    )

    create_transfer_tables()

    op.create_table(
        "audit_logs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("resource_type", sa.String(100)),
        sa.Column("resource_id", sa.String(100)),
        sa.Column("ip_address", postgresql.INET()),
        sa.Column("user_agent", sa.Text()),
        _jsonb("request_data"),
        sa.Column("response_status", sa.Integer()),
        _tstz("created_at", nullable=False, now=True),
        _jsonb("metadata"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_logs"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_audit_logs_user_id_users", ondelete="SET NULL"
        ),
    )
    op.create_index("idx_audit_user", "audit_logs", ["user_id"])
    op.create_index("idx_audit_action", "audit_logs", ["action"])
    op.create_index("idx_audit_created", "audit_logs", [sa.literal_column("created_at DESC")])
    op.create_index("idx_audit_resource", "audit_logs", ["resource_type", "resource_id"])

    # SEEDS: user_id and scopes are NOT NULL: every key belongs to a user and has a (possibly
    # empty) list of scopes.
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key_hash", sa.String(255), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(20), nullable=False),
        _jsonb("scopes", default="[]"),
        _tstz("last_used_at"),
        _tstz("expires_at"),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        _tstz("created_at", nullable=False, now=True),
        _jsonb("metadata"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_keys_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("idx_apikeys_user", "api_keys", ["user_id"])
    op.create_index("idx_apikeys_active", "api_keys", ["is_active"])
    op.create_index("idx_apikeys_expires", "api_keys", ["expires_at"])


def downgrade() -> None:
    for table in (
        "api_keys",
        "audit_logs",
        "inbound_channels",
        "outbound_channels",
        "import_batches",
        "export_batches",
        "responses",
        "requests",
        "users",
    ):
        op.drop_table(table)
