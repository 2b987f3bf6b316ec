"""Sandbox media in the database: with several nodes, a sandbox media URL is served by any
node, whichever stored the file.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_media",
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_sandbox_media_created_at", "sandbox_media", ["created_at"])


def downgrade() -> None:
    op.drop_table("sandbox_media")
