"""How fast workers start: a server restarting with all its numbers starts them in a
steady stream, not a storm.

Each start costs CPU (a fork, loading Go, opening the device store) and, on a server with
its numbers logged in, a login to WhatsApp. `StartGate` lets `parallel` starts run at once
and begins at most `per_second` of them each second; while starts are queued it logs its
progress every few seconds, and once the queue has drained, how long it took.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sendmako import log

logger = log.get(__name__)

PROGRESS_SECONDS = 5.0
# A wave of starts this small is not worth a summary line (one session restarting).
SUMMARY_FROM = 5


class StartGate:
    def __init__(
        self,
        parallel: int,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        progress_seconds: float = PROGRESS_SECONDS,
    ) -> None:
        self.parallel = parallel
        self.per_second = per_second
        self.clock = clock
        self.sleep = sleep
        self.progress_seconds = progress_seconds
        self.waiting = 0  # starts queued at the gate
        self.running = 0  # starts inside the gate
        self._slots: asyncio.Semaphore | None = None
        self._pace: asyncio.Lock | None = None
        self._next_at = 0.0  # when the next start may begin
        # The current wave: from a start queued at an idle gate until the gate is idle.
        self._wave_began = 0.0
        self._wave_done = 0
        self._logged_at = 0.0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one start's place: entered when this start may begin."""
        if self._slots is None or self._pace is None:
            # Created on first use: they belong to the loop that runs the engine.
            self._slots = asyncio.Semaphore(self.parallel)
            self._pace = asyncio.Lock()
        if self.waiting == 0 and self.running == 0:
            self._wave_began = self._logged_at = self.clock()
            self._wave_done = 0
        self.waiting += 1
        entered = False
        try:
            async with self._slots:
                async with self._pace:
                    delay = self._next_at - self.clock()
                    if delay > 0:
                        await self.sleep(delay)
                    self._next_at = max(self.clock(), self._next_at) + 1 / self.per_second
                self.waiting -= 1
                entered = True
                self.running += 1
                try:
                    yield
                finally:
                    self.running -= 1
                    self._wave_done += 1
                    self._progress()
        finally:
            if not entered:  # given up while queued (the session was stopped)
                self.waiting -= 1

    def _progress(self) -> None:
        now = self.clock()
        elapsed = now - self._wave_began
        if self.waiting == 0 and self.running == 0:
            if self._wave_done >= SUMMARY_FROM:
                logger.info(
                    "neonize.workers_started", started=self._wave_done, seconds=round(elapsed, 1)
                )
            return
        if now - self._logged_at >= self.progress_seconds:
            self._logged_at = now
            logger.info(
                "neonize.workers_starting",
                started=self._wave_done,
                waiting=self.waiting,
                running=self.running,
                seconds=round(elapsed, 1),
                per_second=self.per_second,
            )
