"""The outbox: each event, and one delivery per endpoint that wants it, written in the
transaction of the state change that caused it. Nothing is sent before that commits."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.cluster import Bus
from sendmako.concurrency.changes import Changes
from sendmako.model.events import SessionEvent
from sendmako.storage import webhooks
from sendmako.storage.db import after_commit
from sendmako.webhooks import signing

TEST_EVENT = "webhook.test"
ENDPOINTS_TOPIC = "webhook_endpoints"  # a user's endpoints changed: {"user_id"}


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
    through `webhooks/endpoints.py`, which calls `changed`: this node forgets the user's
    entry, and every other node too, told through the bus (a node that may have missed
    some forgets everything)."""

    def __init__(self, bus: Bus | None = None) -> None:
        self._by_user: dict[int, list[webhooks.EndpointRecord]] = {}
        # Bumped at each change: a read that began before it is not kept.
        self._generation = 0
        self.changes = Changes()  # notified at each change heard or made
        self.bus = bus
        if bus is not None:
            bus.on(ENDPOINTS_TOPIC, lambda message: self.forget(int(message["user_id"])))
            bus.on_reconnect(self.forget_all)

    async def of(self, tx: AsyncSession, user_id: int) -> list[webhooks.EndpointRecord]:
        found = self._by_user.get(user_id)
        if found is None:
            generation = self._generation
            found = await webhooks.endpoints_of(tx, user_id)
            if generation == self._generation:
                self._by_user[user_id] = found
        return found

    async def changed(self, user_id: int) -> None:
        """The user's endpoints changed (committed): forget them here and on every node."""
        self.forget(user_id)
        if self.bus is not None:
            await self.bus.publish(ENDPOINTS_TOPIC, {"user_id": user_id})

    @property
    def generation(self) -> int:
        return self._generation

    def forget(self, user_id: int) -> None:
        self._generation += 1
        self._by_user.pop(user_id, None)
        self.changes.notify()

    def forget_all(self) -> None:
        self._generation += 1
        self._by_user.clear()
        self.changes.notify()


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
