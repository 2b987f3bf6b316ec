"""Background work a service starts and must keep track of: kept alive while it runs, its
failures logged, waited for by tests (`idle`) and cancelled at shutdown (`close`)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from sendmako import log

logger = log.get(__name__)


class Background:
    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    def spawn(self, work: Coroutine[Any, Any, None], **context: object) -> None:
        """Run `work` on its own; a failure is logged with `context`, never raised."""
        if self._closed:
            work.close()
            return
        # The coroutine itself is the task: cancelled before its first step, it is still
        # closed properly (a wrapper would leave it never awaited).
        task = asyncio.create_task(work)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(lambda done: self._done(done, context))

    async def idle(self, timeout: float = 10) -> None:
        """Wait until no work is running (for tests and orderly shutdowns)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # failures are logged already

    def _done(self, task: asyncio.Task[None], context: dict[str, object]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error(f"{self.name}.failed", exc_info=error, **context)
