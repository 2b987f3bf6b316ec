"""How each kind of incoming event is kept: one function per kind, called once per batch
with that kind's events in arrival order, inside the inbox's transaction. Each answers the
events to announce, in the order to announce them, with what was stored for each (the
webhook's payload may need it).

A batch costs a few statements whatever its size: events that arrive together (from every
session) share one transaction and one statement per kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.model.events import MessageReceived, ReceiptReceived
from sendmako.model.statuses import RECEIPT_STATUSES, MessageStatus
from sendmako.storage import messages
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
    """Incoming messages become rows; each is announced as it came."""
    incoming = [item for item in items if not item.event.from_me]
    await messages.add_many(
        tx,
        [
            messages.NewMessage(
                user_id=item.session.user_id,
                session_id=item.session.session_id,
                direction="in",
                wa_message_id=item.event.message_id,
                chat=item.event.chat,
                peer=item.event.sender_phone,
                type=item.event.wa_type,
                status=MessageStatus.RECEIVED,
                created_at=datetime.fromtimestamp(item.event.timestamp, UTC),
            )
            for item in incoming
        ],
    )
    return [(item, None) for item in incoming]


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
