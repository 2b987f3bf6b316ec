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


def ensure_message_quota(
    plan: PlanRecord, sent_today: int, wanted: int = 1, *, being_sent: int = 0
) -> None:
    """403 unless `wanted` more messages fit in today's limit, beside those sent today and
    those `being_sent` (room held by sends and campaigns under way)."""
    if plan.daily_messages is None or sent_today + being_sent + wanted <= plan.daily_messages:
        return
    counted = f"{sent_today} sent today" + (f", {being_sent} being sent" if being_sent else "")
    what = (
        "Daily message limit reached"
        if wanted == 1
        else f"{wanted} messages would go over the daily message limit"
    )
    raise PlanLimitReached(
        f"{what}: the {plan.name!r} plan allows {plan.daily_messages} messages per day "
        f"({counted}). It resets at 00:00 UTC.",
        code="message_limit",
    )
