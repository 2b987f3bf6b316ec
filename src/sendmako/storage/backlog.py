"""What the webhook outbox still has to deliver, for monitoring (database-wide: every node
of a cluster reads the same figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.model.statuses import DeliveryStatus
from sendmako.storage.tables import WebhookDelivery


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    oldest: datetime | None  # when the oldest pending delivery was recorded


async def webhook_backlog(db: AsyncSession) -> Backlog:
    """One query, on the index of due deliveries (status first)."""
    row = (
        await db.execute(
            select(func.count(), func.min(WebhookDelivery.created_at)).where(
                WebhookDelivery.status == DeliveryStatus.PENDING
            )
        )
    ).one()
    return Backlog(pending=int(row[0] or 0), oldest=row[1])
