"""Queries on the event stream's log (`stream_events`) and its per-user counters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage import upsert
from sendmako.storage.records import StreamedEvent
from sendmako.storage.tables import EventCounter, StreamEvent


@dataclass(frozen=True, slots=True)
class NewStreamEvent:
    session_id: str | None
    name: str
    body: str


async def append(
    tx: AsyncSession, user_id: int, events: Sequence[NewStreamEvent], at: datetime
) -> None:
    """Number the user's events and store them: two statements whatever the count. The
    counter's row stays locked until the transaction ends (see `EventCounter`)."""
    if not events:
        return
    count = len(events)
    counted = (
        upsert.insert(tx, EventCounter)
        .values(user_id=user_id, last_seq=count)
        .on_conflict_do_update(
            index_elements=[EventCounter.user_id],
            set_={"last_seq": EventCounter.last_seq + count},
        )
        .returning(EventCounter.last_seq)
    )
    last = int((await tx.execute(counted)).scalar_one())
    first = last - count + 1
    await tx.execute(
        insert(StreamEvent),
        [
            {
                "user_id": user_id,
                "seq": first + index,
                "session_id": event.session_id,
                "name": event.name,
                "body": event.body,
                "created_at": at,
            }
            for index, event in enumerate(events)
        ],
    )


async def last_seq(db: AsyncSession, user_id: int) -> int:
    """The number of the user's latest committed event (0 before the first)."""
    found = await db.scalar(select(EventCounter.last_seq).where(EventCounter.user_id == user_id))
    return int(found or 0)


async def after(
    db: AsyncSession,
    user_id: int,
    seq: int,
    *,
    names: Sequence[str] | None,
    session_ids: Sequence[str] | None,
    limit: int,
) -> tuple[list[StreamedEvent], int]:
    """The user's events numbered above `seq` that pass the filters, oldest first, at most
    `limit`; and the number read up to (the caller's next `seq`: events the filters left
    out are not read again)."""
    query = (
        select(StreamEvent.seq, StreamEvent.name, StreamEvent.session_id, StreamEvent.body)
        .where(StreamEvent.user_id == user_id, StreamEvent.seq > seq)
        .order_by(StreamEvent.seq)
        .limit(limit)
    )
    rows = (await db.execute(query)).all()
    if not rows:
        return [], seq
    wanted = [
        StreamedEvent(seq=row[0], name=row[1], session_id=row[2], body=row[3])
        for row in rows
        if (names is None or row[1] in names)
        and (session_ids is None or row[2] is None or row[2] in session_ids)
    ]
    return wanted, int(rows[-1][0])


async def oldest_seq(db: AsyncSession, user_id: int) -> int | None:
    """The number of the user's oldest event still kept, None when none is."""
    found = await db.scalar(
        select(StreamEvent.seq)
        .where(StreamEvent.user_id == user_id)
        .order_by(StreamEvent.seq)
        .limit(1)
    )
    return int(found) if found is not None else None


async def prune(tx: AsyncSession, before: datetime) -> int:
    """Forget events recorded before `before`; returns how many."""
    result = await tx.execute(delete(StreamEvent).where(StreamEvent.created_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
