"""Daily message quota: counted from the stored messages, checked without a query per send.

The count of a user's messages since 00:00 UTC is read once a day per user; after that,
sends reserve their place before they start (so concurrent sends cannot overshoot the
limit together) and commit or release it when they end. A reservation belongs to the day
it was made on: one still in use after midnight (a long campaign) holds nothing of the new
day's room, and must be renewed against it (`Reservation.stale`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sendmako.accounts import plans
from sendmako.storage import messages
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord


@dataclass
class _Day:
    day: date
    sent: int
    reserved: int = 0


class Reservation:
    """Room for `count` messages of `day` while they are being sent. `sent_one()` turns
    one unit into a sent message the moment it goes out; `release()` frees what is left."""

    def __init__(self, usage: DailyUsage | None, user_id: int, count: int, day: date) -> None:
        self._usage = usage
        self._user_id = user_id
        self.remaining = count
        self.day = day

    @property
    def stale(self) -> bool:
        """Made on an earlier day: today's room was never checked for what is left."""
        return self._usage is not None and self.day != self._usage.today()

    def sent_one(self) -> None:
        if self._usage is not None:
            self._usage._move(self._user_id, self.day, reserved=-min(1, self.remaining), sent=1)
        self.remaining = max(0, self.remaining - 1)

    def release(self) -> None:
        if self._usage is not None and self.remaining:
            self._usage._move(self._user_id, self.day, reserved=-self.remaining, sent=0)
        self.remaining = 0


class DailyUsage:
    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.db = db
        self.clock = clock
        self._days: dict[int, _Day] = {}

    async def reserve(self, user: UserRecord, count: int = 1) -> Reservation:
        """Room for `count` messages today, or `PlanLimitReached` naming the limit.

        Unlimited plans are counted too: `sent_today` (the usage page, bulk's check) must
        not go stale, and a plan may get a limit in the middle of the day."""
        day = await self._today(user.id)
        plans.ensure_message_quota(user.plan, day.sent, count, being_sent=day.reserved)
        day.reserved += count
        return Reservation(self, user.id, count, day.day)

    async def sent_today(self, user_id: int) -> int:
        return (await self._today(user_id)).sent

    def today(self) -> date:
        return self.clock().date()

    async def _today(self, user_id: int) -> _Day:
        today = self.today()
        day = self._days.get(user_id)
        if day is None or day.day != today:
            since = datetime.combine(today, time(0), tzinfo=UTC)
            async with self.db.read() as session:
                sent = await messages.count_sent_since(session, user_id, since)
            day = self._days.get(user_id)
            if day is None or day.day != today:  # another task may have loaded it meanwhile
                day = _Day(today, sent)
                self._days[user_id] = day
        return day

    def _move(self, user_id: int, reserved_on: date, *, reserved: int, sent: int) -> None:
        day = self._days.get(user_id)
        if day is None:
            return
        if day.day == reserved_on:  # an earlier day's room is gone with that day
            day.reserved = max(0, day.reserved + reserved)
        if day.day == self.today():
            day.sent += sent
