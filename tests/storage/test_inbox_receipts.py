"""Receipts of many sessions stored in one batch: the same statuses and the same
`message.status` events, in the same order, as receipts taken one by one as they came."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.ids import SessionId
from sendmako.messaging.inbox import Inbox, _Item
from sendmako.messaging.sent_log import SentLog
from sendmako.model.events import ReceiptReceived
from sendmako.sessions.hooks import SessionEvent
from sendmako.storage import messages, users
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SENT = (("user_1", "X"), ("user_2", "Y"), ("user_3", "Z"), ("user_4", "W"), ("user_4", "V"))


class Recorded:
    """A session-event recorder that keeps what it is given: (session, message, status)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object, object]] = []

    async def record(
        self, _tx: AsyncSession, _user_id: int, events: Sequence[SessionEvent]
    ) -> None:
        self.events += [(e.session_id, e.data["message_id"], e.data["status"]) for e in events]


def session(session_id: str, user_id: int) -> SessionRecord:
    return SessionRecord(
        1,
        user_id,
        SessionId(session_id),
        "n",
        "sandbox",
        "connected",
        None,
        None,
        None,
        0,
        NOW,
        NOW,
    )


def receipt(message_id: str, status: str) -> ReceiptReceived:
    return ReceiptReceived((message_id,), "22177000001@s.whatsapp.net", status, 0)


async def test_a_batch_of_receipts_ends_as_if_taken_one_by_one(db: Database) -> None:
    async with db.write() as tx:
        user = await users.create(tx, "r@example.com", plan="free")
        await messages.add_many(
            tx,
            [
                messages.NewMessage(user.id, s, "out", m, "c", "22177000001", "text", "sent", NOW)
                for s, m in SENT
            ],
        )
    recorded = Recorded()
    inbox = Inbox(db, SentLog(db), [recorded])
    a, b, c, d = (session(f"user_{n}", user.id) for n in range(1, 5))
    batch = [
        _Item(a, receipt("X", "read")),
        _Item(b, receipt("Y", "delivered")),  # then read, in the same batch: both count
        _Item(b, receipt("Y", "read")),
        _Item(d, receipt("W", "delivered")),
        _Item(c, receipt("Z", "delivered")),
        _Item(d, receipt("V", "read")),  # then a late delivered: nothing more
        _Item(d, receipt("V", "delivered")),
        _Item(c, receipt("Z", "delivered")),  # twice: once
    ]
    async with db.write() as tx:
        await inbox._write(tx, batch)  # one batch, as the group commit would give it
    assert recorded.events == [
        ("user_1", "X", "read"),
        ("user_2", "Y", "delivered"),
        ("user_2", "Y", "read"),
        ("user_4", "W", "delivered"),
        ("user_3", "Z", "delivered"),
        ("user_4", "V", "read"),
    ]
    async with db.read() as read:
        stored = {m: (await messages.find(read, s, m)) for s, m in SENT}
    assert {m: row.status for m, row in stored.items() if row} == {
        "X": "read",
        "Y": "read",
        "Z": "delivered",
        "W": "delivered",
        "V": "read",
    }
