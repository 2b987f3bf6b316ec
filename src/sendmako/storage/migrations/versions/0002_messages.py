"""Messages and bulk jobs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("wa_message_id", sa.String(128), nullable=False),
        sa.Column("chat", sa.String(128), nullable=False),
        sa.Column("peer", sa.String(64), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("bulk_job_id", sa.String(36)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_messages_user_created", "messages", ["user_id", "direction", "created_at"])
    op.create_index("ix_messages_session_wa_id", "messages", ["session_id", "wa_message_id"])
    op.create_table(
        "bulk_jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("is_async", sa.Boolean(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime()),
    )
    op.create_index("ix_bulk_jobs_user_id", "bulk_jobs", ["user_id"])
    op.create_table(
        "bulk_recipients",
        sa.Column(
            "job_id",
            sa.String(36),
            sa.ForeignKey("bulk_jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(128)),
        sa.Column("error", sa.Text()),
        sa.Column("sent_at", UtcDateTime()),
    )


def downgrade() -> None:
    for table in ("bulk_recipients", "bulk_jobs", "messages"):
        op.drop_table(table)
