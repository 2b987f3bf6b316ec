"""Queries on WhatsApp sessions (the `wa_sessions` table)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.ids import SessionId, session_id_for
from sendmako.storage.records import SessionRecord
from sendmako.storage.tables import WaSession, utcnow


def to_record(row: WaSession) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        user_id=row.user_id,
        session_id=SessionId(row.session_id),
        session_name=row.session_name,
        engine=row.engine,
        status=row.status,
        status_detail=row.status_detail,
        phone_number=row.phone_number,
        device_jid=row.device_jid,
        pacing_ms=row.pacing_ms,
        created_at=row.created_at,
        updated_at=row.updated_at,
        reject_calls=row.reject_calls,
        reject_calls_message=row.reject_calls_message,
    )


async def count_for_user(db: AsyncSession, user_id: int) -> int:
    query = select(func.count()).select_from(WaSession).where(WaSession.user_id == user_id)
    return (await db.scalar(query)) or 0


async def create(
    db: AsyncSession,
    user_id: int,
    *,
    session_name: str,
    engine: str,
    status: str,
    pacing_ms: int,
    owner: str,
) -> SessionRecord:
    row = WaSession(
        user_id=user_id,
        session_id=f"pending_{uuid.uuid4().hex}",
        session_name=session_name,
        engine=engine,
        status=status,
        pacing_ms=pacing_ms,
        owner=owner,
    )
    db.add(row)
    await db.flush()
    taken = await db.scalar(select(func.count()).where(WaSession.session_id == f"user_{user_id}"))
    row.session_id = session_id_for(user_id, row.id, first=not taken)
    await db.flush()
    return to_record(row)


async def list_for_user(db: AsyncSession, user_id: int) -> list[SessionRecord]:
    rows = await db.scalars(
        select(WaSession).where(WaSession.user_id == user_id).order_by(WaSession.id)
    )
    return [to_record(row) for row in rows]


async def list_all(db: AsyncSession) -> list[SessionRecord]:
    rows = await db.scalars(select(WaSession).order_by(WaSession.id))
    return [to_record(row) for row in rows]


async def get(db: AsyncSession, session_id: str) -> SessionRecord | None:
    row = await db.scalar(select(WaSession).where(WaSession.session_id == session_id))
    return to_record(row) if row else None


async def rename(db: AsyncSession, session_id: str, name: str) -> None:
    await db.execute(
        update(WaSession)
        .where(WaSession.session_id == session_id)
        .values(session_name=name, updated_at=utcnow())
    )


async def set_state(
    db: AsyncSession,
    session_id: str,
    *,
    status: str,
    detail: str | None,
    phone_number: str | None = None,
    device_jid: str | None = None,
) -> None:
    values: dict[str, object] = {"status": status, "status_detail": detail, "updated_at": utcnow()}
    if phone_number is not None:
        values["phone_number"] = phone_number
    if device_jid is not None:
        values["device_jid"] = device_jid
    await db.execute(update(WaSession).where(WaSession.session_id == session_id).values(values))


async def change(db: AsyncSession, session_id: str, values: dict[str, object]) -> None:
    """Change the settings named in `values` (columns of wa_sessions)."""
    if values:
        await db.execute(update(WaSession).where(WaSession.session_id == session_id).values(values))


async def delete_one(db: AsyncSession, session_id: str) -> None:
    await db.execute(delete(WaSession).where(WaSession.session_id == session_id))
