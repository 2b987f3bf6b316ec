"""How each kind of incoming event is kept: one function per kind, called once per batch
with that kind's events in arrival order, inside the inbox's transaction. Each answers the
events to announce, in the order to announce them, with what was stored for each (the
webhook's payload may need it).

A batch costs a few statements whatever its size: events that arrive together (from every
session) share one transaction and one statement per kind.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.inbound import payloads
from sendmako.model.events import (
    CallReceived,
    HistorySynced,
    IncomingMedia,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    PollVoted,
    ReactionReceived,
    ReceiptReceived,
)
from sendmako.model.statuses import RECEIPT_STATUSES, MessageStatus
from sendmako.storage import chats, history_syncs, messages
from sendmako.storage.records import SessionRecord

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Arrived(Generic[E]):
    """An event as the inbox got it: from which session."""

    session: SessionRecord
    event: E


async def received(
    tx: AsyncSession, items: Sequence[Arrived[MessageReceived]]
) -> list[tuple[Arrived[MessageReceived], None]]:
    """Messages become rows, each announced as it came: incoming ones, and those this
    number sent from its phone or another linked device (`from_me`)."""
    await messages.add_many(tx, [_row(item.session, item.event) for item in items])
    return [(item, None) for item in items]


async def history(
    tx: AsyncSession, items: Sequence[Arrived[HistorySynced]]
) -> list[tuple[Arrived[HistorySynced], None]]:
    """The history the phone sends at first link: its messages are stored (those not
    already held: a chunk may repeat what arrived live), its chats take the phone's names
    and unread counts, the session's progress moves. Old news: nothing is announced."""
    for item in items:
        session = item.session
        conversations = item.event.conversations
        candidates = [m for c in conversations for m in c.messages]
        held = await messages.known(tx, session.session_id, [m.message_id for m in candidates])
        rows: list[messages.NewMessage] = []
        for message in candidates:
            if message.message_id not in held:
                held.add(message.message_id)
                rows.append(_row(session, message))
        names: dict[tuple[str, str], str] = {
            (session.session_id, c.chat): c.name for c in conversations if c.name and c.messages
        }
        await messages.add_many(tx, rows, unread=False, names=names)
        await chats.set_unread(
            tx,
            session.session_id,
            {c.chat: c.unread for c in conversations if c.unread is not None and c.messages},
        )
        await history_syncs.advance(
            tx, session.session_id, item.event.progress, len(conversations), len(rows)
        )
    return []


def _row(session: SessionRecord, event: MessageReceived) -> messages.NewMessage:
    own = event.from_me
    return messages.NewMessage(
        user_id=session.user_id,
        session_id=session.session_id,
        direction="out" if own else "in",
        wa_message_id=event.message_id,
        chat=event.chat,
        peer=(event.chat if event.is_group else event.chat.split("@", 1)[0])
        if own
        else event.sender_phone,
        type=event.wa_type,
        status=MessageStatus.SENT if own else MessageStatus.RECEIVED,
        created_at=datetime.fromtimestamp(event.timestamp, UTC),
        body=event.body,
        sender_name=None if own else event.sender_name,
        sender_lid=None if own else event.sender_lid,
        media=_media(event.media) if event.media is not None else None,
        quoted_id=event.quoted_message_id,
        poll=messages.poll_data(event.poll) if event.poll is not None else None,
    )


def _media(media: IncomingMedia) -> dict[str, object]:
    """What a stored message keeps of its file: enough to show it, and to decrypt it."""
    return payloads.media(media)


async def _targets(
    tx: AsyncSession, items: Sequence[Arrived[Any]], message_id: Callable[[Any], str]
) -> dict[tuple[str, str], messages.StoredMessage]:
    """The stored messages the events are about, in one query."""
    pairs = sorted({(item.session.session_id, message_id(item.event)) for item in items})
    return await messages.find_any(tx, pairs) if pairs else {}


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


async def reactions(
    tx: AsyncSession, items: Sequence[Arrived[ReactionReceived]]
) -> list[tuple[Arrived[ReactionReceived], None]]:
    """A reaction replaces the reactor's earlier one on the stored message."""
    found = await _targets(tx, items, lambda event: event.message_id)
    for item in items:
        event = item.event
        target = found.get((item.session.session_id, event.message_id))
        if target is not None:
            await messages.react(
                tx, target.id, event.sender.phone, event.emoji, _at(event.timestamp)
            )
    return [(item, None) for item in items]


async def edits(
    tx: AsyncSession, items: Sequence[Arrived[MessageEdited]]
) -> list[tuple[Arrived[MessageEdited], None]]:
    """The stored message takes the new text; the earlier one is kept beside it."""
    found = await _targets(tx, items, lambda event: event.message_id)
    for item in items:
        event = item.event
        target = found.get((item.session.session_id, event.message_id))
        if target is not None:
            await messages.edit(tx, target.id, event.body, _at(event.timestamp))
    return [(item, None) for item in items]


async def revokes(
    tx: AsyncSession, items: Sequence[Arrived[MessageRevoked]]
) -> list[tuple[Arrived[MessageRevoked], None]]:
    """The stored message is marked deleted for everyone (its text stays for its owner)."""
    found = await _targets(tx, items, lambda event: event.message_id)
    for item in items:
        event = item.event
        target = found.get((item.session.session_id, event.message_id))
        if target is not None:
            by = event.by.phone if event.by is not None else None
            await messages.revoke(tx, target.id, by, _at(event.timestamp))
    return [(item, None) for item in items]


async def votes(
    tx: AsyncSession, items: Sequence[Arrived[PollVoted]]
) -> list[tuple[Arrived[PollVoted], list[str]]]:
    """A vote replaces the voter's earlier one on the stored poll. WhatsApp carries the
    options as hashes of their names: the stored poll names them (never handed out as
    hashes: options the poll does not know are left out)."""
    found = await _targets(tx, items, lambda event: event.poll_message_id)
    announced: list[tuple[Arrived[PollVoted], list[str]]] = []
    for item in items:
        event = item.event
        poll = found.get((item.session.session_id, event.poll_message_id))
        names = {
            hashlib.sha256(name.encode()).digest(): name
            for name in (poll.poll_options if poll else ())
        }
        selected = [names[h] for h in event.option_hashes if h in names]
        if poll is not None:
            await messages.vote(tx, poll.id, event.voter.phone, selected, _at(event.timestamp))
        announced.append((item, selected))
    return announced


async def announced_only(
    _tx: AsyncSession, items: Sequence[Arrived[E]]
) -> list[tuple[Arrived[E], None]]:
    """Nothing to keep (presence, group changes: the group cache follows on its own)."""
    return [(item, None) for item in items]


async def calls(
    _tx: AsyncSession, items: Sequence[Arrived[CallReceived]]
) -> list[tuple[Arrived[CallReceived], bool]]:
    """Nothing to keep; each call is announced with whether its session refuses calls (the
    refusal itself is the call handler's, messaging/calls.py)."""
    return [(item, item.session.reject_calls) for item in items]


async def receipts(
    tx: AsyncSession, items: Sequence[Arrived[ReceiptReceived]]
) -> list[tuple[Arrived[ReceiptReceived], messages.StoredMessage]]:
    """Receipts move our sent messages forward (delivered, read). In a chat with one
    person, each move is announced. In a group every member sends their own receipts:
    each member's first delivered and first read is announced, with who it is
    (`participant`), while the message itself moves on the first one.

    One statement per status, whatever the sessions: a SQLite writer holds its lock for
    every round trip, and a batch can carry receipts of many sessions. The outcome is the
    one receipts taken one by one in arrival order would have: a receipt that an earlier
    one for the same message already covers (a late "delivered" after "read") is dropped,
    statuses are applied in their own order (so "delivered" then "read" both count), and
    the announcements are put back in arrival order."""
    reached: dict[tuple[str, str], int] = {}  # per message, the furthest receipt so far
    arrival: dict[tuple[str, str, MessageStatus], tuple[int, Arrived[ReceiptReceived]]] = {}
    by_status: dict[MessageStatus, list[tuple[str, str]]] = defaultdict(list)
    # Group members' receipts: (position, receipt, the message it is about), each member's
    # status once (the row's own status may have moved already, on someone else's).
    members: dict[tuple[str, str, str, MessageStatus], tuple[int, Arrived[ReceiptReceived]]] = {}
    position = 0
    for item in items:
        status, who = item.event.status, item.event.participant_phone
        if status not in RECEIPT_STATUSES:
            continue
        session_id = item.session.session_id
        for message_id in item.event.message_ids:
            position += 1
            if who is not None:
                members.setdefault((session_id, message_id, who, status), (position, item))
            if reached.get((session_id, message_id), 0) >= status.rank:
                continue
            reached[(session_id, message_id)] = status.rank
            arrival[(session_id, message_id, status)] = (position, item)
            by_status[status].append((session_id, message_id))
    announced: list[tuple[int, Arrived[ReceiptReceived], messages.StoredMessage]] = []
    for status in sorted(by_status, key=lambda status: status.rank):
        for stored in await messages.advance_status(tx, status, by_status[status]):
            index, item = arrival[(stored.session_id, stored.wa_message_id, status)]
            if item.event.participant_phone is None:
                announced.append((index, item, stored))
    if members:
        ours = {
            (stored.session_id, stored.wa_message_id): stored
            for stored in await messages.find_sent(tx, sorted({(s, m) for s, m, _, _ in members}))
        }
        for (of_session, message_id, _, status), (index, item) in members.items():
            sent = ours.get((of_session, message_id))
            if sent is not None:
                announced.append((index, item, replace(sent, status=status)))
    announced.sort(key=lambda entry: entry[0])
    return [(item, stored) for _, item, stored in announced]
