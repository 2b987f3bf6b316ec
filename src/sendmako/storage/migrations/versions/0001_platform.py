"""Platform: plans, users, API keys, WhatsApp sessions, sandbox devices.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from sendmako.storage.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Operators change these with `sendmako plans set` or the admin dashboard.
DEFAULT_PLANS: list[dict[str, object]] = [
    {"name": "free", "max_sessions": 2, "daily_messages": 1000},
    {"name": "pro", "max_sessions": 10, "daily_messages": 20000},
    {"name": "unlimited", "max_sessions": None, "daily_messages": None},
]


def upgrade() -> None:
    plans = op.create_table(
        "plans",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("max_sessions", sa.Integer()),
        sa.Column("daily_messages", sa.Integer()),
        sa.Column("created_at", UtcDateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.bulk_insert(plans, DEFAULT_PLANS)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200)),
        sa.Column(
            "plan", sa.String(40), sa.ForeignKey("plans.name", onupdate="CASCADE"), nullable=False
        ),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(100)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_used_at", UtcDateTime()),
        sa.Column("revoked_at", UtcDateTime()),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_table(
        "wa_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("session_id", sa.String(64), nullable=False, unique=True),
        sa.Column("session_name", sa.String(100), nullable=False),
        sa.Column("engine", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_detail", sa.Text()),
        sa.Column("phone_number", sa.String(32)),
        sa.Column("device_jid", sa.String(100)),
        sa.Column("pacing_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("owner", sa.String(100)),
        sa.Column("lease_until", UtcDateTime()),
    )
    op.create_index("ix_wa_sessions_user_created", "wa_sessions", ["user_id", "id"])
    op.create_table(
        "sandbox_devices",
        sa.Column(
            "session_pk",
            sa.Integer(),
            sa.ForeignKey("wa_sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("phone_number", sa.String(32), nullable=False),
        sa.Column("push_name", sa.String(100)),
        sa.Column("linked_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_sandbox_devices_phone_number", "sandbox_devices", ["phone_number"])


def downgrade() -> None:
    for table in ("sandbox_devices", "wa_sessions", "api_keys", "users", "plans"):
        op.drop_table(table)
