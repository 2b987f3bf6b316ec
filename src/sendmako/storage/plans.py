"""Queries on plans."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage.records import PlanRecord
from sendmako.storage.tables import Plan, User


def to_record(row: Plan) -> PlanRecord:
    return PlanRecord(row.name, row.max_sessions, row.daily_messages)


async def get(db: AsyncSession, name: str) -> PlanRecord | None:
    row = await db.get(Plan, name)
    return to_record(row) if row else None


async def list_all(db: AsyncSession) -> list[PlanRecord]:
    rows = await db.scalars(select(Plan).order_by(Plan.name))
    return [to_record(row) for row in rows]


async def user_counts(db: AsyncSession) -> dict[str, int]:
    """Users per plan name (plans nobody is on are absent)."""
    rows = await db.execute(select(User.plan, func.count()).group_by(User.plan))
    return {str(row[0]): int(row[1]) for row in rows}


async def upsert(
    db: AsyncSession, name: str, *, max_sessions: int | None, daily_messages: int | None
) -> PlanRecord:
    row = await db.get(Plan, name)
    if row is None:
        row = Plan(name=name)
        db.add(row)
    row.max_sessions = max_sessions
    row.daily_messages = daily_messages
    await db.flush()
    return to_record(row)
