"""A user's webhook endpoints: create, change, rotate the secret, test, and the delivery
log with redelivery. Another user's endpoint or delivery answers 404."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sendmako.errors import BadRequest, NotFound
from sendmako.net.hosts import InvalidURL, parse_url
from sendmako.storage import webhooks
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord
from sendmako.webhooks import signing
from sendmako.webhooks.dispatcher import Dispatcher
from sendmako.webhooks.outbox import TEST_EVENT, EndpointCache, envelope, new_event_id

MAX_ENDPOINTS = 20

# Refuses (BadRequest naming the field `url`) a URL whose host is, or resolves to, an address
# the private-address policy forbids. Delivery checks again, at the connection.
UrlGuard = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EndpointChange:
    url: str | None = None
    enabled: bool | None = None
    events: Sequence[str] | None = None
    session_ids: Sequence[str] | None = None
    description: str | None = None
    clear_events: bool = False  # back to every event
    clear_sessions: bool = False  # back to every session
    rotate_secret: bool = False


class Endpoints:
    def __init__(
        self,
        db: Database,
        cache: EndpointCache,
        dispatcher: Dispatcher,
        guard: UrlGuard,
        *,
        events: Sequence[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`events`: the webhook events an endpoint may ask for (inbound/registry.py)."""
        self.db = db
        self.cache = cache
        self.dispatcher = dispatcher
        self.guard = guard
        self.events = tuple(events)
        self.clock = clock

    async def create(
        self,
        user: UserRecord,
        *,
        url: str,
        enabled: bool = True,
        events: Sequence[str] | None = None,
        session_ids: Sequence[str] | None = None,
        description: str | None = None,
    ) -> webhooks.EndpointRecord:
        await self._check_url(url)
        _check_events(events, self.events)
        async with self.db.write() as tx:
            if len(await webhooks.endpoints_of(tx, user.id)) >= MAX_ENDPOINTS:
                raise BadRequest(
                    f"url: at most {MAX_ENDPOINTS} webhook endpoints per account", field="url"
                )
            created = await webhooks.create_endpoint(
                tx,
                user.id,
                url=url,
                secret=signing.new_secret(),
                enabled=enabled,
                events=events,
                session_ids=session_ids,
                description=description,
            )
        await self.cache.changed(user.id)
        return created

    async def of(self, user: UserRecord) -> list[webhooks.EndpointRecord]:
        async with self.db.read() as db:
            return await webhooks.endpoints_of(db, user.id)

    async def get(self, user: UserRecord, endpoint_id: int) -> webhooks.EndpointRecord:
        async with self.db.read() as db:
            found = await webhooks.endpoint(db, endpoint_id)
        if found is None or found.user_id != user.id:
            raise NotFound(f"Webhook {endpoint_id} not found.", code="webhook_not_found")
        return found

    async def update(
        self, user: UserRecord, endpoint_id: int, change: EndpointChange
    ) -> webhooks.EndpointRecord:
        await self.get(user, endpoint_id)
        values: dict[str, object] = {}
        if change.url is not None:
            await self._check_url(change.url)
            values["url"] = change.url
        if change.enabled is not None:
            values["enabled"] = change.enabled
        if change.events is not None or change.clear_events:
            _check_events(change.events, self.events)
            values["events"] = None if change.clear_events else change.events
        if change.session_ids is not None or change.clear_sessions:
            values["session_ids"] = None if change.clear_sessions else change.session_ids
        if change.description is not None:
            values["description"] = change.description
        if change.rotate_secret:
            values["secret"] = signing.new_secret()
        async with self.db.write() as tx:
            updated = await webhooks.update_endpoint(tx, endpoint_id, **values)
        await self.cache.changed(user.id)
        return updated

    async def delete(self, user: UserRecord, endpoint_id: int) -> None:
        await self.get(user, endpoint_id)
        async with self.db.write() as tx:
            await webhooks.delete_endpoint(tx, endpoint_id)
        await self.cache.changed(user.id)

    async def send_test(self, user: UserRecord, endpoint_id: int) -> webhooks.Outcome:
        """A signed `webhook.test` event to this endpoint only, attempted at once; it is
        logged and retried like any other delivery."""
        endpoint = await self.get(user, endpoint_id)
        now = self.clock()
        event_id = new_event_id()
        data: dict[str, object] = {
            "message": "Test event from Sendmako.",
            "webhook_id": endpoint.id,
        }
        async with self.db.write() as tx:
            (delivery_id,) = await webhooks.add_event(
                tx,
                webhooks.NewEvent(
                    id=event_id,
                    user_id=user.id,
                    session_id=None,
                    name=TEST_EVENT,
                    body=envelope(event_id, TEST_EVENT, None, data, now),
                    created_at=now,
                    deliveries=[(endpoint.id, f"test:{event_id}")],
                ),
            )
        outcome = await self.dispatcher.deliver_now(delivery_id)
        assert outcome is not None, "a brand-new delivery is always claimable"
        return outcome

    async def deliveries(
        self, user: UserRecord, endpoint_id: int, *, page: int, per_page: int
    ) -> tuple[int, list[webhooks.DeliveryRecord]]:
        await self.get(user, endpoint_id)
        async with self.db.read() as db:
            return await webhooks.deliveries_of(
                db, endpoint_id, offset=(page - 1) * per_page, limit=per_page
            )

    async def redeliver(self, user: UserRecord, delivery_id: int) -> webhooks.DeliveryRecord:
        """Send a delivery again (e.g. one that failed), with the same event id."""
        async with self.db.write() as tx:
            found = await webhooks.delivery(tx, delivery_id)
            if found is None or found[1] != user.id:
                raise NotFound(f"Delivery {delivery_id} not found.", code="delivery_not_found")
            await webhooks.redeliver(tx, delivery_id, self.clock())
            again = await webhooks.delivery(tx, delivery_id)
        assert again is not None
        self.dispatcher.wake()
        return again[0]

    async def _check_url(self, url: str) -> None:
        try:
            parsed = parse_url(url)
        except InvalidURL as exc:
            raise BadRequest(f"url: not a valid URL ({exc})", field="url") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise BadRequest("url: must be an http:// or https:// URL with a host", field="url")
        if len(url) > 2048:
            raise BadRequest("url: longer than 2,048 characters", field="url")
        await self.guard(url)


def _check_events(events: Sequence[str] | None, known: Sequence[str]) -> None:
    for index, name in enumerate(events or ()):
        if name not in known:
            raise BadRequest(
                f"events[{index}]: unknown event {name!r} (events: {', '.join(known)})",
                field=f"events[{index}]",
            )
