"""Group commit: rows that arrive together are written in one transaction.

A transaction costs about a millisecond of event-loop time whatever it holds; a busy
server adding one row per request would spend its time committing. Callers still wait
until their row is committed, so nothing is acknowledged before it is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage.db import Database

Row = TypeVar("Row")

MAX_BATCH = 500


class BatchWriter(Generic[Row]):
    """One task writes the queued rows, batch after batch, in the order they came."""

    def __init__(
        self,
        db: Database,
        write: Callable[[AsyncSession, Sequence[Row]], Awaitable[None]],
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.db = db
        self._write = write
        self.max_batch = max_batch
        self._pending: list[tuple[Row, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # Rows are numbered as they are queued; `flush` waits for a number to be settled.
        # (Not for the last row's future: a caller that is cancelled cancels its own.)
        self._queued = 0
        self._settled = 0
        self._flushes: list[tuple[int, asyncio.Future[None]]] = []

    async def add(self, row: Row) -> None:
        """Returns once `row` is committed (raises if its transaction failed)."""
        await self.add_nowait(row)

    def add_nowait(self, row: Row) -> asyncio.Future[None]:
        """Queue `row` at once (no await, so nothing can run in between); the future
        resolves when it is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        self._queued += 1
        self._wakeup.set()
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.create_task(self._run(), name="batch-writer")
        return future

    async def flush(self) -> None:
        """Wait until every row queued so far is committed (or failed)."""
        if self._settled >= self._queued:
            return
        settled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._flushes.append((self._queued, settled))
        await settled

    async def close(self) -> None:
        """Write what is queued, then stop."""
        task = self._task
        if task is not None and not task.done():
            self._closing = True
            self._wakeup.set()
            await task

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await self._flush()
            if self._closing and not self._pending:
                return

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                async with self.db.write() as tx:
                    await self._write(tx, [row for row, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiter must learn its row's fate
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            except BaseException:  # cancelled mid-transaction: nothing of it was committed
                for _, future in batch:
                    future.cancel()
                self._settle(len(batch))
                raise
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
            self._settle(len(batch))

    def _settle(self, rows: int) -> None:
        self._settled += rows
        waiting = []
        for target, settled in self._flushes:
            if target > self._settled:
                waiting.append((target, settled))
            elif not settled.done():
                settled.set_result(None)
        self._flushes = waiting
