"""Stored messages: receipts only move outgoing messages forward, and rows queued for group
commit are written in order, each caller learning its own row's fate."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.model.statuses import MessageStatus
from sendmako.storage import messages, users
from sendmako.storage.batching import BatchWriter
from sendmako.storage.db import Database

SENT_AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def outgoing(
    user_id: int, wa_id: str, *, session_id: str = "s1", direction: str = "out"
) -> messages.NewMessage:
    return messages.NewMessage(
        user_id=user_id,
        session_id=session_id,
        direction=direction,
        wa_message_id=wa_id,
        chat="22177000001@s.whatsapp.net",
        peer="22177000001",
        type="text",
        status="sent" if direction == "out" else "received",
        created_at=SENT_AT,
    )


async def statuses(db: Database) -> dict[tuple[str, str, str], str]:
    async with db.read() as session:
        found = {}
        for session_id in ("s1", "s2"):
            for wa_id in ("A", "B", "C", "IN"):
                stored = await messages.find(session, session_id, wa_id)
                if stored is not None:
                    found[(session_id, wa_id, stored.direction)] = stored.status
        return found


async def test_receipts_move_only_that_sessions_outgoing_messages_forward(db: Database) -> None:
    async with db.write() as tx:
        user = await users.create(tx, "m@example.com", plan="free")
        await messages.add_many(
            tx,
            [
                outgoing(user.id, "A"),
                outgoing(user.id, "B"),
                outgoing(user.id, "C"),
                outgoing(user.id, "IN", direction="in"),
                outgoing(user.id, "A", session_id="s2"),  # same WhatsApp id, other session
            ],
        )
    async with db.write() as tx:
        read = await messages.advance_status(tx, "read", [("s1", "A")])
        delivered = await messages.advance_status(
            tx, "delivered", [("s1", "A"), ("s1", "B"), ("s1", "IN"), ("s1", "unknown")]
        )
    assert [(m.wa_message_id, m.status) for m in read] == [("A", "read")]
    # A late "delivered" never undoes "read"; an incoming message is no one's receipt.
    assert [(m.wa_message_id, m.status) for m in delivered] == [("B", "delivered")]
    assert delivered[0].updated_at > delivered[0].created_at
    assert await statuses(db) == {
        ("s1", "A", "out"): "read",
        ("s1", "B", "out"): "delivered",
        ("s1", "C", "out"): "sent",
        ("s1", "IN", "in"): "received",
        ("s2", "A", "out"): "sent",
    }


async def test_receipts_of_several_sessions_move_exactly_the_pairs_named(db: Database) -> None:
    """One statement serves many sessions, yet never crosses them: (s1, A) and (s2, B)
    named means s1's B and s2's A stay as they were."""
    async with db.write() as tx:
        user = await users.create(tx, "pairs@example.com", plan="free")
        await messages.add_many(
            tx,
            [
                outgoing(user.id, wa_id, session_id=session_id)
                for session_id in ("s1", "s2")
                for wa_id in ("A", "B")
            ],
        )
    async with db.write() as tx:
        moved = await messages.advance_status(tx, "delivered", [("s1", "A"), ("s2", "B")])
    assert sorted((m.session_id, m.wa_message_id) for m in moved) == [("s1", "A"), ("s2", "B")]
    assert await statuses(db) == {
        ("s1", "A", "out"): "delivered",
        ("s1", "B", "out"): "sent",
        ("s2", "A", "out"): "sent",
        ("s2", "B", "out"): "delivered",
    }


@pytest.mark.parametrize(("per_statement", "statements"), [(4000, 1), (128, 3)])
async def test_a_receipt_for_many_messages_takes_one_statement_per_few_thousand(
    db: Database, per_statement: int, statements: int
) -> None:
    pairs = [(f"s{n % 2 + 1}", f"M{n}") for n in range(300)]  # two sessions
    async with db.write() as tx:
        user = await users.create(tx, "many@example.com", plan="free")
        await messages.add_many(
            tx, [outgoing(user.id, wa_id, session_id=session_id) for session_id, wa_id in pairs]
        )
    updates: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.write() as tx:
            moved = await messages.advance_status(
                tx, MessageStatus.DELIVERED, pairs, per_statement=per_statement
            )
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert sorted((m.session_id, m.wa_message_id) for m in moved) == sorted(pairs)
    assert len(updates) == statements
    async with db.write() as tx:
        assert await messages.advance_status(tx, "delivered", pairs) == []


class HeldWrites:
    """A batch writer's write function that holds every transaction until released."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.release = asyncio.Event()

    async def __call__(self, _tx: AsyncSession, rows: Sequence[int]) -> None:
        await self.release.wait()
        self.rows.extend(rows)


async def let_others_run() -> None:
    """Gives every ready task its turns (the writer cannot pass a held transaction)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_flush_waits_for_every_row_queued_so_far_in_order(db: Database) -> None:
    writes = HeldWrites()
    writer: BatchWriter[int] = BatchWriter(db, writes)
    futures = [writer.add_nowait(n) for n in range(5)]
    flushed = asyncio.ensure_future(writer.flush())
    await let_others_run()
    assert not flushed.done()  # the batch is held in its transaction
    writes.release.set()
    await flushed
    assert all(future.done() for future in futures)
    assert writes.rows == [0, 1, 2, 3, 4]
    await writer.close()


async def test_a_failed_batch_fails_its_own_rows_and_the_next_batch_still_lands(
    db: Database,
) -> None:
    written: list[int] = []

    async def write(_tx: AsyncSession, rows: Sequence[int]) -> None:
        if 13 in rows:
            raise ValueError("row 13 is refused")
        written.extend(rows)

    writer: BatchWriter[int] = BatchWriter(db, write)
    bad = writer.add_nowait(13)
    with pytest.raises(ValueError, match="row 13"):
        await bad
    good = writer.add_nowait(14)
    await writer.flush()
    assert good.done()
    assert good.exception() is None
    assert written == [14]
    await writer.close()


async def test_flush_still_waits_when_the_last_callers_future_was_cancelled(db: Database) -> None:
    """A caller that gives up cancels its own future; the row is still being written, and
    a flush (a receipt waiting for its sent message) must still wait for it."""
    writes = HeldWrites()
    writer: BatchWriter[int] = BatchWriter(db, writes)
    writer.add_nowait(1)
    writer.add_nowait(2).cancel()
    flushed = asyncio.ensure_future(writer.flush())
    await let_others_run()
    assert not flushed.done()
    writes.release.set()
    await flushed
    assert writes.rows == [1, 2]
    await writer.close()


async def test_close_writes_everything_queued_in_order_one_batch_after_another(
    db: Database,
) -> None:
    writes = HeldWrites()
    writer: BatchWriter[int] = BatchWriter(db, writes, max_batch=1)
    futures = [writer.add_nowait(n) for n in range(3)]
    await let_others_run()  # the writer is inside the first batch's transaction
    closing = asyncio.ensure_future(writer.close())
    await let_others_run()
    assert not closing.done()
    writes.release.set()
    await closing
    assert writes.rows == [0, 1, 2]
    assert [future.exception() for future in futures] == [None, None, None]
    # Rows queued after a close are written by a new writer task.
    await writer.add(3)
    assert writes.rows == [0, 1, 2, 3]
    await writer.close()
