"""Dashboard logins: each signed-in dashboard session, so that logging out (or a new
password, or disabling the account) ends it on the server, whatever copies of its cookie
exist.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_logins",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_dashboard_logins_user_id", "dashboard_logins", ["user_id"])
    op.create_index("ix_dashboard_logins_created_at", "dashboard_logins", ["created_at"])


def downgrade() -> None:
    op.drop_table("dashboard_logins")
