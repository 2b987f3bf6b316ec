"""Contacts and groups: the per-session contact list and group cache, and the sandbox's
simulated address books and groups.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _session_pk() -> sa.Column[int]:
    return sa.Column(
        "session_pk",
        sa.Integer(),
        sa.ForeignKey("wa_sessions.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "contacts",
        _session_pk(),
        sa.Column("jid", sa.String(128), primary_key=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("saved_name", sa.String(256)),
        sa.Column("push_name", sa.String(256)),
        sa.Column("business_name", sa.String(256)),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "group_cache",
        _session_pk(),
        sa.Column("jid", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("owner", sa.String(128)),
        sa.Column("creation", sa.Integer(), nullable=False),
        sa.Column("announce", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("refreshed_at", UtcDateTime()),
    )
    op.create_table(
        "session_syncs",
        _session_pk(),
        sa.Column("contacts_synced_at", UtcDateTime()),
        sa.Column("groups_synced_at", UtcDateTime()),
    )
    op.create_table(
        "sandbox_contacts",
        _session_pk(),
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(256)),
        sa.Column("added_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "sandbox_groups",
        sa.Column("jid", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("owner_phone", sa.String(32)),
        sa.Column("creation", sa.Integer(), nullable=False),
        sa.Column("announce", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("invite_code", sa.String(32), unique=True),
    )
    op.create_table(
        "sandbox_group_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "group_jid",
            sa.String(64),
            sa.ForeignKey("sandbox_groups.jid", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("joined_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("group_jid", "phone", name="uq_sandbox_group_member"),
    )
    op.create_index("ix_sandbox_group_members_phone", "sandbox_group_members", ["phone"])


def downgrade() -> None:
    for table in (
        "sandbox_group_members",
        "sandbox_groups",
        "sandbox_contacts",
        "session_syncs",
        "group_cache",
        "contacts",
    ):
        op.drop_table(table)
