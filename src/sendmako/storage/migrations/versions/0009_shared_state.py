"""Shared state (several nodes): the daily quota counted in the database, with each node's
reservations held under its lease; bulk jobs owned by a node's lease, their media stored in
the database; the dashboard's cookie secret stored once for every node.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_days",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("sent", sa.Integer(), nullable=False),
    )
    op.create_table(
        "quota_holds",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("node_token", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_quota_holds_user_day", "quota_holds", ["user_id", "day"])
    with op.batch_alter_table("bulk_jobs") as table:
        table.add_column(sa.Column("owner", sa.String(100), nullable=True))
        table.add_column(sa.Column("owner_token", sa.Integer(), nullable=True))
    op.create_table(
        "bulk_media",
        sa.Column(
            "job_id",
            sa.String(36),
            sa.ForeignKey("bulk_jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
    op.drop_table("bulk_media")
    with op.batch_alter_table("bulk_jobs") as table:
        table.drop_column("owner_token")
        table.drop_column("owner")
    op.drop_index("ix_quota_holds_user_day", "quota_holds")
    op.drop_table("quota_holds")
    op.drop_table("usage_days")
