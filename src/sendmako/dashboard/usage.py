"""What a user uses against their plan's limits, for the usage page."""

from __future__ import annotations

from dataclasses import dataclass

from sendmako.services import Services
from sendmako.storage import wa_sessions
from sendmako.storage.records import UserRecord


@dataclass(frozen=True, slots=True)
class Meter:
    used: int | None  # None: not counted yet
    limit: int | None  # None: unlimited

    @property
    def percent(self) -> int | None:
        if self.used is None or self.limit is None:
            return None
        return 100 if self.limit == 0 else min(100, round(100 * self.used / self.limit))


@dataclass(frozen=True, slots=True)
class Usage:
    plan: str
    sessions: Meter
    messages_today: Meter  # UTC day, like the quota


async def usage_of(services: Services, user: UserRecord) -> Usage:
    async with services.db.read() as db:
        sessions = await wa_sessions.count_for_user(db, user.id)
    # Hook for round two (issue 3, sending): count the messages the user sent today (UTC)
    # from the stored messages, with the same query the quota check uses, and pass it as
    # `used`. Until then the page shows the quota without a count.
    messages_today = Meter(used=None, limit=user.plan.daily_messages)
    return Usage(
        plan=user.plan.name,
        sessions=Meter(used=sessions, limit=user.plan.max_sessions),
        messages_today=messages_today,
    )
