"""Queries on webhook endpoints, the event outbox, deliveries and attempts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, Update, bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from sendmako.model.statuses import DeliveryStatus
from sendmako.storage.tables import (
    UtcDateTime,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    id: int
    user_id: int
    url: str
    secret: str
    enabled: bool
    events: tuple[str, ...] | None
    session_ids: tuple[str, ...] | None
    description: str | None
    created_at: datetime
    updated_at: datetime

    def wants(self, event: str, session_id: str | None) -> bool:
        if not self.enabled:
            return False
        if self.events is not None and event not in self.events:
            return False
        return self.session_ids is None or session_id is None or session_id in self.session_ids


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery taken by a dispatcher, with what it needs to send it."""

    id: int
    event_id: str
    event_name: str
    endpoint_id: int
    chain: str
    attempts: int
    retry_from: datetime
    url: str
    secret: str
    enabled: bool
    body: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt gave; `status` is the delivery's new status."""

    delivery_id: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    latency_ms: int
    response_excerpt: str | None
    status: DeliveryStatus  # the delivery's status after this attempt
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    attempted_at: datetime
    status_code: int | None
    error: str | None
    latency_ms: int
    response_excerpt: str | None


_FINISHED = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    endpoint_id: int
    event_id: str
    event_name: str
    session_id: str | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: tuple[AttemptRecord, ...] = ()


def _endpoint(row: WebhookEndpoint) -> EndpointRecord:
    return EndpointRecord(
        id=row.id,
        user_id=row.user_id,
        url=row.url,
        secret=row.secret,
        enabled=row.enabled,
        events=tuple(row.events) if row.events is not None else None,
        session_ids=tuple(row.session_ids) if row.session_ids is not None else None,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# -- endpoints -------------------------------------------------------------------------------


async def create_endpoint(
    db: AsyncSession,
    user_id: int,
    *,
    url: str,
    secret: str,
    enabled: bool,
    events: Sequence[str] | None,
    session_ids: Sequence[str] | None,
    description: str | None,
) -> EndpointRecord:
    row = WebhookEndpoint(
        user_id=user_id,
        url=url,
        secret=secret,
        enabled=enabled,
        events=list(events) if events is not None else None,
        session_ids=list(session_ids) if session_ids is not None else None,
        description=description,
    )
    db.add(row)
    await db.flush()
    return _endpoint(row)


async def endpoints_of(db: AsyncSession, user_id: int) -> list[EndpointRecord]:
    rows = await db.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.user_id == user_id)
        .order_by(WebhookEndpoint.id)
    )
    return [_endpoint(row) for row in rows]


async def endpoint(db: AsyncSession, endpoint_id: int) -> EndpointRecord | None:
    row = await db.get(WebhookEndpoint, endpoint_id)
    return _endpoint(row) if row else None


async def update_endpoint(db: AsyncSession, endpoint_id: int, **values: object) -> EndpointRecord:
    values["updated_at"] = utcnow()
    for key in ("events", "session_ids"):
        if key in values and values[key] is not None:
            values[key] = list(values[key])  # type: ignore[call-overload]
    await db.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(values)
    )
    row = await db.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    assert row is not None
    return _endpoint(row)


async def delete_endpoint(db: AsyncSession, endpoint_id: int) -> None:
    await db.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))


# -- the outbox -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewEvent:
    id: str
    user_id: int
    session_id: str | None
    name: str
    body: str
    created_at: datetime
    deliveries: Sequence[tuple[int, str]]  # (endpoint id, chain)


async def add_events(db: AsyncSession, events: Sequence[NewEvent]) -> None:
    """Store events and their deliveries: two statements, whatever the count."""
    await db.execute(
        insert(WebhookEvent),
        [
            {
                "id": e.id,
                "user_id": e.user_id,
                "session_id": e.session_id,
                "name": e.name,
                "body": e.body,
                "created_at": e.created_at,
            }
            for e in events
        ],
    )
    await db.execute(
        insert(WebhookDelivery),
        [
            {
                "event_id": e.id,
                "endpoint_id": endpoint_id,
                "chain": chain,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": e.created_at,
                "created_at": e.created_at,
                "retry_from": e.created_at,
            }
            for e in events
            for endpoint_id, chain in e.deliveries
        ],
    )


async def add_event(db: AsyncSession, event: NewEvent) -> list[int]:
    """Store one event and its deliveries; returns the deliveries' ids."""
    await add_events(db, [event])
    ids = await db.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.event_id == event.id)
        .order_by(WebhookDelivery.id)
    )
    return list(ids)


# The claim's statements are built once: building (and keying for the compiled-statement
# cache) an EXISTS over an aliased table costs more than running it.
_earlier = aliased(WebhookDelivery)
_NOW = bindparam("now", type_=UtcDateTime())
_free = or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < _NOW)
_CANDIDATES = (
    select(WebhookDelivery.id)
    .where(
        WebhookDelivery.status == DeliveryStatus.PENDING,
        WebhookDelivery.next_attempt_at <= _NOW,
        _free,
        ~exists().where(
            _earlier.endpoint_id == WebhookDelivery.endpoint_id,
            _earlier.chain == WebhookDelivery.chain,
            _earlier.status == DeliveryStatus.PENDING,
            _earlier.id < WebhookDelivery.id,
            or_(
                _earlier.next_attempt_at > _NOW,
                _earlier.claimed_until >= _NOW,
            ),
        ),
    )
    .order_by(WebhookDelivery.id)
    .limit(bindparam("limit"))
)
_TAKE = (
    update(WebhookDelivery)
    .where(
        WebhookDelivery.id.in_(bindparam("ids", expanding=True)),
        WebhookDelivery.status == DeliveryStatus.PENDING,
        _free,
    )
    .values(claimed_by=bindparam("node"), claimed_until=bindparam("until", type_=UtcDateTime()))
    .returning(WebhookDelivery.id)
)
_CLAIMED = (
    select(
        WebhookDelivery.id,
        WebhookEvent.id,
        WebhookEvent.name,
        WebhookDelivery.endpoint_id,
        WebhookDelivery.chain,
        WebhookDelivery.attempts,
        WebhookDelivery.retry_from,
        WebhookEndpoint.url,
        WebhookEndpoint.secret,
        WebhookEndpoint.enabled,
        WebhookEvent.body,
    )
    .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
    .where(WebhookDelivery.id.in_(bindparam("taken", expanding=True)))
    .order_by(WebhookDelivery.id)
)


async def claim(
    db: AsyncSession, *, node: str, now: datetime, until: datetime, limit: int
) -> list[Claimed]:
    """Take due deliveries whose chain is not blocked (an earlier pending delivery of the
    same endpoint and chain that is not due yet, or taken by someone else)."""
    candidates = (await db.scalars(_CANDIDATES, {"now": now, "limit": limit})).all()
    if not candidates:
        return []
    taken = (
        await db.scalars(_TAKE, {"ids": candidates, "now": now, "node": node, "until": until})
    ).all()
    rows = await db.execute(_CLAIMED, {"taken": taken})
    return [Claimed(*row) for row in rows]


async def claim_one(
    db: AsyncSession, delivery_id: int, *, node: str, now: datetime, until: datetime
) -> Claimed | None:
    """Take this delivery alone, if it is pending and free (a test event, sent at once)."""
    taken = (
        await db.scalars(_TAKE, {"ids": [delivery_id], "now": now, "node": node, "until": until})
    ).all()
    if not taken:
        return None
    (row,) = (await db.execute(_CLAIMED, {"taken": taken})).all()
    return Claimed(*row)


async def release(db: AsyncSession, delivery_ids: Sequence[int]) -> None:
    if delivery_ids:
        await db.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids))
            .values(claimed_by=None, claimed_until=None)
        )


async def release_node(db: AsyncSession, node: str) -> int:
    """A restarted node holds nothing it claimed before it stopped."""
    result = await db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.claimed_by == node)
        .values(claimed_by=None, claimed_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def release_dead(db: AsyncSession, live: Sequence[str]) -> int:
    """Claims of nodes that are no longer live go back at once: a dead node's deliveries
    are sent by the others without waiting for its claims' lease."""
    result = await db.execute(
        update(WebhookDelivery)
        .where(
            # Only pending deliveries are ever claimed: the status index keeps this cheap.
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.claimed_by.is_not(None),
            WebhookDelivery.claimed_by.not_in(live),
        )
        .values(claimed_by=None, claimed_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


_HELD = select(WebhookDelivery.id).where(
    WebhookDelivery.id.in_(bindparam("ids", expanding=True)),
    WebhookDelivery.claimed_by == bindparam("node"),
)


def _record_statement() -> Update:
    deliveries = WebhookDelivery.__table__
    assert isinstance(deliveries, Table)
    return (
        update(deliveries)
        .where(deliveries.c.id == bindparam("b_id"))
        .values(
            status=bindparam("b_status"),
            attempts=deliveries.c.attempts + 1,
            last_status=bindparam("b_code"),
            last_error=bindparam("b_error"),
            claimed_by=None,
            claimed_until=None,
            next_attempt_at=func.coalesce(
                bindparam("b_next", type_=UtcDateTime()), deliveries.c.next_attempt_at
            ),
            finished_at=bindparam("b_finished", type_=UtcDateTime()),
        )
    )


_RECORD = _record_statement()


async def record(db: AsyncSession, outcomes: Sequence[Outcome], *, node: str) -> int:
    """Log the attempts and move their deliveries on, in three statements whatever the
    count. Only deliveries `node` still holds: one deleted meanwhile (with its endpoint or
    user), or already recorded, is skipped, never a reason to fail the rest. Returns how
    many were recorded."""
    if not outcomes:
        return 0
    held = set(
        (await db.scalars(_HELD, {"ids": [o.delivery_id for o in outcomes], "node": node})).all()
    )
    outcomes = [o for o in outcomes if o.delivery_id in held]
    if not outcomes:
        return 0
    await db.execute(
        insert(WebhookAttempt),
        [
            {
                "delivery_id": o.delivery_id,
                "attempted_at": o.attempted_at,
                "status_code": o.status_code,
                "error": o.error,
                "latency_ms": o.latency_ms,
                "response_excerpt": o.response_excerpt,
            }
            for o in outcomes
        ],
    )
    await db.execute(
        _RECORD,
        [
            {
                "b_id": o.delivery_id,
                "b_status": o.status,
                "b_code": o.status_code,
                "b_error": o.error,
                "b_next": o.next_attempt_at,
                "b_finished": o.attempted_at
                if o.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)
                else None,
            }
            for o in outcomes
        ],
    )
    return len(outcomes)


# -- the delivery log ------------------------------------------------------------------------


async def deliveries_of(
    db: AsyncSession, endpoint_id: int, *, offset: int, limit: int
) -> tuple[int, list[DeliveryRecord]]:
    total = await db.scalar(select(func.count()).where(WebhookDelivery.endpoint_id == endpoint_id))
    rows = (
        await db.execute(
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .offset(offset)
            .limit(limit)
        )
    ).all()
    attempts: dict[int, list[AttemptRecord]] = {}
    if rows:
        found = await db.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([d.id for d, _ in rows]))
            .order_by(WebhookAttempt.id)
        )
        for attempt in found:
            attempts.setdefault(attempt.delivery_id, []).append(
                AttemptRecord(
                    attempt.attempted_at,
                    attempt.status_code,
                    attempt.error,
                    attempt.latency_ms,
                    attempt.response_excerpt,
                )
            )
    return total or 0, [_delivery(d, e, attempts.get(d.id, [])) for d, e in rows]


async def delivery(db: AsyncSession, delivery_id: int) -> tuple[DeliveryRecord, int] | None:
    """The delivery and the id of the user who owns it."""
    found = (
        await db.execute(
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id == delivery_id)
        )
    ).first()
    if found is None:
        return None
    row, event = found
    return _delivery(row, event, []), event.user_id


async def redeliver(db: AsyncSession, delivery_id: int, now: datetime) -> None:
    await db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            claimed_by=None,
            claimed_until=None,
            finished_at=None,
            retry_from=now,  # a fresh retry window
        )
    )


async def pending_count(db: AsyncSession) -> int:
    return (
        await db.scalar(
            select(func.count()).where(WebhookDelivery.status == DeliveryStatus.PENDING)
        )
    ) or 0


def _delivery(
    row: WebhookDelivery, event: WebhookEvent, attempts: list[AttemptRecord]
) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        event_name=event.name,
        session_id=event.session_id,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        attempt_log=tuple(attempts),
    )
