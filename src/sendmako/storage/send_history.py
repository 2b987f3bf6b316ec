"""What the send policy reads of a session's stored messages: its recent sends, which chats
it has talked with, and when it last woke from a silence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage.tables import Message

# A session's sends of one day read back at most: far above any sensible daily cap.
MAX_RECENT_SENDS = 20_000
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class RecentSend:
    at: datetime
    chat: str
    body: str | None


async def sends_since(db: AsyncSession, session_id: str, since: datetime) -> list[RecentSend]:
    """The session's messages sent since `since`, oldest first."""
    rows = await db.execute(
        select(Message.created_at, Message.chat, Message.body)
        .where(
            Message.session_id == session_id,
            Message.direction == "out",
            Message.created_at >= since,
        )
        .order_by(Message.created_at.desc())
        .limit(MAX_RECENT_SENDS)
    )
    return [RecentSend(at, chat, body) for at, chat, body in reversed(rows.all())]


async def first_exchanges(
    db: AsyncSession, session_id: str, chats: Sequence[str]
) -> dict[str, tuple[datetime, datetime | None]]:
    """For each of `chats`: when the session first exchanged a message with it, and when
    that chat first wrote to it (None: never)."""
    found: dict[str, tuple[datetime, datetime | None]] = {}
    for start in range(0, len(chats), _CHUNK):
        chunk = chats[start : start + _CHUNK]
        rows = await db.execute(
            select(
                Message.chat,
                func.min(Message.created_at),
                func.min(case((Message.direction == "in", Message.created_at))),
            )
            .where(Message.session_id == session_id, Message.chat.in_(chunk))
            .group_by(Message.chat)
        )
        for chat, first, first_in in rows.all():
            found[chat] = (first, first_in)
    return found


async def knows(db: AsyncSession, session_id: str, chat: str) -> bool:
    """Whether the session ever exchanged a message with `chat`, either way."""
    row = await db.scalar(
        select(Message.id).where(Message.session_id == session_id, Message.chat == chat).limit(1)
    )
    return row is not None


async def first_send_since(db: AsyncSession, session_id: str, since: datetime) -> datetime | None:
    return await db.scalar(
        select(func.min(Message.created_at)).where(
            Message.session_id == session_id,
            Message.direction == "out",
            Message.created_at >= since,
        )
    )


async def last_send_before(db: AsyncSession, session_id: str, before: datetime) -> datetime | None:
    return await db.scalar(
        select(func.max(Message.created_at)).where(
            Message.session_id == session_id,
            Message.direction == "out",
            Message.created_at < before,
        )
    )
