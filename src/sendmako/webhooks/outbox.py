"""The outbox: each event, and one delivery per endpoint that wants it, written in the
transaction of the state change that caused it. Nothing is sent before that commits."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.model.events import SessionEvent
from sendmako.storage import webhooks
from sendmako.storage.db import after_commit
from sendmako.webhooks import signing

TEST_EVENT = "webhook.test"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def envelope(
    event_id: str, name: str, session_id: str | None, data: dict[str, object], at: datetime
) -> str:
    """The exact body sent (and signed): the original's envelope plus the event's `id`."""
    return signing.body(
        {
            "event": name,
            "timestamp": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "session_id": session_id,
            "data": data,
            "id": event_id,
        }
    )


def chain_of(event: SessionEvent) -> str:
    """Deliveries of one chain keep their order: one chat of one session (messages, what
    happens to them, votes, a group's changes), or a session's own lifecycle."""
    chat = event.data.get("chat") or event.data.get("to")
    if chat and not event.name.startswith("session."):
        return f"{event.session_id}:{chat}"
    return f"{event.session_id}:session"


class EndpointCache:
    """Each user's endpoints, so recording an event costs no extra query. Changed only
    through `webhooks/endpoints.py`, which forgets the user's entry."""

    def __init__(self) -> None:
        self._by_user: dict[int, list[webhooks.EndpointRecord]] = {}

    async def of(self, tx: AsyncSession, user_id: int) -> list[webhooks.EndpointRecord]:
        found = self._by_user.get(user_id)
        if found is None:
            found = await webhooks.endpoints_of(tx, user_id)
            self._by_user[user_id] = found
        return found

    def forget(self, user_id: int) -> None:
        self._by_user.pop(user_id, None)


class WebhookOutbox:
    """A `SessionEventRecorder` (see sessions.py)."""

    def __init__(
        self,
        endpoints: EndpointCache,
        wake: Callable[[], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.endpoints = endpoints
        self.wake = wake
        self.clock = clock

    async def record(self, tx: AsyncSession, user_id: int, events: Sequence[SessionEvent]) -> None:
        endpoints = await self.endpoints.of(tx, user_id)
        if not endpoints:
            return
        now = self.clock()
        rows = []
        for event in events:
            wanted = [e.id for e in endpoints if e.wants(event.name, event.session_id)]
            if wanted:
                event_id = new_event_id()
                chain = chain_of(event)
                rows.append(
                    webhooks.NewEvent(
                        id=event_id,
                        user_id=user_id,
                        session_id=event.session_id,
                        name=event.name,
                        body=envelope(event_id, event.name, event.session_id, event.data, now),
                        created_at=now,
                        deliveries=[(endpoint_id, chain) for endpoint_id in wanted],
                    )
                )
        if rows:
            await webhooks.add_events(tx, rows)
            after_commit(tx, self.wake)
