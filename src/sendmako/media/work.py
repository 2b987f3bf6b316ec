"""The media CPU pool: decoding images, making thumbnails, probing and transcoding audio,
hashing a downloaded file again. Its own few threads, not the event loop's default
executor (where a long transcode would queue everything else that uses it), handed out in
turn between accounts with a cap per account (concurrency/fair.py), so one account's pile
of 29-minute voice notes waits for its own turn while another's photo goes through.

The threads bound memory too: each decode is capped (outgoing.MAX_DECODED_PIXELS, about
400 MB at worst), and at most `threads` run at once, each in its thread's malloc arena,
instead of one arena per thread of a growing default executor.

The account is the one the task works for (concurrency/acting.py)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sendmako.concurrency.acting import acting_for
from sendmako.concurrency.fair import FairSlots
from sendmako.errors import TooManyRequests
from sendmako.media.lanes import outlive_cancellation

Result = TypeVar("Result")


class MediaWork:
    def __init__(
        self, *, threads: int | None = None, per_account: int = 1, queue_seconds: float = 60.0
    ) -> None:
        self.threads = threads or min(4, max(2, (os.cpu_count() or 2) // 2))
        self.per_account = per_account
        self.queue_seconds = queue_seconds
        self._slots = FairSlots(total=self.threads, per_owner=per_account, per_group=per_account)
        self._pool: ThreadPoolExecutor | None = None

    async def run(self, function: Callable[..., Result], *args: object) -> Result:
        """`function(*args)` on the pool, in the account's turn; waited for to the end even
        if this task is cancelled (see lanes.outlive_cancellation). 429 `media_busy` when
        the account's turn does not come within `queue_seconds`."""
        owner = acting_for()
        try:
            async with asyncio.timeout(self.queue_seconds):
                slot = self._slots.slot(owner=owner, group=owner)
                await slot.__aenter__()
        except TimeoutError as exc:
            raise TooManyRequests(
                "This account's media are still being prepared; try again once they are.",
                retry_after=self.queue_seconds,
                code="media_busy",
            ) from exc
        try:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="media-work")
            future = asyncio.get_running_loop().run_in_executor(self._pool, function, *args)
            await outlive_cancellation(future)
            return future.result()
        finally:
            await slot.__aexit__(None, None, None)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


# One per process: the modules that prepare media are called from many services.
MEDIA_WORK = MediaWork()
