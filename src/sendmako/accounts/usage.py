"""Daily message quota: sends reserve their place before they start (so concurrent sends
cannot overshoot the limit together) and turn it into a sent message, or release it, when
they end. A reservation belongs to the day it was made on: one still in use after midnight
(a long campaign) holds nothing of the new day's room, and must be renewed against it
(`Reservation.stale`).

Two implementations, one contract:
- `MemoryUsage`, one node: the count of a user's messages since 00:00 UTC is read once a
  day, then kept in memory with the reservations; no query per send.
- `SharedUsage`, several nodes: the count and the reservations are rows (storage/usage.py),
  a reservation checked and written in one transaction that holds the user's day row, so
  the limit is exact across nodes. A reservation is held under its node's lease: a node
  that dies between reserving and sending frees the room it held once its lease runs out.
  What a reservation turns into (sent, released) is written in order by a background task,
  never later than the next reservation made here; until it is, the room stays held.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import TypeVar

from sendmako import log
from sendmako.accounts import plans
from sendmako.errors import PlanLimitReached
from sendmako.storage import messages
from sendmako.storage import usage as stored
from sendmako.storage.db import RETRIES, Database, retryable
from sendmako.storage.records import UserRecord

logger = log.get(__name__)

T = TypeVar("T")

# Holds of dead nodes count for nothing at once; their rows are deleted this often.
SWEEP_EVERY = timedelta(minutes=1)


class Reservation:
    """Room for `count` messages of `day` while they are being sent. `sent_one()` turns
    one unit into a sent message the moment it goes out; `release()` frees what is left."""

    def __init__(self, usage: DailyUsage | None, user_id: int, count: int, day: date) -> None:
        self._usage = usage
        self.user_id = user_id
        self.remaining = count
        self.day = day
        self.hold_id: int | None = None  # its row, for SharedUsage
        self._released = False

    @property
    def stale(self) -> bool:
        """Made on an earlier day: today's room was never checked for what is left."""
        return self._usage is not None and self.day != self._usage.today()

    def sent_one(self) -> None:
        if self._usage is not None:
            self._usage._sent(self)
        self.remaining = max(0, self.remaining - 1)

    def release(self) -> None:
        if self._usage is not None and not self._released:
            self._usage._release(self)
        self._released = True
        self.remaining = 0


class DailyUsage(ABC):
    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.db = db
        self.clock = clock

    @abstractmethod
    async def reserve(self, user: UserRecord, count: int = 1) -> Reservation:
        """Room for `count` messages today, or `PlanLimitReached` naming the limit.

        Unlimited plans are counted too: `sent_today` (the usage page, bulk's check) must
        not go stale, and a plan may get a limit in the middle of the day."""

    @abstractmethod
    async def sent_today(self, user_id: int) -> int: ...

    async def close(self) -> None:
        """Write what is still to be written."""

    def today(self) -> date:
        return self.clock().date()

    @abstractmethod
    def _sent(self, reservation: Reservation) -> None: ...

    @abstractmethod
    def _release(self, reservation: Reservation) -> None: ...


@dataclass
class _Day:
    day: date
    sent: int
    reserved: int = 0


class MemoryUsage(DailyUsage):
    """One node: the count read once a day per user, reservations in memory."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(db, clock)
        self._days: dict[int, _Day] = {}

    async def reserve(self, user: UserRecord, count: int = 1) -> Reservation:
        day = await self._today(user.id)
        plans.ensure_message_quota(user.plan, day.sent, count, being_sent=day.reserved)
        day.reserved += count
        return Reservation(self, user.id, count, day.day)

    async def sent_today(self, user_id: int) -> int:
        return (await self._today(user_id)).sent

    async def _today(self, user_id: int) -> _Day:
        today = self.today()
        day = self._days.get(user_id)
        if day is None or day.day != today:
            since = datetime.combine(today, time(0), tzinfo=UTC)
            async with self.db.read() as session:
                sent = await messages.count_sent_since(session, user_id, since)
            day = self._days.get(user_id)
            if day is None or day.day != today:  # another task may have loaded it meanwhile
                day = _Day(today, sent)
                self._days[user_id] = day
        return day

    def _sent(self, reservation: Reservation) -> None:
        self._move(reservation, reserved=-min(1, reservation.remaining), sent=1)

    def _release(self, reservation: Reservation) -> None:
        self._move(reservation, reserved=-reservation.remaining, sent=0)

    def _move(self, reservation: Reservation, *, reserved: int, sent: int) -> None:
        day = self._days.get(reservation.user_id)
        if day is None:
            return
        if day.day == reservation.day:  # an earlier day's room is gone with that day
            day.reserved = max(0, day.reserved + reserved)
        if day.day == self.today():
            day.sent += sent


class SharedUsage(DailyUsage):
    """Several nodes: the count and the reservations in the database (see the module)."""

    def __init__(
        self,
        db: Database,
        node_token: Callable[[], int],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(db, clock)
        self.node_token = node_token  # this node's lease: reservations live as long as it
        self._writes: asyncio.Queue[tuple[str, Reservation]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._applying = False  # a write taken from the queue is being applied
        self._swept: datetime | None = None  # when dead nodes' holds were last deleted

    async def reserve(self, user: UserRecord, count: int = 1) -> Reservation:
        try:
            return await self._again_if_aborted(lambda: self._reserve(user, count))
        except PlanLimitReached:
            if self._writes.empty() and not self._applying:
                raise
        # Room this node's sends gave back may not be written yet: write it, then check.
        await self._written()
        return await self._again_if_aborted(lambda: self._reserve(user, count))

    @staticmethod
    async def _again_if_aborted(transaction: Callable[[], Awaitable[T]]) -> T:
        """Run it again when PostgreSQL aborted it to break a deadlock between nodes
        counting for one user (each transaction is whole: nothing was written)."""
        for attempt in range(RETRIES):
            try:
                return await transaction()
            except Exception as exc:  # noqa: BLE001 - re-raised unless PostgreSQL asks again
                if attempt + 1 == RETRIES or not retryable(exc):
                    raise
                logger.info("usage.transaction_retried", attempt=attempt + 1)
        raise AssertionError("unreachable")

    async def _reserve(self, user: UserRecord, count: int) -> Reservation:
        today, now = self.today(), self.clock()
        async with self.db.write() as tx:
            if self._swept is None or now - self._swept > SWEEP_EVERY:
                self._swept = now
                await stored.drop_dead(tx, now)
            sent = await stored.lock_day(tx, user.id, today)
            held = await stored.held(tx, user.id, today, now)
            plans.ensure_message_quota(user.plan, sent, count, being_sent=held)
            hold_id = await stored.hold(tx, user.id, today, count, self.node_token())
        reservation = Reservation(self, user.id, count, today)
        reservation.hold_id = hold_id
        return reservation

    async def sent_today(self, user_id: int) -> int:
        await self._written()
        async with self.db.read() as db:
            found = await stored.sent_on(db, user_id, self.today())
            if found is not None:
                return found
            since = datetime.combine(self.today(), time(0), tzinfo=UTC)
            return await messages.count_sent_since(db, user_id, since)

    async def close(self) -> None:
        await self._written()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            with suppress(asyncio.CancelledError):
                await writer

    def _sent(self, reservation: Reservation) -> None:
        if reservation.remaining <= 1:
            # Its last unit (a single send's whole reservation): one write counts it and
            # drops the hold, and the release that follows has nothing left to write.
            reservation._released = True
            self._write("sent_last", reservation)
        else:
            self._write("sent", reservation)

    def _release(self, reservation: Reservation) -> None:
        self._write("release", reservation)

    def _write(self, what: str, reservation: Reservation) -> None:
        self._writes.put_nowait((what, reservation))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._writing(), name="usage-writer")

    async def _written(self) -> None:
        await self._writes.join()

    async def _writing(self) -> None:
        while True:
            what, reservation = await self._writes.get()
            self._applying = True
            try:
                await self._again_if_aborted(partial(self._apply, what, reservation))
            except Exception:  # noqa: BLE001 - the writer outlives a database hiccup
                # The room stays held until the node's lease ends: never an overshoot.
                logger.exception("usage.write_failed", user_id=reservation.user_id)
            finally:
                self._applying = False
                self._writes.task_done()

    async def _apply(self, what: str, reservation: Reservation) -> None:
        assert reservation.hold_id is not None
        async with self.db.write() as tx:
            if what == "sent":
                await stored.count_sent(tx, reservation.hold_id, reservation.user_id, self.today())
            elif what == "sent_last":
                await stored.count_last_sent(
                    tx, reservation.hold_id, reservation.user_id, self.today()
                )
            else:
                await stored.drop_hold(tx, reservation.hold_id)
