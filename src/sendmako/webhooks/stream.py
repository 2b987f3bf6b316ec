"""The event stream's side of the outbox (GET /api/events): every session event of every
user, stored in the transaction of the change that caused it, whether or not a webhook
wants it, with the webhook's very envelope; and the hub that wakes the stream's clients
once it is committed, on this node and (over the bus) on the others.

Clients read the stored log, never a copy pushed to them: a client holds at most one
batch in memory, a slow one costs nobody else anything, and one that reconnects resumes
from the log (Last-Event-ID is the per-user number `seq`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako import log, metrics
from sendmako.cluster.bus import Bus, Message
from sendmako.concurrency.background import Background
from sendmako.concurrency.changes import Changes
from sendmako.model.events import SessionEvent
from sendmako.storage import stream_events
from sendmako.storage.db import Database, after_commit
from sendmako.storage.records import StreamedEvent
from sendmako.webhooks.outbox import envelope, new_event_id

logger = log.get(__name__)

TOPIC = "events.recorded"
MESSAGE_RECEIVED = "message.received"


class StreamHub:
    """Which users have new events. A client notes `version(user)` before it reads the
    log, then `wait`s for it to change: a commit between the two is never missed."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._versions: dict[int, int] = {}
        self._epoch = 0  # bumped when the bus may have missed some: every client reads again
        self._changes = Changes()
        self._publishing = Background("event-stream-hub")
        bus.on(TOPIC, self._heard)
        bus.on_reconnect(self._everyone)

    def version(self, user_id: int) -> int:
        return self._epoch + self._versions.get(user_id, 0)

    def committed(self, user_id: int) -> None:
        """The user's events were committed here: wake this node's clients and tell the
        others'."""
        self._bump(user_id)
        if self.bus.clustered:
            self._publishing.spawn(self.bus.publish(TOPIC, {"user_id": user_id}))

    async def wait(
        self, user_id: int, seen: int, timeout: float, stopped: Callable[[], bool]
    ) -> bool:
        """Whether the user's version moved past `seen` (or `stopped()` came true, after a
        `poke`) within `timeout` seconds."""
        try:
            await self._changes.wait_until(
                lambda: stopped() or self.version(user_id) != seen, timeout
            )
        except TimeoutError:
            return False
        return True

    def poke(self) -> None:
        """Something a waiter's `stopped` reads changed (its client went away)."""
        self._changes.notify()

    async def close(self) -> None:
        await self._publishing.close()

    def _bump(self, user_id: int) -> None:
        self._versions[user_id] = self._versions.get(user_id, 0) + 1
        self._changes.notify()

    def _heard(self, message: Message) -> None:
        user_id = message.get("user_id")
        if isinstance(user_id, int):
            self._bump(user_id)

    def _everyone(self) -> None:
        self._epoch += 1
        self._changes.notify()


class StreamLog:
    """A `SessionEventRecorder` (sessions/hooks.py) writing the stream's log, and the task
    that forgets what is older than the retention."""

    def __init__(
        self,
        db: Database,
        hub: StreamHub,
        *,
        retention: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.hub = hub
        self.retention = retention
        self.clock = clock
        self._pruner: asyncio.Task[None] | None = None

    async def record(self, tx: AsyncSession, user_id: int, events: Sequence[SessionEvent]) -> None:
        now = self.clock()
        await stream_events.append(
            tx,
            user_id,
            [
                stream_events.NewStreamEvent(
                    session_id=event.session_id,
                    name=event.name,
                    body=envelope(new_event_id(), event.name, event.session_id, event.data, now),
                )
                for event in events
            ],
            now,
        )
        after_commit(tx, partial(self._committed, user_id, events))

    def _committed(self, user_id: int, events: Sequence[SessionEvent]) -> None:
        received = Counter(e.session_id for e in events if e.name == MESSAGE_RECEIVED)
        for session_id, count in received.items():
            if session_id is not None:
                metrics.messages_received(session_id, count)
        self.hub.committed(user_id)

    async def position(self, user_id: int) -> int:
        """The number of the user's latest event: a stream that starts now follows it."""
        async with self.db.read() as db:
            return await stream_events.last_seq(db, user_id)

    async def missed(self, user_id: int, after: int) -> range | None:
        """The numbers after `after` no longer kept (past the retention), if any."""
        async with self.db.read() as db:
            oldest = await stream_events.oldest_seq(db, user_id)
            latest = await stream_events.last_seq(db, user_id)
        first_kept = oldest if oldest is not None else latest + 1
        return range(after + 1, first_kept) if first_kept > after + 1 else None

    async def follow(
        self,
        user_id: int,
        after: int,
        *,
        names: Sequence[str] | None,
        session_ids: Sequence[str] | None,
        heartbeat: float,
        batch: int,
        stopped: Callable[[], bool],
    ) -> AsyncIterator[list[StreamedEvent]]:
        """The user's events numbered after `after`, in order, as they are committed, in
        batches; an empty batch when nothing came for `heartbeat` seconds. Ends once
        `stopped()` (after a `hub.poke()`)."""
        while not stopped():
            seen = self.hub.version(user_id)
            async with self.db.read() as db:
                found, read_to = await stream_events.after(
                    db, user_id, after, names=names, session_ids=session_ids, limit=batch
                )
            if read_to != after:
                after = read_to
                if found:
                    yield found
                continue  # there may be more: read until the log is drained
            if not await self.hub.wait(user_id, seen, heartbeat, stopped) and not stopped():
                yield []  # a heartbeat: the log is re-read after it whatever the hub said

    def start(self) -> None:
        self._pruner = asyncio.create_task(self._prune_forever())

    async def stop(self) -> None:
        if self._pruner is not None:
            self._pruner.cancel()
            await asyncio.gather(self._pruner, return_exceptions=True)
        await self.hub.close()

    async def prune(self) -> int:
        """Forget the events older than the retention; returns how many."""
        async with self.db.write() as tx:
            return await stream_events.prune(tx, self.clock() - self.retention)

    async def _prune_forever(self) -> None:
        # A tenth of the retention, at most hourly: events live at most 10% past it.
        every = min(3600.0, self.retention.total_seconds() / 10)
        while True:
            try:
                forgotten = await self.prune()
            except Exception:  # noqa: BLE001 - the task's outermost loop: try again next round
                logger.exception("events.prune_failed")
            else:
                if forgotten:
                    logger.info("events.pruned", count=forgotten)
            await asyncio.sleep(every)
