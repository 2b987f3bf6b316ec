"""Queries on users."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage import plans
from sendmako.storage.records import UserRecord
from sendmako.storage.tables import Plan, User, WaSession


def to_record(row: User, plan: Plan) -> UserRecord:
    return UserRecord(
        id=row.id,
        email=row.email,
        plan=plans.to_record(plan),
        is_admin=row.is_admin,
        disabled=row.disabled,
        created_at=row.created_at,
        has_password=row.password_hash is not None,
    )


async def count(db: AsyncSession) -> int:
    return (await db.scalar(select(func.count()).select_from(User))) or 0


async def create(db: AsyncSession, email: str, *, plan: str, is_admin: bool = False) -> UserRecord:
    row = User(email=email, plan=plan, is_admin=is_admin, disabled=False)
    db.add(row)
    await db.flush()
    plan_row = await db.get(Plan, plan)
    assert plan_row is not None
    return to_record(row, plan_row)


async def lock(db: AsyncSession, user_id: int) -> None:
    """Serialise this transaction with others that lock the same user (PostgreSQL: a row
    lock until the transaction ends; SQLite serialises every write already)."""
    await db.execute(select(User.id).where(User.id == user_id).with_for_update())


async def get(db: AsyncSession, user_id: int) -> UserRecord | None:
    found = (await db.execute(_with_plan().where(User.id == user_id))).first()
    return to_record(*found) if found else None


async def by_email(db: AsyncSession, email: str) -> UserRecord | None:
    found = (await db.execute(_with_plan().where(User.email == email.lower()))).first()
    return to_record(*found) if found else None


async def list_all(db: AsyncSession) -> list[UserRecord]:
    rows = await db.execute(_with_plan().order_by(User.id))
    return [to_record(user, plan) for user, plan in rows]


async def disabled_ids(db: AsyncSession) -> set[int]:
    return set((await db.scalars(select(User.id).where(User.disabled.is_(True)))).all())


async def session_counts(db: AsyncSession) -> dict[int, int]:
    """Sessions per user id (users without sessions are absent)."""
    rows = await db.execute(select(WaSession.user_id, func.count()).group_by(WaSession.user_id))
    return {int(row[0]): int(row[1]) for row in rows}


async def password_hash(db: AsyncSession, user_id: int) -> str | None:
    return await db.scalar(select(User.password_hash).where(User.id == user_id))


async def update(
    db: AsyncSession,
    user_id: int,
    *,
    plan: str | None = None,
    disabled: bool | None = None,
    is_admin: bool | None = None,
    password_hash: str | None = None,
) -> None:
    row = await db.get(User, user_id)
    if row is None:
        return
    if plan is not None:
        row.plan = plan
    if disabled is not None:
        row.disabled = disabled
    if is_admin is not None:
        row.is_admin = is_admin
    if password_hash is not None:
        row.password_hash = password_hash
    await db.flush()


def _with_plan() -> Select[User, Plan]:
    return select(User, Plan).join(Plan, Plan.name == User.plan)
