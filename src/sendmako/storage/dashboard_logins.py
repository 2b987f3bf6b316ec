"""Queries on dashboard logins (`accounts/logins.py` makes the tokens and hashes them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage.tables import DashboardLogin


async def create(db: AsyncSession, login_id: str, user_id: int, at: datetime) -> None:
    db.add(DashboardLogin(id=login_id, user_id=user_id, created_at=at))
    await db.flush()


async def owner(db: AsyncSession, login_id: str, *, since: datetime) -> int | None:
    """The user of the login `login_id` if it was opened after `since`."""
    return await db.scalar(
        select(DashboardLogin.user_id).where(
            DashboardLogin.id == login_id, DashboardLogin.created_at > since
        )
    )


async def delete_one(db: AsyncSession, login_id: str) -> None:
    await db.execute(delete(DashboardLogin).where(DashboardLogin.id == login_id))


async def delete_for_user(db: AsyncSession, user_id: int, *, keep: str | None = None) -> int:
    """Every login of the user but `keep`; how many there were."""
    query = delete(DashboardLogin).where(DashboardLogin.user_id == user_id)
    if keep is not None:
        query = query.where(DashboardLogin.id != keep)
    result = await db.execute(query)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_older_than(db: AsyncSession, before: datetime) -> None:
    await db.execute(delete(DashboardLogin).where(DashboardLogin.created_at <= before))
