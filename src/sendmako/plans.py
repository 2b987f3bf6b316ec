"""Plan limits: what a user may use, checked before the work is done."""

from __future__ import annotations

from sendmako.errors import PlanLimitReached
from sendmako.storage.records import PlanRecord


def ensure_session_slot(plan: PlanRecord, sessions_now: int) -> None:
    if plan.max_sessions is not None and sessions_now >= plan.max_sessions:
        raise PlanLimitReached(
            f"Session limit reached: the {plan.name!r} plan allows {plan.max_sessions} "
            f"session(s). Delete a session or move to a larger plan.",
            code="session_limit",
        )


def ensure_message_quota(plan: PlanRecord, sent_today: int, wanted: int = 1) -> None:
    if plan.daily_messages is not None and sent_today + wanted > plan.daily_messages:
        raise PlanLimitReached(
            f"Daily message limit reached: the {plan.name!r} plan allows "
            f"{plan.daily_messages} messages per day ({sent_today} sent today). "
            f"It resets at 00:00 UTC.",
            code="message_limit",
        )
