"""The daily quota: reservations hold room for sends under way, and belong to their day. The
same rules hold counted in memory (one node) and in the database (several nodes)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sendmako import accounts
from sendmako.accounts.usage import DailyUsage, MemoryUsage, SharedUsage
from sendmako.errors import PlanLimitReached
from sendmako.storage import nodes, plans
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord

EVENING = datetime(2030, 1, 1, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}")
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


Clock = Callable[[], datetime]


@pytest.fixture(params=["memory", "shared"])
async def make_usage(request: pytest.FixtureRequest, db: Database) -> Callable[[Clock], DailyUsage]:
    if request.param == "memory":
        return lambda clock: MemoryUsage(db, clock=clock)
    # Reservations in the database live as long as their node's lease: one that never ends.
    async with db.write() as tx:
        node = await nodes.take(
            tx,
            nodes.NewLease(
                name="node-a",
                host="localhost",
                pid=1,
                data_dir="/nowhere",
                url="http://127.0.0.1",
                token=7,
                now=EVENING,
                expires_at=EVENING + timedelta(days=365),
            ),
        )
    return lambda clock: SharedUsage(db, lambda: node.token, clock=clock)


async def user_on_three_a_day(db: Database) -> UserRecord:
    async with db.write() as tx:
        await plans.upsert(tx, "three", max_sessions=1, daily_messages=3)
        user, _key = await accounts.create_user(tx, "carol@example.com", plan="three")
    return user


async def test_room_held_by_sends_under_way_counts_against_the_limit(
    db: Database, make_usage: Callable[[Clock], DailyUsage]
) -> None:
    user = await user_on_three_a_day(db)
    usage = make_usage(lambda: EVENING)
    campaign = await usage.reserve(user, 2)
    with pytest.raises(PlanLimitReached) as caught:
        await usage.reserve(user, 2)
    assert "2 messages would go over the daily message limit" in caught.value.message
    assert "(0 sent today, 2 being sent)" in caught.value.message
    campaign.sent_one()
    campaign.release()  # one unit unused: free again
    assert (await usage.reserve(user, 2)).remaining == 2


async def test_a_reservation_from_yesterday_holds_nothing_of_today(
    db: Database, make_usage: Callable[[Clock], DailyUsage]
) -> None:
    """A campaign still running after midnight: its reservation is stale, and releasing
    it leaves the room others hold today untouched."""
    user = await user_on_three_a_day(db)
    now = [EVENING]
    usage = make_usage(lambda: now[0])
    yesterday = await usage.reserve(user, 3)
    assert not yesterday.stale
    now[0] += timedelta(seconds=2)
    assert yesterday.stale
    today = await usage.reserve(user, 3)  # the new day has all of its room
    yesterday.release()
    with pytest.raises(PlanLimitReached):  # still held by today's reservation
        await usage.reserve(user, 1)
    today.release()
    assert (await usage.reserve(user, 3)).remaining == 3


async def test_what_was_sent_counts_and_the_rest_is_given_back(
    db: Database, make_usage: Callable[[Clock], DailyUsage]
) -> None:
    user = await user_on_three_a_day(db)
    usage = make_usage(lambda: EVENING)
    campaign = await usage.reserve(user, 3)
    campaign.sent_one()
    campaign.sent_one()
    campaign.release()
    assert await usage.sent_today(user.id) == 2
    assert (await usage.reserve(user, 1)).remaining == 1
    with pytest.raises(PlanLimitReached):
        await usage.reserve(user, 1)
    await usage.close()
