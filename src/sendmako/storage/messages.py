"""Queries on stored messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

from sendmako.model.messages import PollSpec
from sendmako.model.statuses import RECEIPT_STATUSES, MessageStatus
from sendmako.storage import chats
from sendmako.storage.tables import Message, MessageEdit, MessageReaction, PollVote, utcnow

MESSAGES = cast(Table, Message.__table__)


def poll_data(poll: PollSpec) -> dict[str, object]:
    """How a poll is stored in its message's row."""
    return {
        "name": poll.name,
        "options": list(poll.options),
        "selectable_count": poll.selectable_count,
    }


@dataclass(frozen=True, slots=True)
class NewMessage:
    user_id: int
    session_id: str
    direction: str
    wa_message_id: str
    chat: str
    peer: str
    type: str
    status: MessageStatus
    created_at: datetime
    bulk_job_id: str | None = None
    body: str | None = None
    sender_name: str | None = None
    sender_lid: str | None = None
    media: dict[str, object] | None = None
    quoted_id: str | None = None
    poll: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    session_id: str
    direction: str  # "out": this number wrote it; "in": someone else did
    wa_message_id: str
    chat: str
    peer: str  # the recipient (out) or the author (in)
    type: str
    status: MessageStatus
    created_at: datetime
    updated_at: datetime
    body: str | None = None
    poll: dict[str, object] | None = None
    edited_at: datetime | None = None
    revoked_at: datetime | None = None
    media: dict[str, object] | None = None
    quoted_id: str | None = None
    sender_name: str | None = None

    @property
    def from_me(self) -> bool:
        return self.direction == "out"

    @property
    def poll_options(self) -> tuple[str, ...]:
        options = (self.poll or {}).get("options")
        return tuple(str(option) for option in options) if isinstance(options, list) else ()


async def add_many(
    db: AsyncSession,
    rows: Sequence[NewMessage],
    *,
    unread: bool = True,
    names: dict[tuple[str, str], str] | None = None,
) -> None:
    """Store the messages, and move their chats (`chats.py`): latest activity, and
    incoming messages counted unread unless `unread` is false (history)."""
    if not rows:
        return
    # Core insert on the table: the ORM's bulk machinery costs more than the rows.
    await db.execute(
        insert(MESSAGES),
        [
            {
                "user_id": row.user_id,
                "session_id": row.session_id,
                "direction": row.direction,
                "wa_message_id": row.wa_message_id,
                "chat": row.chat,
                "peer": row.peer,
                "type": row.type,
                "status": row.status,
                "bulk_job_id": row.bulk_job_id,
                "created_at": row.created_at,
                "updated_at": row.created_at,
                "body": row.body,
                "sender_name": row.sender_name,
                "sender_lid": row.sender_lid,
                "media": row.media,
                "quoted_id": row.quoted_id,
                "poll": row.poll,
            }
            for row in rows
        ],
    )
    await chats.touch(db, chats.activity(rows, unread=unread, names=names))


async def count_sent_since(db: AsyncSession, user_id: int, since: datetime) -> int:
    query = select(func.count()).where(
        Message.user_id == user_id, Message.direction == "out", Message.created_at >= since
    )
    return (await db.scalar(query)) or 0


async def last_sent_at(
    db: AsyncSession, user_id: int, session_id: str, since: datetime
) -> datetime | None:
    """When the session last sent a message, if it did since `since` (a range on the
    user's index, however many messages the session has sent before)."""
    query = select(func.max(Message.created_at)).where(
        Message.user_id == user_id,
        Message.direction == "out",
        Message.created_at >= since,
        Message.session_id == session_id,
    )
    return await db.scalar(query)


# Session ids are [a-z0-9_]: a space cannot occur in one, so "<session> <id>" is a key.
_KEY_SEPARATOR = " "
# Bound parameters per statement stay far below SQLite's and PostgreSQL's limits (32,766).
PAIRS_PER_STATEMENT = 4000


def _advance(status: MessageStatus) -> ReturningUpdate[Any]:
    """Moves the given (session, WhatsApp id) outgoing messages to `status` if they are
    behind it. Built once per status, the lists bound as expanding parameters: a statement
    per receipt batch, whatever its sessions. The session and id lists find the rows through
    the (session_id, wa_message_id) index on both databases; the joined key keeps only the
    pairs asked for (SQLite scans the whole table for a row-value IN)."""
    # Receipts only move a message forward: a late "delivered" never undoes "read".
    behind = [earlier for earlier in MessageStatus if 0 < earlier.rank < status.rank]
    columns = MESSAGES.c
    return (
        update(MESSAGES)
        .where(
            columns.direction == "out",
            columns.session_id.in_(
                bindparam("of_sessions", type_=columns.session_id.type, expanding=True)
            ),
            columns.wa_message_id.in_(
                bindparam("wa_ids", type_=columns.wa_message_id.type, expanding=True)
            ),
            (columns.session_id + _KEY_SEPARATOR + columns.wa_message_id).in_(
                bindparam("keys", type_=columns.wa_message_id.type, expanding=True)
            ),
            columns.status.in_(behind),
        )
        .values(status=status, updated_at=bindparam("moved_at", type_=columns.updated_at.type))
        .returning(*columns)  # the rows as they are now
    )


_ADVANCE = {status: _advance(status) for status in RECEIPT_STATUSES}


async def advance_status(
    db: AsyncSession,
    status: MessageStatus,
    messages: Sequence[tuple[str, str]],
    *,
    per_statement: int = PAIRS_PER_STATEMENT,
) -> list[StoredMessage]:
    """Move outgoing messages, given as (session_id, WhatsApp id), to `status` if that is
    further along; return those moved. One statement for up to `per_statement` of them."""
    moved: list[StoredMessage] = []
    now = utcnow()
    for start in range(0, len(messages), per_statement):
        pairs = messages[start : start + per_statement]
        rows = await db.execute(
            _ADVANCE[status],
            {
                "of_sessions": sorted({session_id for session_id, _ in pairs}),
                "wa_ids": sorted({wa_id for _, wa_id in pairs}),
                "keys": [f"{session_id}{_KEY_SEPARATOR}{wa_id}" for session_id, wa_id in pairs],
                "moved_at": now,
            },
        )
        moved.extend(_stored(row) for row in rows)
    return moved


async def find_sent(db: AsyncSession, messages: Sequence[tuple[str, str]]) -> list[StoredMessage]:
    """The outgoing messages among (session_id, WhatsApp id) pairs, through the same index."""
    found: list[StoredMessage] = []
    columns = MESSAGES.c
    for start in range(0, len(messages), PAIRS_PER_STATEMENT):
        pairs = messages[start : start + PAIRS_PER_STATEMENT]
        rows = await db.execute(
            select(MESSAGES).where(
                columns.direction == "out",
                columns.session_id.in_(sorted({session_id for session_id, _ in pairs})),
                columns.wa_message_id.in_(sorted({wa_id for _, wa_id in pairs})),
                (columns.session_id + _KEY_SEPARATOR + columns.wa_message_id).in_(
                    [f"{session_id}{_KEY_SEPARATOR}{wa_id}" for session_id, wa_id in pairs]
                ),
            )
        )
        found.extend(_stored(row) for row in rows)
    return found


async def find_any(
    db: AsyncSession, messages: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], StoredMessage]:
    """The messages among (session_id, WhatsApp id) pairs, whoever wrote them, by pair."""
    found: dict[tuple[str, str], StoredMessage] = {}
    columns = MESSAGES.c
    for start in range(0, len(messages), PAIRS_PER_STATEMENT):
        pairs = messages[start : start + PAIRS_PER_STATEMENT]
        rows = await db.execute(
            select(MESSAGES).where(
                columns.session_id.in_(sorted({session_id for session_id, _ in pairs})),
                columns.wa_message_id.in_(sorted({wa_id for _, wa_id in pairs})),
                (columns.session_id + _KEY_SEPARATOR + columns.wa_message_id).in_(
                    [f"{session_id}{_KEY_SEPARATOR}{wa_id}" for session_id, wa_id in pairs]
                ),
            )
        )
        for row in rows:
            found.setdefault((row.session_id, row.wa_message_id), _stored(row))
    return found


async def of_user(
    db: AsyncSession, user_id: int, wa_message_id: str, session_id: str | None = None
) -> list[StoredMessage]:
    """The user's stored messages with this WhatsApp id (in `session_id` when given): one,
    or two when the user's own sessions wrote to each other."""
    query = select(Message).where(
        Message.user_id == user_id, Message.wa_message_id == wa_message_id
    )
    if session_id is not None:
        query = query.where(Message.session_id == session_id)
    return [_stored(row) for row in (await db.scalars(query.order_by(Message.id))).all()]


async def react(db: AsyncSession, message_pk: int, reactor: str, emoji: str, at: datetime) -> None:
    """`reactor`'s reaction to the message (one each: a new one replaces it; "" takes it
    back)."""
    await db.execute(
        delete(MessageReaction).where(
            MessageReaction.message_pk == message_pk, MessageReaction.reactor == reactor
        )
    )
    if emoji:
        db.add(MessageReaction(message_pk=message_pk, reactor=reactor, emoji=emoji, reacted_at=at))
        await db.flush()


async def edit(db: AsyncSession, message_pk: int, body: str, at: datetime) -> None:
    """The message's new text; the earlier one is kept."""
    before = await db.scalar(select(Message.body).where(Message.id == message_pk))
    db.add(MessageEdit(message_pk=message_pk, body=before, replaced_at=at))
    await db.execute(
        update(Message).where(Message.id == message_pk).values(body=body, edited_at=at)
    )


async def revoke(db: AsyncSession, message_pk: int, by: str | None, at: datetime) -> None:
    """Deleted for everyone (by a group admin, `by`, when not by its author)."""
    await db.execute(
        update(Message).where(Message.id == message_pk).values(revoked_at=at, revoked_by=by)
    )


async def vote(
    db: AsyncSession, message_pk: int, voter: str, options: Sequence[str], at: datetime
) -> None:
    """`voter`'s choice in the poll (one each: a new vote replaces it; none takes it back)."""
    await db.execute(
        delete(PollVote).where(PollVote.message_pk == message_pk, PollVote.voter == voter)
    )
    if options:
        db.add(PollVote(message_pk=message_pk, voter=voter, options=list(options), voted_at=at))
        await db.flush()


async def reactions_of(db: AsyncSession, message_pk: int) -> dict[str, str]:
    """Each reactor's emoji."""
    rows = await db.execute(
        select(MessageReaction.reactor, MessageReaction.emoji).where(
            MessageReaction.message_pk == message_pk
        )
    )
    return {str(reactor): str(emoji) for reactor, emoji in rows}


async def edits_of(db: AsyncSession, message_pk: int) -> list[str | None]:
    """The earlier texts of an edited message, oldest first."""
    rows = await db.scalars(
        select(MessageEdit.body)
        .where(MessageEdit.message_pk == message_pk)
        .order_by(MessageEdit.id)
    )
    return list(rows)


async def votes_of(db: AsyncSession, message_pk: int) -> dict[str, list[str]]:
    """Each voter's options."""
    rows = await db.execute(
        select(PollVote.voter, PollVote.options).where(PollVote.message_pk == message_pk)
    )
    return {voter: list(options) for voter, options in rows}


async def find(db: AsyncSession, session_id: str, wa_message_id: str) -> StoredMessage | None:
    row = await db.scalar(
        select(Message)
        .where(Message.session_id == session_id, Message.wa_message_id == wa_message_id)
        .order_by(Message.id)
        .limit(1)
    )
    return _stored(row) if row else None


def _stored(row: Message | Row[Any]) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        session_id=row.session_id,
        direction=row.direction,
        wa_message_id=row.wa_message_id,
        chat=row.chat,
        peer=row.peer,
        type=row.type,
        status=MessageStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        body=row.body,
        poll=row.poll,
        edited_at=row.edited_at,
        revoked_at=row.revoked_at,
        media=row.media,
        quoted_id=row.quoted_id,
        sender_name=row.sender_name,
    )


async def of_chat(
    db: AsyncSession,
    session_id: str,
    chat: str,
    limit: int,
    after: tuple[datetime, int] | None,
) -> list[StoredMessage]:
    """A page of the chat's messages, newest first, from just after `after` (the time and
    row id of the last one of the previous page): a range on (session_id, chat,
    created_at, id), as fast for a chat of 100,000 messages as for one of 10. Messages
    that arrive meanwhile come before the first page and never shift the later ones."""
    query = select(Message).where(Message.session_id == session_id, Message.chat == chat)
    if after is not None:
        query = query.where(tuple_(Message.created_at, Message.id) < tuple_(*after))
    query = query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    return [_stored(row) for row in await db.scalars(query)]


async def reactions_of_many(
    db: AsyncSession, message_pks: Sequence[int]
) -> dict[int, list[tuple[str, str]]]:
    """Each message's reactions, (reactor, emoji), oldest first, in one query."""
    found: dict[int, list[tuple[str, str]]] = {}
    if not message_pks:
        return found
    rows = await db.execute(
        select(MessageReaction.message_pk, MessageReaction.reactor, MessageReaction.emoji)
        .where(MessageReaction.message_pk.in_(list(message_pks)))
        .order_by(MessageReaction.reacted_at)
    )
    for pk, reactor, emoji in rows:
        found.setdefault(pk, []).append((reactor, emoji))
    return found


async def known(db: AsyncSession, session_id: str, wa_message_ids: Sequence[str]) -> set[str]:
    """Which of these WhatsApp ids the session already holds."""
    held: set[str] = set()
    for start in range(0, len(wa_message_ids), PAIRS_PER_STATEMENT):
        ids = list(wa_message_ids[start : start + PAIRS_PER_STATEMENT])
        rows = await db.scalars(
            select(Message.wa_message_id).where(
                Message.session_id == session_id, Message.wa_message_id.in_(ids)
            )
        )
        held.update(rows)
    return held


async def purge_before(db: AsyncSession, before: datetime, limit: int) -> int:
    """Delete up to `limit` messages older than `before`, oldest first (their edits,
    reactions and votes go with them). Answers how many: a short transaction each, so
    retention never holds the database for long."""
    pks = list(
        await db.scalars(
            select(Message.id)
            .where(Message.created_at < before)
            .order_by(Message.created_at)
            .limit(limit)
            # Several nodes purge at once: each takes rows the others have not locked.
            .with_for_update(skip_locked=True)
        )
    )
    if pks:
        await db.execute(delete(Message).where(Message.id.in_(pks)))
    return len(pks)
