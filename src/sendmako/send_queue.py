"""A session's send queue: messages go out one at a time, in order, never faster than the
session's pacing, so a number is never flooded (the usual reason numbers get banned)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass

from sendmako import log
from sendmako.changes import Changes
from sendmako.engines.types import OutgoingMessage, SendResult
from sendmako.errors import SendmakoError, TooManyRequests, Unavailable

logger = log.get(__name__)

DEFAULT_CAPACITY = 1000


SentHook = Callable[[SendResult], None]


@dataclass
class _Item:
    message: OutgoingMessage
    future: asyncio.Future[SendResult]
    on_sent: SentHook | None


class SendQueue:
    def __init__(
        self,
        session_id: str,
        send: Callable[[OutgoingMessage], Awaitable[SendResult]],
        *,
        pacing_seconds: float,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_id = session_id
        self.pacing_seconds = pacing_seconds
        self._send = send
        self._clock = clock
        self._items: asyncio.Queue[_Item] = asyncio.Queue(maxsize=capacity)
        self._last_send: float | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self._changes = Changes()

    def submit(
        self, message: OutgoingMessage, on_sent: SentHook | None = None
    ) -> asyncio.Future[SendResult]:
        """Queue a message; the future resolves with WhatsApp's answer. A full queue is a
        429 whose Retry-After is the time the queue needs to drain.

        `on_sent` runs the moment the engine has sent it, before anything else can run
        (e.g. to register the message so that its receipts find it)."""
        if self._closed:
            raise Unavailable(f"Session {self.session_id} is stopping.", code="session_stopping")
        future: asyncio.Future[SendResult] = asyncio.get_running_loop().create_future()
        try:
            self._items.put_nowait(_Item(message, future, on_sent))
        except asyncio.QueueFull:
            wait = max(1.0, self._items.qsize() * self.pacing_seconds)
            raise TooManyRequests(
                f"Session {self.session_id} has {self._items.qsize()} messages waiting to be "
                f"sent; retry in {math.ceil(wait)} s.",
                retry_after=wait,
                code="send_queue_full",
            ) from None
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name=f"send-queue-{self.session_id}")
        self._changes.notify()
        return future

    @property
    def waiting(self) -> int:
        return self._items.qsize()

    async def wait_until(self, predicate: Callable[[int], bool], timeout: float) -> None:
        """Wait until `predicate(waiting)` holds (for progress displays and tests)."""
        await self._changes.wait_until(lambda: predicate(self.waiting), timeout)

    async def close(self) -> None:
        """Stop sending; messages still waiting fail with 503 (they were never sent)."""
        self._closed = True
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
        while not self._items.empty():
            item = self._items.get_nowait()
            if not item.future.done():
                item.future.set_exception(
                    Unavailable(
                        f"Session {self.session_id} stopped before the message was sent.",
                        code="session_stopping",
                    )
                )

    async def _run(self) -> None:
        while True:
            # Pace before taking the next message, so that everything not yet sent is still
            # in the queue (and counts against its capacity). Measured from the end of the
            # previous send, so that even the engine's own timestamps (taken a moment after
            # ours, maybe after a preemption) are never closer together than the pacing.
            if self._last_send is not None:
                wait = self._last_send + self.pacing_seconds - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
            item = await self._items.get()
            self._changes.notify()
            if item.future.done():  # the caller gave up (request cancelled): never send it
                continue
            try:
                result = await self._send(item.message)
            except SendmakoError as exc:
                if not item.future.done():
                    item.future.set_exception(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - the worker must outlive an engine bug
                logger.exception("send_queue.engine_error", session_id=self.session_id)
                if not item.future.done():
                    item.future.set_exception(exc)
                continue
            finally:
                self._last_send = self._clock()
            if item.on_sent is not None:
                item.on_sent(result)
            if not item.future.done():
                item.future.set_result(result)
