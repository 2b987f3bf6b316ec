"""Receipts of many sessions stored in one batch (the registry's store for receipts): the
same statuses and the same `message.status` events, in the same order, as receipts taken
one by one as they came."""

from __future__ import annotations

from datetime import UTC, datetime

from sendmako.ids import SessionId
from sendmako.inbound import registry
from sendmako.inbound.stores import Arrived
from sendmako.model.events import ReceiptReceived
from sendmako.model.statuses import MessageStatus
from sendmako.storage import messages, users
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SENT = (("user_1", "X"), ("user_2", "Y"), ("user_3", "Z"), ("user_4", "W"), ("user_4", "V"))


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
    return ReceiptReceived((message_id,), "22177000001@s.whatsapp.net", MessageStatus(status), 0)


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
    kind = registry.BY_EVENT[ReceiptReceived]
    a, b, c, d = (session(f"user_{n}", user.id) for n in range(1, 5))
    batch = [
        Arrived(a, receipt("X", "read")),
        Arrived(b, receipt("Y", "delivered")),  # then read, in the same batch: both count
        Arrived(b, receipt("Y", "read")),
        Arrived(d, receipt("W", "delivered")),
        Arrived(c, receipt("Z", "delivered")),
        Arrived(d, receipt("V", "read")),  # then a late delivered: nothing more
        Arrived(d, receipt("V", "delivered")),
        Arrived(c, receipt("Z", "delivered")),  # twice: once
    ]
    async with db.write() as tx:
        announced = await kind.store(tx, batch)  # one batch, as the group commit gives it
    payloads = [
        (item.session.session_id, kind.payload(item.event, stored)) for item, stored in announced
    ]
    assert [(session_id, data["message_id"], data["status"]) for session_id, data in payloads] == [
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


async def test_each_group_members_receipts_are_announced_once(db: Database) -> None:
    """In a group every member's phone sends its own receipts: each member's delivered and
    read is announced once (with who it is), while the message moves on the first one."""
    async with db.write() as tx:
        user = await users.create(tx, "g@example.com", plan="free")
        await messages.add_many(
            tx,
            [messages.NewMessage(user.id, "user_1", "out", "G", "g", "g", "text", "sent", NOW)],
        )
    kind = registry.BY_EVENT[ReceiptReceived]
    alice = session("user_1", user.id)

    def of(member: str, status: str) -> Arrived[ReceiptReceived]:
        group = "120363000000000001@g.us"
        return Arrived(alice, ReceiptReceived(("G",), group, MessageStatus(status), 0, member))

    batch = [
        of("22177000001", "delivered"),
        of("22177000002", "delivered"),
        of("22177000001", "read"),
        of("22177000001", "delivered"),  # again: nothing new
        of("22177000002", "read"),
        of("22177000009", "delivered"),
    ]
    async with db.write() as tx:
        announced = await kind.store(tx, batch)
    events = [kind.payload(item.event, stored) for item, stored in announced]
    assert [(data["participant"], data["status"]) for data in events] == [
        ("22177000001", "delivered"),
        ("22177000002", "delivered"),
        ("22177000001", "read"),
        ("22177000002", "read"),
        ("22177000009", "delivered"),
    ]
    async with db.read() as read:
        stored = await messages.find(read, "user_1", "G")
    assert stored is not None
    assert stored.status == "read"
