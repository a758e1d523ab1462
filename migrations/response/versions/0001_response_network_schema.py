"""The response network's schema.

The tables of ``seeds/ARCHITECTURE.md`` (users -- the source of truth --, incoming_requests,
query_results, export_batches, import_batches, system_logs) with their columns, statuses,
check constraints and indexes, plus what SPEC.md and the domain add: channels with sequence
numbers and acks, the batch bookkeeping of the transfer format, job leases, back-off and
attempts, and every result bound to its question. Every difference from the seeds is marked
``SEEDS:`` with its reason. (``query_cache`` and ``dead_letters`` come in revision 0002.)

Conventions for the whole schema:
- Constraints are named by the metadata's naming convention (``pk_users``,
  ``uq_users_email``, ``ck_incoming_requests_status``, …); indexes keep the seeds' names.
- SEEDS: timestamp columns the application orders or filters by (``imported_at``,
  ``executed_at``, ``created_at``) are NOT NULL; a NULL there would drop a row from every
  sorted list and, for ``imported_at``, from the queue's order.
- SEEDS: booleans are NOT NULL (a NULL ``cache_hit`` is neither hit nor miss).
- SEEDS: ``query_params`` and ``result_data`` are ``json``, not ``jsonb``. ``jsonb``
  re-spells numbers (a float ``1e+20`` comes back as the integer ``100000000000000000000``)
  and refuses ``\\u0000``; the worker re-validates a job and compares the query hash
  computed on the request network with the hash of what it stored, so a re-spelled number
  would fail the job. ``json`` keeps the text as written. Bookkeeping JSON (metadata, acks,
  rejections) stays ``jsonb``.

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
    # SEEDS: role (SPEC §9), version (grows with every change; the request network applies
    # a users snapshot by version), allowed_indices (a per-profile index whitelist, SPEC §6)
    # and locally_deactivated (meaningful on the request network's replica only; kept here
    # so both tables hold the same account) are new.
    # SEEDS: the rate limits are nullable: NULL means unlimited (the admin profile).
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
    create_users(replica=False)

    # The durable queue (SPEC §11): claimed with FOR UPDATE SKIP LOCKED in priority DESC,
    # imported_at ASC order.
    # SEEDS: original_request_id is UNIQUE: it is the natural key of an import (a request
    # re-sent in a later batch, or two files carrying it, is inserted once, by
    # INSERT ... ON CONFLICT (original_request_id) DO NOTHING).
    # SEEDS: new columns: query_hash, created_at (when the user submitted it), expires_at
    # (an expired request is failed, not executed), import_batch_sequence (a result names
    # the batch its question came in), attempts, lease_expires_at (a dead worker's job is
    # claimed again once its lease runs out) and next_attempt_at (back-off before a retry).
    # retry_count is kept, derived from attempts, so the two cannot disagree.
    # SEEDS: import_batch_id is NOT NULL -- every job came in some batch.
    op.create_table(
        "incoming_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("original_request_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("query_type", sa.String(50), nullable=False),
        sa.Column("query_params", postgresql.JSON(), nullable=False),
        _jsonb("elasticsearch_query"),
        sa.Column("query_hash", sa.String(64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="5"),
        _tstz("created_at", nullable=False),
        _tstz("expires_at", nullable=False),
        _tstz("imported_at", nullable=False, now=True),
        sa.Column("import_batch_id", sa.Uuid(), nullable=False),
        sa.Column("import_batch_sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(50), nullable=False, server_default="pending"),
        sa.Column("assigned_worker", sa.String(100)),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "retry_count",
            sa.Integer(),
            sa.Computed("GREATEST(attempts - 1, 0)", persisted=True),
        ),
        _tstz("lease_expires_at"),
        _tstz("next_attempt_at"),
        _tstz("started_at"),
        _tstz("completed_at"),
        sa.Column("error_message", sa.Text()),
        _jsonb("metadata"),
        sa.PrimaryKeyConstraint("id", name="pk_incoming_requests"),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'retry')",
            name="ck_incoming_requests_status",
        ),
        sa.CheckConstraint(
            "priority >= 1 AND priority <= 10", name="ck_incoming_requests_priority"
        ),
        sa.CheckConstraint("attempts >= 0", name="ck_incoming_requests_attempts"),
    )
    op.create_index("idx_incoming_status", "incoming_requests", ["status"])
    # SEEDS: idx_incoming_priority covers only the states a job can be claimed from, and
    # ends with id (the claim's tie-break): finished jobs, soon the vast majority, are never
    # scanned to find work.
    op.create_index(
        "idx_incoming_priority",
        "incoming_requests",
        [sa.literal_column("priority DESC"), "imported_at", "id"],
        postgresql_where=sa.text("status IN ('pending', 'retry', 'processing')"),
    )
    # The admin list, newest first (it no longer fits idx_incoming_priority).
    op.create_index(
        "idx_incoming_imported", "incoming_requests", [sa.literal_column("imported_at DESC")]
    )
    op.create_index("idx_incoming_batch", "incoming_requests", ["import_batch_id"])
    op.create_index(
        "idx_incoming_original", "incoming_requests", ["original_request_id"], unique=True
    )

    # SEEDS: request_id (the job) is not UNIQUE: an operator's retry of a failed job
    # (POST /incoming-requests/{id}/retry) runs it again and records a second result; the
    # request network keeps the first answer it accepts. idx_results_request serves lookups.
    # SEEDS: every result is bound to its question (SPEC §4): the request batch id and
    # sequence, the query hash, the backend and index it ran against; status and
    # error_message say whether it is an answer or an explicit failure.
    op.create_table(
        "query_results",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("original_request_id", sa.Uuid(), nullable=False),
        sa.Column("request_batch_id", sa.Uuid(), nullable=False),
        sa.Column("request_batch_sequence", sa.Integer(), nullable=False),
        sa.Column("query_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="completed"),
        sa.Column("backend", sa.String(50), nullable=False),
        sa.Column("index_name", sa.String(255), nullable=False),
        sa.Column("result_data", postgresql.JSON()),
        sa.Column("result_count", sa.Integer()),
        sa.Column("execution_time_ms", sa.Integer()),
        sa.Column("elasticsearch_took_ms", sa.Integer()),
        sa.Column("cache_hit", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("error_message", sa.Text()),
        _tstz("executed_at", nullable=False, now=True),
        _tstz("exported_at"),
        sa.Column("export_batch_id", sa.Uuid()),
        _jsonb("metadata"),
        sa.PrimaryKeyConstraint("id", name="pk_query_results"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["incoming_requests.id"],
            name="fk_query_results_request_id_incoming_requests",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("status IN ('completed', 'failed')", name="ck_query_results_status"),
    )
    op.create_index("idx_results_request", "query_results", ["request_id"])
    op.create_index("idx_results_original", "query_results", ["original_request_id"])
    op.create_index(
        "idx_results_executed", "query_results", [sa.literal_column("executed_at DESC")]
    )
    op.create_index(
        "idx_results_export",
        "query_results",
        ["exported_at"],
        postgresql_where=sa.text("exported_at IS NOT NULL"),
    )
    # The export's selection: results not yet in a batch, oldest first.
    op.create_index(
        "idx_results_unexported",
        "query_results",
        ["executed_at", "id"],
        postgresql_where=sa.text("export_batch_id IS NULL"),
    )
    # A batch's contents, for re-sends and rewrites.
    op.create_index(
        "idx_results_batch",
        "query_results",
        ["export_batch_id"],
        postgresql_where=sa.text("export_batch_id IS NOT NULL"),
    )

    # SEEDS: the seeds gave the response network's batch tables no indexes and no
    # source_batch_id; they are the same as the request network's (see there).
    create_transfer_tables()

    op.create_table(
        "system_logs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("component", sa.String(100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("error_trace", sa.Text()),
        sa.Column("request_id", sa.Uuid()),
        _tstz("created_at", nullable=False, now=True),
        _jsonb("metadata"),
        sa.PrimaryKeyConstraint("id", name="pk_system_logs"),
    )
    op.create_index("idx_logs_level", "system_logs", ["level"])
    op.create_index("idx_logs_component", "system_logs", ["component"])
    op.create_index("idx_logs_created", "system_logs", [sa.literal_column("created_at DESC")])
    op.create_index(
        "idx_logs_request",
        "system_logs",
        ["request_id"],
        postgresql_where=sa.text("request_id IS NOT NULL"),
    )


def downgrade() -> None:
    for table in (
        "system_logs",
        "inbound_channels",
        "outbound_channels",
        "import_batches",
        "export_batches",
        "query_results",
        "incoming_requests",
        "users",
    ):
        op.drop_table(table)
