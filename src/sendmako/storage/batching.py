"""Group commit: rows that arrive together are written in one transaction.

A transaction costs about a millisecond of event-loop time whatever it holds; a busy
server adding one row per request would spend its time committing. Callers still wait
until their row is committed, so nothing is acknowledged before it is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage.db import Database

Row = TypeVar("Row")

MAX_BATCH = 500


class BatchWriter(Generic[Row]):
    def __init__(
        self, db: Database, write: Callable[[AsyncSession, Sequence[Row]], Awaitable[None]]
    ) -> None:
        self.db = db
        self._write = write
        self._pending: list[tuple[Row, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last: asyncio.Future[None] | None = None  # the row queued last

    async def add(self, row: Row) -> None:
        """Returns once `row` is committed (raises if its transaction failed)."""
        await self.add_nowait(row)

    def add_nowait(self, row: Row) -> asyncio.Future[None]:
        """Queue `row` at once (no await, so nothing can run in between); the future
        resolves when it is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        self._last = future
        self._wakeup.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="batch-writer")
        return future

    async def flush(self) -> None:
        """Wait until every row queued so far is committed (or failed). Batches are written
        one after another in the order their rows came, so once the last row queued is
        settled, every row before it is."""
        last = self._last
        if last is not None and not last.done():
            await asyncio.wait([last])

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await self._flush()
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await self._flush()

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                async with self.db.write() as tx:
                    await self._write(tx, [row for row, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiter must learn its row's fate
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
