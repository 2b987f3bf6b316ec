"""Message details: what a stored message says (text, media, quote, poll), what happened to
it since (edits with the earlier text, reactions, votes, deletion), number checks, and a
session's call setting.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sender_name", sa.String(100), nullable=True))
        batch.add_column(sa.Column("sender_lid", sa.String(64), nullable=True))
        batch.add_column(sa.Column("media", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("quoted_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("poll", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("edited_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(64), nullable=True))
    op.create_index("ix_messages_user_wa_id", "messages", ["user_id", "wa_message_id"])
    op.create_table(
        "message_edits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "message_pk",
            sa.Integer(),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("replaced_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "message_reactions",
        sa.Column(
            "message_pk",
            sa.Integer(),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("reactor", sa.String(64), primary_key=True),
        sa.Column("emoji", sa.String(32), nullable=False),
        sa.Column("reacted_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "poll_votes",
        sa.Column(
            "message_pk",
            sa.Integer(),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("voter", sa.String(64), primary_key=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("voted_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "number_checks",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("on_whatsapp", sa.Boolean(), nullable=False),
        sa.Column("jid", sa.String(128), nullable=True),
        sa.Column("checked_at", UtcDateTime(), nullable=False),
    )
    with op.batch_alter_table("wa_sessions") as batch:
        batch.add_column(
            sa.Column("reject_calls", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("reject_calls_message", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wa_sessions") as batch:
        batch.drop_column("reject_calls_message")
        batch.drop_column("reject_calls")
    for table in ("number_checks", "poll_votes", "message_reactions", "message_edits"):
        op.drop_table(table)
    op.drop_index("ix_messages_user_wa_id", "messages")
    with op.batch_alter_table("messages") as batch:
        for column in (
            "revoked_by",
            "revoked_at",
            "edited_at",
            "poll",
            "quoted_id",
            "media",
            "sender_lid",
            "sender_name",
            "body",
        ):
            batch.drop_column(column)
