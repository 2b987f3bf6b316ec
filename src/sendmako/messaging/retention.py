"""Stored messages are kept `SENDMAKO_MESSAGE_RETENTION_DAYS` days. Older ones are
deleted in small batches, each its own short transaction, with a pause between them: the
server keeps writing new messages while a large backlog goes (a SQLite writer holds the
whole database for the length of its transaction)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from sendmako import log
from sendmako.storage import chats, messages
from sendmako.storage.db import Database
from sendmako.storage.tables import utcnow

logger = log.get(__name__)

BATCH = 500  # rows per transaction: a few milliseconds of the writer's lock
EVERY = timedelta(hours=1)


class Retention:
    def __init__(
        self,
        db: Database,
        days: int,
        *,
        batch: int = BATCH,
        every: timedelta = EVERY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.keep = timedelta(days=days)
        self.batch = batch
        self.every = every
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def purge(self) -> int:
        """Delete every message older than the retention, batch by batch (then the chats
        left with none). Answers how many messages went."""
        before = self.clock() - self.keep
        total = 0
        while True:
            async with self.db.write() as tx:
                gone = await messages.purge_before(tx, before, self.batch)
            total += gone
            if gone < self.batch:
                break
            await asyncio.sleep(0)  # let waiting writers in between batches
        while True:
            async with self.db.write() as tx:
                forgotten = await chats.purge_idle(tx, before, self.batch)
            if forgotten < self.batch:
                break
            await asyncio.sleep(0)
        if total:
            logger.info("retention.purged", messages=total, before=before.isoformat())
        return total

    async def _run(self) -> None:
        while True:
            try:
                await self.purge()
            except Exception:  # noqa: BLE001 - the task's outermost loop: try again later
                logger.exception("retention.failed")
            await asyncio.sleep(self.every.total_seconds())
