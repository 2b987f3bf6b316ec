"""Queries on API keys. Only hashes are stored; `accounts.py` makes and checks keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage import users
from sendmako.storage.records import ApiKeyRecord, UserRecord
from sendmako.storage.tables import ApiKey, Plan, User


@dataclass(frozen=True, slots=True)
class KeyOwner:
    key_id: int
    key_hash: str
    last_used_at: datetime | None
    revoked: bool
    user: UserRecord


def to_record(row: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        user_id=row.user_id,
        prefix=row.prefix,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


async def create(
    db: AsyncSession, user_id: int, *, prefix: str, key_hash: str, name: str | None
) -> ApiKeyRecord:
    row = ApiKey(user_id=user_id, prefix=prefix, key_hash=key_hash, name=name)
    db.add(row)
    await db.flush()
    return to_record(row)


async def owner_of(db: AsyncSession, key_hash: str) -> KeyOwner | None:
    query = (
        select(ApiKey, User, Plan)
        .join(User, User.id == ApiKey.user_id)
        .join(Plan, Plan.name == User.plan)
        .where(ApiKey.key_hash == key_hash)
    )
    found = (await db.execute(query)).first()
    if found is None:
        return None
    key, user, plan = found
    return KeyOwner(
        key_id=key.id,
        key_hash=key.key_hash,
        last_used_at=key.last_used_at,
        revoked=key.revoked_at is not None,
        user=users.to_record(user, plan),
    )


async def list_for_user(db: AsyncSession, user_id: int) -> list[ApiKeyRecord]:
    rows = await db.scalars(select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id))
    return [to_record(row) for row in rows]


async def count_active(db: AsyncSession, user_id: int) -> int:
    found = await db.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
    )
    return found or 0


async def get(db: AsyncSession, key_id: int) -> ApiKeyRecord | None:
    row = await db.get(ApiKey, key_id)
    return to_record(row) if row else None


async def by_prefix(db: AsyncSession, prefix: str) -> list[ApiKeyRecord]:
    rows = await db.scalars(select(ApiKey).where(ApiKey.prefix.startswith(prefix)))
    return [to_record(row) for row in rows]


async def revoke(db: AsyncSession, key_id: int, at: datetime) -> bool:
    result = await db.execute(
        update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def touch(db: AsyncSession, key_id: int, at: datetime) -> None:
    await db.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))
