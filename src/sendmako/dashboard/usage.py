"""What a user uses against their plan's limits, for the usage page."""

from __future__ import annotations

from dataclasses import dataclass

from sendmako.storage import wa_sessions
from sendmako.storage.records import UserRecord
from sendmako.wiring import Services


@dataclass(frozen=True, slots=True)
class Meter:
    used: int
    limit: int | None  # None: unlimited

    @property
    def percent(self) -> int | None:
        if self.limit is None:
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
    # The figure the quota check itself uses (counted once a day from the stored messages,
    # then kept up to date by each send), so the page and a refused send always agree.
    sent = await services.usage.sent_today(user.id)
    messages_today = Meter(used=sent, limit=user.plan.daily_messages)
    return Usage(
        plan=user.plan.name,
        sessions=Meter(used=sessions, limit=user.plan.max_sessions),
        messages_today=messages_today,
    )
