"""Background work a service starts and must keep track of: kept alive while it runs, its
failures logged, waited for by tests (`idle`) and cancelled at shutdown (`close`)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
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
        task = asyncio.create_task(self._run(work, context))
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)

    async def idle(self, timeout: float = 10) -> None:
        """Wait until no work is running (for tests and orderly shutdowns)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self, work: Coroutine[Any, Any, None], context: dict[str, object]) -> None:
        try:
            await work
        except Exception:
            logger.exception(f"{self.name}.failed", **context)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
