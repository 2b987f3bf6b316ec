"""`INSERT ... ON CONFLICT DO UPDATE`, which SQLite and PostgreSQL spell alike but
SQLAlchemy builds from each dialect's own `insert`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert(db: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An insert for `table` that has `on_conflict_do_update` and `excluded` on this backend."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
