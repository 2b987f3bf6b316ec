"""How far the history a phone sends at first link has come, per session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage import upsert
from sendmako.storage.tables import HistorySync, utcnow


@dataclass(frozen=True, slots=True)
class HistoryProgress:
    progress: int | None  # percent, as WhatsApp reports it (None: not told)
    chats: int  # conversations received so far
    messages: int  # messages stored so far
    started_at: datetime
    updated_at: datetime


async def advance(
    db: AsyncSession, session_id: str, progress: int | None, chats: int, messages: int
) -> None:
    """A chunk arrived: `chats` conversations and `messages` new messages more."""
    now = utcnow()
    statement = upsert.insert(db, HistorySync)
    columns = HistorySync.__table__.c
    excluded = statement.excluded
    values: dict[str, object] = {
        "chats": columns.chats + excluded.chats,
        "messages": columns.messages + excluded.messages,
        "updated_at": excluded.updated_at,
    }
    if progress is not None:
        values["progress"] = excluded.progress
    await db.execute(
        statement.values(
            session_id=session_id,
            progress=progress,
            chats=chats,
            messages=messages,
            started_at=now,
            updated_at=now,
        ).on_conflict_do_update(index_elements=[columns.session_id], set_=values)
    )


async def of_session(db: AsyncSession, session_id: str) -> HistoryProgress | None:
    row = await db.scalar(select(HistorySync).where(HistorySync.session_id == session_id))
    if row is None:
        return None
    return HistoryProgress(row.progress, row.chats, row.messages, row.started_at, row.updated_at)


async def forget(db: AsyncSession, session_id: str) -> None:
    await db.execute(delete(HistorySync).where(HistorySync.session_id == session_id))
