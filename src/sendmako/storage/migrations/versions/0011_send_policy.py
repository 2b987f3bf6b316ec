"""Sending safely: each session's send policy (null: the server's default), when its number
was linked (its warm-up counts from then), WhatsApp's restriction on it (a temporary ban,
or a block on new contacts); messages found by chat (is this a new contact?).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wa_sessions") as table:
        table.add_column(sa.Column("send_policy", sa.JSON(), nullable=True))
        table.add_column(sa.Column("linked_at", UtcDateTime(), nullable=True))
        table.add_column(sa.Column("restriction", sa.JSON(), nullable=True))
    op.create_index("ix_messages_session_chat", "messages", ["session_id", "chat"])


def downgrade() -> None:
    op.drop_index("ix_messages_session_chat", table_name="messages")
    with op.batch_alter_table("wa_sessions") as table:
        table.drop_column("restriction")
        table.drop_column("linked_at")
        table.drop_column("send_policy")
