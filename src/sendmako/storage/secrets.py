"""Queries on `server_secrets`: secrets every node shares, made once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage import upsert
from sendmako.storage.tables import ServerSecret, utcnow


async def get(db: AsyncSession, name: str) -> str | None:
    return await db.scalar(select(ServerSecret.value).where(ServerSecret.name == name))


async def keep_first(db: AsyncSession, name: str, value: str) -> str:
    """Store `value` under `name` unless a node already stored one: the one stored."""
    statement = upsert.insert(db, ServerSecret).values(name=name, value=value, created_at=utcnow())
    await db.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
    stored = await get(db, name)
    assert stored is not None
    return stored
