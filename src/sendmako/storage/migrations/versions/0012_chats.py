"""Chats and history: a row per conversation of a session (name, latest activity, unread
count), an index that pages a chat's messages newest first whatever its size, one that
finds the oldest messages for retention, and the progress of the history a phone sends at
first link.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_chat_time", "messages", ["session_id", "chat", "created_at", "id"])
    op.create_index("ix_messages_created", "messages", ["created_at"])
    op.create_table(
        "chats",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("chat", sa.String(128), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("is_group", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("unread", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_at", UtcDateTime(), nullable=False),
        sa.Column("last_message_id", sa.String(128), nullable=True),
    )
    op.create_index("ix_chats_session_last", "chats", ["session_id", "last_at", "chat"])
    # Chats of the messages already stored, so an upgraded server lists them at once.
    op.execute(
        """
        INSERT INTO chats (session_id, chat, user_id, is_group, unread, last_at)
        SELECT session_id, chat, MIN(user_id),
               MAX(CASE WHEN chat LIKE '%@g.us' THEN 1 ELSE 0 END) = 1, 0, MAX(created_at)
        FROM messages GROUP BY session_id, chat
        """
    )
    op.create_table(
        "history_syncs",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.Column("chats", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("messages", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("history_syncs")
    op.drop_index("ix_chats_session_last", "chats")
    op.drop_table("chats")
    op.drop_index("ix_messages_created", "messages")
    op.drop_index("ix_messages_chat_time", "messages")
