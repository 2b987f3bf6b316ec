"""The Server-Sent Events response of GET /api/events.

It writes each frame itself, with a deadline: uvicorn's `send` waits while the client's
socket is full, so a client that stops reading would hold its stream open for ever. One
that takes nothing for `stall` seconds is dropped instead (its connection closed); it
resumes with Last-Event-ID. Nothing is queued for a client beyond the batch being written
and the socket's own buffers: the stream reads the stored log as the client takes it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sendmako import log, metrics
from sendmako.storage.records import StreamedEvent

logger = log.get(__name__)

RECONNECT_MS = 2000  # what EventSource clients wait before reconnecting
HEARTBEAT = b": heartbeat\n\n"
GAP_EVENT = "sendmako.gap"

Frames = Callable[[Callable[[], bool]], AsyncIterator[bytes]]


def event_frame(event: StreamedEvent) -> bytes:
    # The body is compact JSON: no line breaks inside it to split `data:` over.
    return f"id: {event.seq}\nevent: {event.name}\ndata: {event.body}\n\n".encode()


def gap_frame(missed: range) -> bytes:
    data = json.dumps({"first_missed": missed.start, "last_missed": missed.stop - 1})
    return f"id: {missed.stop - 1}\nevent: {GAP_EVENT}\ndata: {data}\n\n".encode()


class EventStreamResponse(Response):
    media_type = "text/event-stream"

    def __init__(self, frames: Frames, *, stall: float, on_close: Callable[[], None]) -> None:
        """`frames(stopped)` yields what to write until `stopped()`; `on_close` is called
        when the client goes away (to wake what waits for the next event)."""
        super().__init__(
            headers={
                "cache-control": "no-cache",
                "x-accel-buffering": "no",  # nginx: pass each event on at once
            },
            media_type=self.media_type,
        )
        # An endless body: chunked, never a length (Response counts an empty one as 0).
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.frames = frames
        self.stall = stall
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()

        async def listen() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            self.on_close()

        listener = asyncio.create_task(listen())
        metrics.EVENT_STREAMS.inc()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await self._write(send, f"retry: {RECONNECT_MS}\n\n".encode())
            async for frame in self.frames(gone.is_set):
                await self._write(send, frame)
        except _Stalled:
            # Returning with the response unfinished makes the server close the connection.
            metrics.EVENT_STREAM_DROPS.inc()
            logger.info("events.slow_client_dropped", stall_seconds=self.stall)
            return
        finally:
            metrics.EVENT_STREAMS.dec()
            listener.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _write(self, send: Send, frame: bytes) -> None:
        try:
            async with asyncio.timeout(self.stall):
                await send({"type": "http.response.body", "body": frame, "more_body": True})
        except TimeoutError:
            raise _Stalled from None


class _Stalled(Exception):
    """The client took nothing for the stall deadline."""
