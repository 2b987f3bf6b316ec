"""What engines report about messages becomes stored rows and events, in one transaction:
incoming messages (`message.received`) and receipts (`message.status`).

Events are group-committed: those that arrive together (from every session) are written in
one transaction, and each caller returns once its event is committed. A session's events
still land in the order it reported them (each waits for its own commit before the next).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako import log
from sendmako.messaging.sent_log import SentLog
from sendmako.model.events import (
    ContactsChanged,
    GroupChanged,
    MessageReceived,
    ReceiptReceived,
    SessionEvent,
)
from sendmako.sessions.hooks import SessionEventRecorder
from sendmako.storage import messages
from sendmako.storage.batching import BatchWriter
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord
from sendmako.webhooks import payloads

logger = log.get(__name__)


@dataclass(frozen=True, slots=True)
class _Item:
    session: SessionRecord
    event: MessageReceived | ReceiptReceived


class Inbox:
    def __init__(
        self, db: Database, log_: SentLog, recorders: Sequence[SessionEventRecorder]
    ) -> None:
        self.db = db
        self.sent_log = log_
        # The manager's own list: recorders added later (webhooks) are seen here too.
        self.recorders = recorders
        self._batches: BatchWriter[_Item] = BatchWriter(db, self._write)

    async def handle(
        self,
        session: SessionRecord,
        event: MessageReceived | ReceiptReceived | ContactsChanged | GroupChanged,
    ) -> Awaitable[None] | None:
        """Queues the event's writes in order; the result completes once they commit."""
        if isinstance(event, MessageReceived):
            if event.from_me:
                return None  # sent from the phone itself: not an incoming message
            return self._batches.add_nowait(_Item(session, event))
        if isinstance(event, ReceiptReceived):
            if event.status not in messages.STATUS_ORDER:
                return None
            # A receipt can follow its send closely: make sure the sent row is stored first.
            await self.sent_log.flush()
            return self._batches.add_nowait(_Item(session, event))
        return None

    async def close(self) -> None:
        await self._batches.close()

    async def _write(self, tx: AsyncSession, items: Sequence[_Item]) -> None:
        # Incoming messages first, then the receipts: a batch costs a few statements
        # whatever its size. Receipts never refer to incoming messages, so taking them
        # after keeps every session's outcome the same.
        received = [item for item in items if isinstance(item.event, MessageReceived)]
        if received:
            await self._messages(tx, received)
        # One statement per status, whatever the sessions: a SQLite writer holds its lock
        # for every round trip, and a batch can carry receipts of many sessions. The outcome
        # is the one receipts taken one by one in arrival order would have: a receipt that
        # an earlier one for the same message already covers (a late "delivered" after
        # "read") is dropped, statuses are applied in their own order (so "delivered" then
        # "read" both count), and the events are put back in arrival order.
        owners: dict[str, int] = {}
        reached: dict[tuple[str, str], int] = {}  # per message, the furthest receipt so far
        arrival: dict[tuple[str, str, str], int] = {}
        by_status: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for item in items:
            if not isinstance(item.event, ReceiptReceived):
                continue
            session_id, status = item.session.session_id, item.event.status
            owners[session_id] = item.session.user_id
            rank = messages.STATUS_ORDER[status]
            for message_id in item.event.message_ids:
                if reached.get((session_id, message_id), 0) >= rank:
                    continue
                reached[(session_id, message_id)] = rank
                arrival[(session_id, message_id, status)] = len(arrival)
                by_status[status].append((session_id, message_id))
        moved: list[tuple[int, str, messages.StoredMessage]] = []
        for status in sorted(by_status, key=messages.STATUS_ORDER.__getitem__):
            for stored in await messages.advance_status(tx, status, by_status[status]):
                position = arrival[(stored.session_id, stored.wa_message_id, status)]
                moved.append((position, status, stored))
        events: dict[int, list[SessionEvent]] = defaultdict(list)
        for _, status, stored in sorted(moved, key=lambda entry: entry[0]):
            events[owners[stored.session_id]].append(
                SessionEvent(
                    "message.status",
                    stored.session_id,
                    payloads.message_status(stored.wa_message_id, stored.peer, status),
                )
            )
        await self._record(tx, events)

    async def _messages(self, tx: AsyncSession, items: Sequence[_Item]) -> None:
        rows = []
        for item in items:
            event = item.event
            assert isinstance(event, MessageReceived)
            rows.append(
                messages.NewMessage(
                    user_id=item.session.user_id,
                    session_id=item.session.session_id,
                    direction="in",
                    wa_message_id=event.message_id,
                    chat=event.chat,
                    peer=event.sender_phone,
                    type=event.wa_type,
                    status="received",
                    created_at=datetime.fromtimestamp(event.timestamp, UTC),
                )
            )
        await messages.add_many(tx, rows)
        events: dict[int, list[SessionEvent]] = defaultdict(list)
        for item in items:
            assert isinstance(item.event, MessageReceived)
            data = payloads.message_received(item.event)
            events[item.session.user_id].append(
                SessionEvent("message.received", item.session.session_id, data)
            )
        await self._record(tx, events)

    async def _record(self, tx: AsyncSession, events: dict[int, list[SessionEvent]]) -> None:
        for user_id, of_user in events.items():
            for recorder in self.recorders:
                await recorder.record(tx, user_id, of_user)
