"""Placement (several nodes): each session's owner holds it with a fencing token that grows
at every change of hands; the QR a session shows is stored, for any node to show it; a
version counts every change of a session's row, so a node's copy never goes back in time.
The per-session expiry goes: a session's hold lasts as long as its owner's node lease.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wa_sessions") as table:
        table.add_column(sa.Column("lease_token", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("qr_code", sa.Text(), nullable=True))
        table.add_column(sa.Column("qr_expires_at", UtcDateTime(), nullable=True))
        table.drop_column("lease_until")
        table.create_index("ix_wa_sessions_owner", ["owner"])


def downgrade() -> None:
    with op.batch_alter_table("wa_sessions") as table:
        table.drop_index("ix_wa_sessions_owner")
        table.add_column(sa.Column("lease_until", UtcDateTime(), nullable=True))
        table.drop_column("qr_expires_at")
        table.drop_column("qr_code")
        table.drop_column("version")
        table.drop_column("lease_token")
