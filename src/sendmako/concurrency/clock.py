"""Wall time and waiting as one injectable value: what paces sends (delays, typing) takes
one, so tests run a manual clock instead of sleeping (STYLE.md 7)."""

from __future__ import annotations

import asyncio
import time


class Clock:
    """The real clock: unix time, and `asyncio.sleep`."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
