"""A clock that moves only when a test says so: what the send policy, the restrictions
and the watchdog wait on, so tests never sleep."""

from __future__ import annotations

import asyncio
import time

from sendmako.concurrency.changes import Changes
from sendmako.concurrency.clock import Clock


class ManualClock(Clock):
    def __init__(self, start: float | None = None) -> None:
        self.time = time.time() if start is None else start
        self.naps: list[float] = []  # every sleep asked for, in order
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []
        self._changes = Changes()

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sleeper = (self.time + seconds, future)
        self._sleepers.append(sleeper)
        self._changes.notify()
        try:
            await future
        finally:
            if sleeper in self._sleepers:  # cancelled: woken ones are gone already
                self._sleepers.remove(sleeper)
                self._changes.notify()

    def advance(self, seconds: float) -> None:
        """Move time on; every sleep that ends by then wakes up."""
        self.time += seconds
        for sleeper in list(self._sleepers):
            deadline, future = sleeper
            if deadline <= self.time:
                self._sleepers.remove(sleeper)
                if not future.done():
                    future.set_result(None)
        self._changes.notify()

    @property
    def sleeping(self) -> list[float]:
        """What is left of each sleep going on now."""
        return sorted(deadline - self.time for deadline, _ in self._sleepers)

    async def wait_sleeping(self, count: int = 1, timeout: float = 5) -> None:
        """Wait until `count` sleeps are going on."""
        await self._changes.wait_until(lambda: len(self._sleepers) >= count, timeout)
