"""Dead letters: task messages that exhausted their retries (SPEC §11).

New (not in the seeds): workers run on both networks; a message that fails every retry is
kept here, with its arguments and last error, until an operator retries or deletes it, so it
survives a restart of the broker (Redis) and shows in the admin API.

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
