"""A session's send queue: messages go out one at a time, in order, never faster than the
session's pacing, so a number is never flooded (the usual reason numbers get banned).

The pacing holds across restarts too: the queue starts from the session's last send, so a
server that restarts (or crashes and comes back) does not send again sooner than it may."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass

from sendmako import log
from sendmako.concurrency.changes import Changes
from sendmako.errors import OutcomeUnknown, SendmakoError, TooManyRequests, Unavailable
from sendmako.model.actions import Send, SendResult

logger = log.get(__name__)

DEFAULT_CAPACITY = 1000
# How long closing waits for a message already handed to the engine: long enough for a
# media upload to finish, so its caller gets a real answer and the sent message is stored.
CLOSE_GRACE_SECONDS = 10.0


SentHook = Callable[[SendResult], None]
# Seconds since the session last sent a message (None: not within the pacing window).
LastSend = Callable[[], Awaitable[float | None]]


@dataclass
class _Item:
    action: Send
    future: asyncio.Future[SendResult]
    on_sent: SentHook | None
    min_gap: float  # seconds after the session's previous send, at least (bulk sends)


class SendQueue:
    def __init__(
        self,
        session_id: str,
        send: Callable[[Send], Awaitable[SendResult]],
        *,
        pacing_seconds: float,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
        last_send: LastSend | None = None,
        close_grace: float = CLOSE_GRACE_SECONDS,
        delay: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`delay`: the send policy's random delay before each send, in seconds (the pacing
        holds when it is shorter); `clock` and `sleep` are injected together (tests run a
        manual clock)."""
        self.session_id = session_id
        self._delay = delay
        self._sleep = sleep
        self.close_grace = close_grace
        self.pacing_seconds = pacing_seconds
        self._send = send
        self._clock = clock
        self._items: asyncio.Queue[_Item] = asyncio.Queue(maxsize=capacity)
        self._last_send: float | None = None
        self._last_send_before = last_send  # asked once, before the first send
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self._closing: asyncio.Future[None] | None = None
        self._in_flight = False
        self._refusal: Callable[[], SendmakoError] | None = None
        self._changes = Changes()

    def submit(
        self, action: Send, on_sent: SentHook | None = None, *, min_gap: float = 0
    ) -> asyncio.Future[SendResult]:
        """Queue a message; the future resolves with WhatsApp's answer. A full queue is a
        429 whose Retry-After is the time the queue needs to drain.

        `on_sent` runs the moment the engine has sent it, before anything else can run
        (e.g. to register the message so that its receipts find it). `min_gap` spaces
        this message from the session's previous send by more than the pacing."""
        if self._closed:
            raise Unavailable(f"Session {self.session_id} is stopping.", code="session_stopping")
        if self._refusal is not None:
            raise self._refusal()
        future: asyncio.Future[SendResult] = asyncio.get_running_loop().create_future()
        try:
            self._items.put_nowait(_Item(action, future, on_sent, min_gap))
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

    def refuse(self, error: Callable[[], SendmakoError]) -> None:
        """Send nothing more until `admit()`: the messages waiting fail with `error()` (they
        were never sent), and so does any submitted meanwhile. The one the engine has now
        finishes (whether it reached WhatsApp cannot be taken back)."""
        self._refusal = error
        while not self._items.empty():
            _fail(self._items.get_nowait(), error())
        self._changes.notify()

    def admit(self) -> None:
        """Take messages again after `refuse`."""
        self._refusal = None

    @property
    def closing(self) -> bool:
        """Whether the queue has begun closing (it takes nothing more)."""
        return self._closed

    async def wait_closing(self, timeout: float) -> None:
        """Wait until the queue begins closing (for tests and progress displays)."""
        await self._changes.wait_until(lambda: self._closed, timeout)

    async def close(self, grace: float | None = None) -> None:
        """Stop sending. A message already with the engine gets `grace` seconds (default
        `close_grace`) to go out, then its caller gets a 503 saying its outcome is unknown;
        messages still waiting fail with 503 (they were never sent).

        Every caller waits for the same closing, which a caller that gives up (a cancelled
        request) does not cut short."""
        if self._closing is None:
            self._closed = True
            self._changes.notify()
            self._closing = asyncio.ensure_future(
                self._close(self.close_grace if grace is None else grace)
            )
        await asyncio.shield(self._closing)

    async def _close(self, grace: float) -> None:
        worker, self._worker = self._worker, None
        try:
            if worker is not None:
                if self._in_flight:  # the worker stops by itself once this send has ended
                    await asyncio.wait({worker}, timeout=grace)
                worker.cancel()
                with suppress(asyncio.CancelledError):
                    await worker
        finally:
            while not self._items.empty():
                _fail(
                    self._items.get_nowait(),
                    Unavailable(self._never_sent(), code="session_stopping"),
                )

    async def _run(self) -> None:
        await self._resume_pacing()
        while not self._closed:
            # Pace before taking the next message, so that everything not yet sent is still
            # in the queue (and counts against its capacity). Measured from the end of the
            # previous send, so that even the engine's own timestamps (taken a moment after
            # ours, maybe after a preemption) are never closer together than the pacing.
            await self._wait_for_gap(self._gap())
            item = await self._items.get()
            self._changes.notify()
            if item.future.done():  # the caller gave up (request cancelled): never send it
                continue
            if item.min_gap > self.pacing_seconds:
                try:
                    await self._wait_for_gap(item.min_gap)
                except asyncio.CancelledError:
                    _fail(item, Unavailable(self._never_sent(), code="session_stopping"))
                    raise
                if item.future.done():
                    continue
            if self._refusal is not None:  # refused while it waited for its turn
                _fail(item, self._refusal())
                continue
            await self._send_item(item)

    async def _send_item(self, item: _Item) -> None:
        self._in_flight = True
        try:
            result = await self._send(item.action)
        except asyncio.CancelledError:
            # Closed while the engine had it: it may or may not have reached WhatsApp.
            _fail(
                item,
                OutcomeUnknown(
                    f"Session {self.session_id} stopped while the message was being sent: "
                    "whether it reached WhatsApp is unknown, so it was not sent again."
                ),
            )
            raise
        except SendmakoError as exc:
            _fail(item, exc)
            return
        except Exception as exc:  # noqa: BLE001 - the worker must outlive an engine bug
            logger.exception("send_queue.engine_error", session_id=self.session_id)
            _fail(item, exc)
            return
        finally:
            self._in_flight = False
            self._last_send = self._clock()
        if item.on_sent is not None:
            item.on_sent(result)
        if not item.future.done():
            item.future.set_result(result)

    def _gap(self) -> float:
        """The time between the previous send and the next: the pacing, or the policy's
        random delay when longer (drawn afresh for each send)."""
        if self._delay is None:
            return self.pacing_seconds
        return max(self.pacing_seconds, self._delay())

    async def _wait_for_gap(self, gap: float) -> None:
        if self._last_send is not None:
            wait = self._last_send + gap - self._clock()
            if wait > 0:
                await self._sleep(wait)

    async def _resume_pacing(self) -> None:
        """Start from the session's last send, when it was recent (a restart)."""
        last_send, self._last_send_before = self._last_send_before, None
        if last_send is None or self._last_send is not None:
            return
        try:
            ago = await last_send()
        except Exception:  # noqa: BLE001 - without it the queue paces from now; never stop it
            logger.exception("send_queue.last_send_unknown", session_id=self.session_id)
            return
        if ago is not None:
            self._last_send = self._clock() - max(0.0, ago)

    def _never_sent(self) -> str:
        return f"Session {self.session_id} stopped before the message was sent."


def _fail(item: _Item, error: BaseException) -> None:
    if not item.future.done():
        item.future.set_exception(error)
