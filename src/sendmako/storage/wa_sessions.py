"""Queries on WhatsApp sessions (the `wa_sessions` table)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, or_, select, update
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
        owner=row.owner,
        lease_token=row.lease_token,
        version=row.version,
        qr_code=row.qr_code,
        qr_expires_at=row.qr_expires_at,
        send_policy=row.send_policy,
        linked_at=row.linked_at,
        restriction=row.restriction,
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
    """A new session, held by the node `owner` (token 1)."""
    row = WaSession(
        user_id=user_id,
        session_id=f"pending_{uuid.uuid4().hex}",
        session_name=session_name,
        engine=engine,
        status=status,
        pacing_ms=pacing_ms,
        owner=owner,
        lease_token=1,
        version=0,
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
    await change(db, session_id, {"session_name": name})


async def set_state(
    db: AsyncSession,
    session_id: str,
    hold: Hold,
    *,
    status: str,
    detail: str | None,
    phone_number: str | None = None,
    device_jid: str | None = None,
    qr_code: str | None = None,
    qr_expires_at: datetime | None = None,
) -> bool:
    """Write what the session's engine reports, if `hold` is still the session's: False
    (nothing written) when another node holds it now. The QR is kept only with it."""
    values: dict[str, object] = {
        "status": status,
        "status_detail": detail,
        "qr_code": qr_code,
        "qr_expires_at": qr_expires_at,
        "updated_at": utcnow(),
        "version": WaSession.version + 1,
    }
    if phone_number is not None:
        values["phone_number"] = phone_number
        # A number linked now (a first link, or another number): its warm-up starts again.
        values["linked_at"] = case(
            (
                or_(
                    WaSession.linked_at.is_(None),
                    WaSession.phone_number.is_(None),
                    WaSession.phone_number != phone_number,
                ),
                utcnow(),
            ),
            else_=WaSession.linked_at,
        )
    if device_jid is not None:
        values["device_jid"] = device_jid
    result = await db.execute(
        update(WaSession)
        .where(
            WaSession.session_id == session_id,
            WaSession.owner == hold.owner,
            WaSession.lease_token == hold.token,
        )
        .values(values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def change(db: AsyncSession, session_id: str, values: dict[str, object]) -> None:
    """Change the settings named in `values` (columns of wa_sessions)."""
    if values:
        await db.execute(
            update(WaSession)
            .where(WaSession.session_id == session_id)
            .values({**values, "updated_at": utcnow(), "version": WaSession.version + 1})
        )


async def delete_one(db: AsyncSession, session_id: str) -> None:
    await db.execute(delete(WaSession).where(WaSession.session_id == session_id))


# -- placement (sessions/placement.py) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hold:
    """A node's hold on a session: its name and the session's fencing token."""

    owner: str
    token: int


async def take_all(db: AsyncSession, node: str) -> list[SessionRecord]:
    """Every session, now held by `node` (a single node: nobody else may run one)."""
    await db.execute(
        update(WaSession).values(
            owner=node, lease_token=WaSession.lease_token + 1, version=WaSession.version + 1
        )
    )
    return await list_all(db)


async def held_by(db: AsyncSession, node: str) -> list[SessionRecord]:
    rows = await db.scalars(select(WaSession).where(WaSession.owner == node).order_by(WaSession.id))
    return [to_record(row) for row in rows]


async def session_ids_by_owner(db: AsyncSession) -> dict[str, list[str]]:
    rows = await db.execute(
        select(WaSession.owner, WaSession.session_id)
        .where(WaSession.owner.is_not(None))
        .order_by(WaSession.id)
    )
    held: dict[str, list[str]] = {}
    for owner, session_id in rows:
        held.setdefault(str(owner), []).append(session_id)
    return held


async def count_by_owner(db: AsyncSession) -> dict[str | None, int]:
    """How many sessions each node holds (None: nobody)."""
    rows = await db.execute(select(WaSession.owner, func.count()).group_by(WaSession.owner))
    return {owner: count for owner, count in rows}  # noqa: C416 - rows, not pairs


async def claim(
    db: AsyncSession, node: str, live_nodes: Collection[str], limit: int
) -> list[SessionRecord]:
    """Up to `limit` sessions that no live node holds, now held by `node` with a new token.
    Rows another transaction is claiming are skipped (PostgreSQL), never waited for."""
    if limit <= 0:
        return []
    orphaned = (
        select(WaSession.id)
        .where(or_(WaSession.owner.is_(None), WaSession.owner.not_in(list(live_nodes))))
        .order_by(WaSession.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(await db.scalars(orphaned))
    if not ids:
        return []
    await db.execute(
        update(WaSession)
        .where(WaSession.id.in_(ids))
        .values(owner=node, lease_token=WaSession.lease_token + 1, version=WaSession.version + 1)
    )
    rows = await db.scalars(select(WaSession).where(WaSession.id.in_(ids)).order_by(WaSession.id))
    return [to_record(row) for row in rows]


async def release(db: AsyncSession, session_id: str, hold: Hold) -> bool:
    """Give the session up (it stopped here): any node may take it now."""
    result = await db.execute(
        update(WaSession)
        .where(
            WaSession.session_id == session_id,
            WaSession.owner == hold.owner,
            WaSession.lease_token == hold.token,
        )
        .values(owner=None, qr_code=None, qr_expires_at=None, version=WaSession.version + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
