"""Queries on chats: one row per conversation of a session, kept up to date as its
messages are stored, so listing a session's chats reads a page of an index and never
counts or scans messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, case, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage import upsert
from sendmako.storage.tables import CachedGroup, Chat, Message

CHATS = cast(Table, Chat.__table__)
GROUP_SUFFIX = "@g.us"


@dataclass(frozen=True, slots=True)
class ChatRecord:
    session_id: str
    chat: str  # the chat's JID
    name: str | None
    is_group: bool
    unread: int
    last_at: datetime
    last_message_id: str | None


@dataclass(frozen=True, slots=True)
class ChatActivity:
    """What new messages did to one chat: the newest of them, and how many are unread."""

    user_id: int
    session_id: str
    chat: str
    last_at: datetime
    last_message_id: str | None
    unread: int = 0  # added to the chat's count
    name: str | None = None  # replaces the chat's name when given


def activity(
    rows: Sequence[Any], *, unread: bool = True, names: dict[tuple[str, str], str] | None = None
) -> list[ChatActivity]:
    """The chats `rows` (new messages: user_id, session_id, chat, direction, created_at,
    wa_message_id) touch, one entry each. Incoming messages count as unread unless
    `unread` is false (history, whose unread count comes from the phone)."""
    by_chat: dict[tuple[str, str], ChatActivity] = {}
    for row in rows:
        key = (row.session_id, row.chat)
        incoming = 1 if unread and row.direction == "in" else 0
        # A person's chat is named by what they call themselves, until the phone's
        # address book (history) names it.
        pushed = getattr(row, "sender_name", None)
        named = (names or {}).get(key) or (
            pushed if row.direction == "in" and not row.chat.endswith(GROUP_SUFFIX) else None
        )
        seen = by_chat.get(key)
        if seen is None:
            by_chat[key] = ChatActivity(
                row.user_id,
                row.session_id,
                row.chat,
                row.created_at,
                row.wa_message_id,
                incoming,
                named,
            )
            continue
        newer = row.created_at >= seen.last_at
        by_chat[key] = ChatActivity(
            seen.user_id,
            seen.session_id,
            seen.chat,
            row.created_at if newer else seen.last_at,
            row.wa_message_id if newer else seen.last_message_id,
            seen.unread + incoming,
            (names or {}).get(key) or (named if newer else None) or seen.name,
        )
    return list(by_chat.values())


async def touch(db: AsyncSession, changes: Sequence[ChatActivity]) -> None:
    """Create or move the chats: their latest message becomes the newest of what they had
    and what arrived (history arrives older than what is already there), unread counts
    grow. One statement for the whole batch."""
    if not changes:
        return
    statement = upsert.insert(db, CHATS)
    excluded = statement.excluded
    columns = CHATS.c
    newer = excluded.last_at >= columns.last_at
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[columns.session_id, columns.chat],
            set_={
                "last_at": case((newer, excluded.last_at), else_=columns.last_at),
                "last_message_id": case(
                    (newer, excluded.last_message_id), else_=columns.last_message_id
                ),
                "unread": columns.unread + excluded.unread,
                "name": func.coalesce(excluded.name, columns.name),
            },
        ),
        [
            {
                "session_id": change.session_id,
                "chat": change.chat,
                "user_id": change.user_id,
                "name": change.name,
                "is_group": change.chat.endswith(GROUP_SUFFIX),
                "unread": change.unread,
                "last_at": change.last_at,
                "last_message_id": change.last_message_id,
            }
            for change in sorted(changes, key=lambda change: (change.session_id, change.chat))
        ],
    )


async def set_unread(db: AsyncSession, session_id: str, counts: dict[str, int]) -> None:
    """The phone's own unread counts (from its history), replacing ours."""
    for chat, count in counts.items():
        await db.execute(
            update(Chat)
            .where(Chat.session_id == session_id, Chat.chat == chat)
            .values(unread=max(count, 0))
        )


async def page(
    db: AsyncSession, session_id: str, limit: int, after: tuple[datetime, str] | None
) -> list[ChatRecord]:
    """The session's chats, latest activity first, from just after `after` (the last
    one of the previous page): a range on (session_id, last_at, chat)."""
    query = select(Chat).where(Chat.session_id == session_id)
    if after is not None:
        query = query.where(tuple_(Chat.last_at, Chat.chat) < tuple_(*after))
    query = query.order_by(Chat.last_at.desc(), Chat.chat.desc()).limit(limit)
    return [_record(row) for row in await db.scalars(query)]


async def search(db: AsyncSession, session_id: str, text: str, limit: int) -> list[ChatRecord]:
    """The session's chats whose name or number holds `text` (any case), latest first."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    digits = "".join(c for c in text if c.isdigit())
    matches: ColumnElement[bool] = func.lower(func.coalesce(Chat.name, "")).like(
        pattern, escape="\\"
    )
    if digits:
        matches = matches | Chat.chat.like(f"%{digits}%")
    query = (
        select(Chat)
        .where(Chat.session_id == session_id, matches)
        .order_by(Chat.last_at.desc(), Chat.chat.desc())
        .limit(limit)
    )
    return [_record(row) for row in await db.scalars(query)]


async def find(db: AsyncSession, session_id: str, chat: str) -> ChatRecord | None:
    row = await db.get(Chat, (session_id, chat))
    return _record(row) if row is not None else None


async def read_up_to(
    db: AsyncSession, session_id: str, chat: str, read: tuple[datetime, int]
) -> int:
    """The messages of the chat up to `read` (the time and row id of the newest one read)
    are read: its unread count becomes the incoming messages after it (never more than it
    was). Answers the new count."""
    current = await db.scalar(
        select(Chat.unread).where(Chat.session_id == session_id, Chat.chat == chat)
    )
    if not current:
        return 0
    # Bounded by the current count: at most that many newer rows are looked at.
    newer = (
        select(Message.id)
        .where(
            Message.session_id == session_id,
            Message.chat == chat,
            tuple_(Message.created_at, Message.id) > tuple_(*read),
            Message.direction == "in",
        )
        .limit(current)
        .subquery()
    )
    left = (await db.scalar(select(func.count()).select_from(newer))) or 0
    await db.execute(
        update(Chat).where(Chat.session_id == session_id, Chat.chat == chat).values(unread=left)
    )
    return left


async def purge_idle(db: AsyncSession, before: datetime, limit: int) -> int:
    """Forget up to `limit` chats whose latest message is older than `before` (their
    messages are gone by retention). Answers how many."""
    doomed = select(Chat.session_id, Chat.chat).where(Chat.last_at < before).limit(limit)
    keys = [(row.session_id, row.chat) for row in await db.execute(doomed)]
    if not keys:
        return 0
    await db.execute(
        delete(Chat).where(
            and_(tuple_(Chat.session_id, Chat.chat).in_(keys), Chat.last_at < before)
        )
    )
    return len(keys)


async def group_subjects(db: AsyncSession, session_pk: int, jids: Sequence[str]) -> dict[str, str]:
    """The subjects the group cache knows for these groups of the session."""
    if not jids:
        return {}
    rows = await db.execute(
        select(CachedGroup.jid, CachedGroup.subject).where(
            CachedGroup.session_pk == session_pk, CachedGroup.jid.in_(list(jids))
        )
    )
    return {jid: subject for jid, subject in rows if subject}


def _record(row: Chat) -> ChatRecord:
    return ChatRecord(
        session_id=row.session_id,
        chat=row.chat,
        name=row.name,
        is_group=bool(row.is_group),
        unread=row.unread,
        last_at=row.last_at,
        last_message_id=row.last_message_id,
    )
