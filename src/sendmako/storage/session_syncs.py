"""When a session's whole contact list and group list were last read from WhatsApp."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage import upsert
from sendmako.storage.tables import SessionSync, utcnow

What = Literal["contacts", "groups"]


async def synced_at(db: AsyncSession, session_pk: int, what: What) -> datetime | None:
    column = SessionSync.contacts_synced_at if what == "contacts" else SessionSync.groups_synced_at
    found: datetime | None = await db.scalar(
        select(column).where(SessionSync.session_pk == session_pk)
    )
    return found


async def mark_synced(db: AsyncSession, session_pk: int, what: What) -> None:
    column = f"{what}_synced_at"
    now = utcnow()
    statement = upsert.insert(db, SessionSync)
    await db.execute(
        statement.values(session_pk=session_pk, **{column: now}).on_conflict_do_update(
            index_elements=[SessionSync.session_pk], set_={column: now}
        )
    )


async def forget(db: AsyncSession, session_pk: int, what: What) -> None:
    """The next read must ask WhatsApp for the whole list again."""
    await db.execute(
        update(SessionSync)
        .where(SessionSync.session_pk == session_pk)
        .values({f"{what}_synced_at": None})
    )
