"""What engines report about messages becomes stored rows and events, in one transaction:
incoming messages (`message.received`) and receipts (`message.status`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sendmako import log
from sendmako.events import (
    ContactsChanged,
    GroupChanged,
    MessageReceived,
    ReceiptReceived,
    SessionEvent,
)
from sendmako.message_log import MessageLog
from sendmako.sessions import SessionEventRecorder
from sendmako.storage import messages
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord
from sendmako.webhooks import payloads

logger = log.get(__name__)


class Inbox:
    def __init__(
        self, db: Database, log_: MessageLog, recorders: Sequence[SessionEventRecorder]
    ) -> None:
        self.db = db
        self.message_log = log_
        # The manager's own list: recorders added later (webhooks) are seen here too.
        self.recorders = recorders

    async def handle(
        self,
        session: SessionRecord,
        event: MessageReceived | ReceiptReceived | ContactsChanged | GroupChanged,
    ) -> None:
        if isinstance(event, MessageReceived):
            await self._message(session, event)
        elif isinstance(event, ReceiptReceived):
            await self._receipt(session, event)

    async def _message(self, session: SessionRecord, event: MessageReceived) -> None:
        if event.from_me:
            return  # sent from the phone itself: not an incoming message
        row = messages.NewMessage(
            user_id=session.user_id,
            session_id=session.session_id,
            direction="in",
            wa_message_id=event.message_id,
            chat=event.chat,
            peer=event.sender_phone,
            type=event.wa_type,
            status="received",
            created_at=datetime.fromtimestamp(event.timestamp, UTC),
        )
        outgoing = SessionEvent(
            "message.received", session.session_id, payloads.message_received(event)
        )
        async with self.db.write() as tx:
            await messages.add_many(tx, [row])
            for recorder in self.recorders:
                await recorder.record(tx, session.user_id, outgoing)
        logger.debug("inbox.message", session_id=session.session_id, type=event.wa_type)

    async def _receipt(self, session: SessionRecord, event: ReceiptReceived) -> None:
        if event.status not in messages.STATUS_ORDER:
            return
        # A receipt can follow its send closely; make sure the sent row is stored first.
        await self.message_log.flush()
        async with self.db.write() as tx:
            moved = await messages.advance_status(
                tx, session.session_id, event.message_ids, event.status
            )
            for stored in moved:
                outgoing = SessionEvent(
                    "message.status",
                    session.session_id,
                    payloads.message_status(stored.wa_message_id, stored.peer, event.status),
                )
                for recorder in self.recorders:
                    await recorder.record(tx, session.user_id, outgoing)
