"""Webhook endpoint ids are random (chosen by storage/webhooks.py, up to 2**53): a
sequential id told anyone how many endpoints other accounts had made, and which ids to
probe. PostgreSQL's 32-bit columns become 64-bit; SQLite's integers already are.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("webhook_deliveries", "endpoint_id", type_=sa.BigInteger())
    op.alter_column("webhook_endpoints", "id", type_=sa.BigInteger())


def downgrade() -> None:
    # Random ids past 2**31 do not fit back: downgrading is refused rather than lossy.
    if op.get_bind().dialect.name != "postgresql":
        return
    raise NotImplementedError("webhook endpoint ids are 64-bit from 0010 on")
