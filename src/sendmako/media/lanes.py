"""One stream of pieces handed to several consumers, each on its own thread.

A downloaded WhatsApp file is hashed twice (its SHA-256 and its MAC) and written to a
spool. hashlib and file writes release the GIL, so with a thread each they run on separate
cores while the event loop goes on downloading; each consumer still sees the pieces one
at a time and in order. At most `max_pending` bytes wait for the slowest consumer, so a
download faster than the hashing cannot pile up in memory.

    async with Lanes((spool.write, sha.update, mac.update), max_pending=8 * MB) as lanes:
        async for piece in download:
            await lanes.put(piece)

Leaving the block waits until every consumer has finished (and raises the first error one
of them met); leaving it by an exception stops them first, skipping what is still queued.
Either way no consumer is still at work once the block is left, so what they write to may
be closed right after.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from queue import SimpleQueue
from types import TracebackType
from typing import Any, TypeVar

Consumer = Callable[[bytes], object]
Result = TypeVar("Result")


class Lanes:
    def __init__(
        self,
        consumers: Sequence[Consumer],
        *,
        max_pending: int,
        start_thread: Callable[[threading.Thread], None] = threading.Thread.start,
    ) -> None:
        """`start_thread` starts each lane's thread (tests make it fail, as a machine out
        of threads does)."""
        assert consumers, "at least one consumer"
        self._loop = asyncio.get_running_loop()
        self._start_thread = start_thread
        self._max_pending = max_pending
        self._lanes = [_Lane(consumer, self) for consumer in consumers]
        self._given = 0
        self._wakeup: asyncio.Future[None] | None = None
        self._running = len(self._lanes)
        self._running_lock = threading.Lock()
        self._all_exited: asyncio.Future[None] = self._loop.create_future()
        self.stopping = False
        self.error: BaseException | None = None

    async def __aenter__(self) -> Lanes:
        started: list[_Lane] = []
        try:
            for lane in self._lanes:
                self._start_thread(lane)
                started.append(lane)
        except BaseException:  # out of threads, say: stop the ones already running
            self.stopping = True
            for lane in started:
                lane.pieces.put(None)
            for lane in started:
                lane.join()  # idle, so at once
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.stopping = True
        for lane in self._lanes:
            lane.pieces.put(None)
        await outlive_cancellation(self._all_exited)
        if exc_type is None:
            self._raise_error()

    @property
    def pending(self) -> int:
        """Bytes given that some consumer has not finished with yet."""
        return self._given - min(lane.done for lane in self._lanes)

    async def put(self, piece: bytes) -> None:
        """Hand `piece` to every consumer; waits while too much is pending. Raises the first
        error a consumer met. One caller at a time (the pieces are one stream)."""
        self._raise_error()
        self._given += len(piece)
        for lane in self._lanes:
            lane.pieces.put(piece)
        while self.pending > self._max_pending and self.error is None:
            self._wakeup = wakeup = self._loop.create_future()
            # A lane that progressed before `_wakeup` was set did not signal: look again.
            if self.pending <= self._max_pending:
                break
            await wakeup
        self._wakeup = None
        self._raise_error()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    # -- called from the lanes' threads ----------------------------------------------------

    def progressed(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None:
            self._call_soon(_resolve, wakeup)

    def failed(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self.progressed()

    def exited(self) -> None:
        with self._running_lock:
            self._running -= 1
            last = self._running == 0
        if last:
            self._call_soon(_resolve, self._all_exited)

    def _call_soon(
        self, callback: Callable[[asyncio.Future[None]], None], future: asyncio.Future[None]
    ) -> None:
        # A closed loop raises: nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, future)


class _Lane(threading.Thread):
    def __init__(self, consumer: Consumer, lanes: Lanes) -> None:
        super().__init__(name="media-lane", daemon=True)
        self.pieces: SimpleQueue[bytes | None] = SimpleQueue()
        self.done = 0
        self._consumer = consumer
        self._lanes = lanes

    def run(self) -> None:
        lanes = self._lanes
        try:
            while (piece := self.pieces.get()) is not None:
                if lanes.error is None and not lanes.stopping:
                    try:
                        self._consumer(piece)
                    except BaseException as exc:  # noqa: BLE001 - handed to the event loop
                        lanes.failed(exc)
                self.done += len(piece)
                lanes.progressed()
        finally:
            lanes.exited()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def outlive_cancellation(future: asyncio.Future[Any]) -> None:
    """Waits until `future` is done even if this task is cancelled meanwhile (the
    cancellation is passed on once it is): a thread must be finished with a file before the
    file is closed. `future`'s own outcome is left to the caller."""
    task = asyncio.current_task()
    cancelled = False
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            # This task's, unless it is `future` that someone else cancelled.
            if not future.cancelled() or (task is not None and task.cancelling()):
                cancelled = True
    if cancelled:
        raise asyncio.CancelledError
