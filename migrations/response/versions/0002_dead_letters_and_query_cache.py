"""Dead letters (SPEC §11) and the query cache table (SPEC §8).

Dead letters are new (not in the seeds): a task message that fails every retry is kept here,
with its arguments and last error, until an operator retries or deletes it, so it survives a
restart of the broker (Redis) and shows in the admin API. The query cache is in the seeds'
TODO but not in their schema.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New (SPEC §8): the cache's second level behind Redis, keyed by the hash of the
    # canonical query template; hit_count and last_hit_at drive the "hot" TTL class.
    op.create_table(
        "query_cache",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("index_name", sa.String(255), nullable=False),
        sa.Column("result_data", postgresql.JSON(), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("took_ms", sa.Integer()),
        sa.Column(
            "has_aggregations", sa.Boolean(), nullable=False, server_default=sa.text("false")
        ),
        sa.Column(
            "stored_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hit_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_hit_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("key", name="pk_query_cache"),
        sa.CheckConstraint("hit_count >= 0", name="ck_query_cache_hit_count"),
    )
    # DELETE /cache?index= and the hourly sweep of expired entries.
    op.create_index("idx_query_cache_index", "query_cache", ["index_name"])
    op.create_index("idx_query_cache_expires", "query_cache", ["expires_at"])

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        # The broker's message id: dead-lettering the same message twice keeps one row.
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("queue_name", sa.String(100), nullable=False),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column(
            "args", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")
        ),
        sa.Column(
            "kwargs", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.Column(
            "options", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.Column("error", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "failed_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        sa.Column("retried_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
        sa.UniqueConstraint("message_id", name="uq_dead_letters_message_id"),
        sa.CheckConstraint("attempts >= 0", name="ck_dead_letters_attempts"),
    )
    op.create_index(
        "idx_dead_letters_failed", "dead_letters", [sa.literal_column("failed_at DESC")]
    )
    op.create_index("idx_dead_letters_actor", "dead_letters", ["actor_name"])


def downgrade() -> None:
    op.drop_table("dead_letters")
    op.drop_table("query_cache")
