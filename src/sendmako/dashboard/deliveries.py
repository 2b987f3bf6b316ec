"""One page of a webhook's delivery log, as the webhook page shows it and as its script
watches it for changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sendmako.storage.records import UserRecord
from sendmako.storage.webhooks import DeliveryRecord
from sendmako.wiring import Services

PER_PAGE = 20


@dataclass(frozen=True, slots=True)
class LogPage:
    total: int
    page: int
    deliveries: list[DeliveryRecord]  # newest first

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))

    @property
    def token(self) -> str:
        """Changes exactly when this page would show something else: a new delivery, or a
        shown one's status or attempts."""
        shown = "|".join(f"{d.id}:{d.status}:{d.attempts}" for d in self.deliveries)
        return hashlib.sha256(f"{self.total}|{shown}".encode()).hexdigest()[:16]


async def log_page(services: Services, user: UserRecord, webhook_id: int, page: int) -> LogPage:
    """404 (`webhook_not_found`) for another user's endpoint, like the API."""
    total, deliveries = await services.webhooks.deliveries(
        user, webhook_id, page=page, per_page=PER_PAGE
    )
    return LogPage(total=total, page=page, deliveries=deliveries)
