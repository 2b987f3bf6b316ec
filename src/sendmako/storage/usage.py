"""Queries on the daily quota shared by the nodes: each user's count of messages sent per
day, and the room that sends in progress hold (accounts/usage.py has the rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage import messages, upsert
from sendmako.storage.nodes import live_tokens
from sendmako.storage.tables import QuotaHold, UsageDay


async def lock_day(db: AsyncSession, user_id: int, day: date) -> int:
    """The user's count for `day`, its row locked until the transaction ends (so that two
    nodes reserving for one user take turns); made from the stored messages the first time."""
    query = select(UsageDay.sent).where(UsageDay.user_id == user_id, UsageDay.day == day)
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    sent = await db.scalar(query)
    if sent is not None:
        return int(sent)
    since = datetime.combine(day, time(0), tzinfo=UTC)
    statement = upsert.insert(db, UsageDay).values(
        user_id=user_id, day=day, sent=await messages.count_sent_since(db, user_id, since)
    )
    await db.execute(statement.on_conflict_do_nothing(index_elements=["user_id", "day"]))
    return int((await db.scalar(query)) or 0)


async def sent_on(db: AsyncSession, user_id: int, day: date) -> int | None:
    """The user's count for `day`, None when nobody counted that day yet."""
    return await db.scalar(
        select(UsageDay.sent).where(UsageDay.user_id == user_id, UsageDay.day == day)
    )


async def held(db: AsyncSession, user_id: int, day: date, now: datetime) -> int:
    """Room held for `day` by sends in progress on live nodes (what dead nodes held counts
    no more: `drop_dead`)."""
    total = await db.scalar(
        select(func.coalesce(func.sum(QuotaHold.count), 0)).where(
            QuotaHold.user_id == user_id,
            QuotaHold.day == day,
            QuotaHold.node_token.in_(live_tokens(now)),
        )
    )
    return int(total or 0)


async def drop_dead(db: AsyncSession, now: datetime) -> int:
    """Forget what nodes that are gone held, and holds of days past."""
    result = await db.execute(
        delete(QuotaHold).where(
            or_(QuotaHold.node_token.not_in(live_tokens(now)), QuotaHold.day < now.date())
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def hold(db: AsyncSession, user_id: int, day: date, count: int, node_token: int) -> int:
    row = QuotaHold(user_id=user_id, day=day, count=count, node_token=node_token)
    db.add(row)
    await db.flush()
    return row.id


async def count_sent(db: AsyncSession, hold_id: int, user_id: int, today: date) -> None:
    """One message of the hold went out today: it leaves the hold for the day's count (the
    day's row locked first, as `reserve` does: the two never wait on each other)."""
    await lock_day(db, user_id, today)
    await db.execute(
        update(QuotaHold)
        .where(and_(QuotaHold.id == hold_id, QuotaHold.count > 0))
        .values(count=QuotaHold.count - 1)
    )
    await db.execute(
        update(UsageDay)
        .where(UsageDay.user_id == user_id, UsageDay.day == today)
        .values(sent=UsageDay.sent + 1)
    )


async def count_last_sent(db: AsyncSession, hold_id: int, user_id: int, today: date) -> None:
    """The hold's last message went out: counted, and the hold is gone."""
    await lock_day(db, user_id, today)
    await db.execute(delete(QuotaHold).where(QuotaHold.id == hold_id))
    await db.execute(
        update(UsageDay)
        .where(UsageDay.user_id == user_id, UsageDay.day == today)
        .values(sent=UsageDay.sent + 1)
    )


async def drop_hold(db: AsyncSession, hold_id: int) -> None:
    await db.execute(delete(QuotaHold).where(QuotaHold.id == hold_id))
