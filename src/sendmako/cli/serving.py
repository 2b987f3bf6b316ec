"""How `sendmako serve` runs uvicorn: its limits, and the request heads it does not bound.

uvicorn's httptools protocol buffers a request's line and headers without a limit (llhttp
hands header values over in pieces, which httptools joins until the line ends), and waits
for them without a deadline: a connection that never finishes its head costs memory and a
connection slot for ever. `HeadLimitedProtocol` counts the bytes of each head as they arrive
and gives every head a deadline; the app never sees such a request. It lives here, not in
`api/`, because it is part of this process's server, not of the ASGI application (tests run
the app without it).

Bodies are the app's to bound (`api/middleware.py`: size and pace): only the app knows
what each endpoint accepts.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from sendmako import log

if TYPE_CHECKING:
    import uvicorn

    from sendmako.settings import Settings


logger = log.get("sendmako.http")


@dataclass(frozen=True, slots=True)
class HeadLimits:
    max_bytes: int  # the request line and the headers together
    timeout: float  # from the head's first byte (the first request: from the connection)
    linger: float  # after a refusal, how long what the client still sends is read and dropped


def config(app: Any, settings: Settings) -> uvicorn.Config:
    import uvicorn

    limits = HeadLimits(
        max_bytes=settings.max_head_bytes,
        timeout=settings.head_timeout_seconds,
        linger=settings.refusal_linger_seconds,
    )
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol_with(limits),
        ws="none",  # no WebSocket route; an upgrade would leave the limits behind
        # uvicorn counts the connection asking too: +1 lets exactly `max_connections` in.
        limit_concurrency=settings.max_connections + 1,
        backlog=settings.backlog,
        timeout_keep_alive=settings.keep_alive_seconds,  # type: ignore[arg-type]  # a float works
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # The client's address is the app's business: it believes forwarded headers only
        # from SENDMAKO_TRUSTED_PROXIES (uvicorn would believe them from any 127.0.0.1 peer).
        proxy_headers=False,
        lifespan="off",  # the server in cli/__init__.py runs it: see there
    )


def protocol_with(limits: HeadLimits) -> type[HeadLimitedProtocol]:
    """The protocol class uvicorn builds each connection with, carrying `limits`."""

    class Protocol(HeadLimitedProtocol):
        pass

    Protocol.limits = limits
    return Protocol


class HeadLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size and a deadline for every request head.

    - Size: bytes are counted from the end of the previous request (the connection's
      start for the first one) until the head is complete, and the parser is never fed past
      the limit: over it, the answer is 431 and the connection closes. A head that begins
      in the same read as the end of a previous body is counted from the next read, so the
      parser may hold one read (256 KiB at most) more than the limit, never more.
    - Time: the deadline runs from the head's first byte (`on_message_begin`), and from
      the connection's opening for the first request (a client that connects and says
      nothing). Then the answer is 408 if part of a head came, and the connection closes.
      The rest of a body the app answered without reading gets the same deadline (uvicorn
      would otherwise read it for as long as it trickles in).
    - A refusal is written, the sending side shut, and what the client still sends is read
      and dropped for `linger` seconds, or until it closes: closing at once, with its
      bytes unread, would reset the connection, and the client could lose the answer.
    - Keep-alive and pipelining: each head gets its own count and deadline. When a response
      to an earlier request is still being sent, a refusal cannot be written after it: the
      connection closes once that response is complete.
    """

    limits: ClassVar[HeadLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # the next bytes the parser gets belong to a request head
        self._head_begun = False  # ...and some of that head has come
        self._head_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.timeout, self._deadline_passed)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: what follows a refusal is dropped
        limit = self.limits.max_bytes
        while self._in_head:
            room = limit - self._head_bytes
            piece = data if len(data) <= room else data[:room]
            data = data[len(piece) :]
            self._head_bytes += len(piece)  # before feeding: a message ending resets it
            super().data_received(piece)
            if self.transport.is_closing():
                return  # uvicorn refused it (400)
            if self._in_head and self._head_bytes >= limit:
                self._refuse(
                    431,
                    "request_head_too_large",
                    f"A request's line and headers may take at most {limit:,} bytes.",
                )
                return
            if not data:
                return
        super().data_received(data)

    # Parser callbacks, called by super().data_received.

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True
        if self._timer is None:
            self._arm(self.limits.timeout, self._deadline_passed)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_begun = False
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0
        self._disarm()  # set for a body answered unread: the next head sets its own

    def on_response_complete(self) -> None:
        super().on_response_complete()
        answered_unread = not self._in_head and self.cycle.response_complete
        if answered_unread and not self.transport.is_closing() and self._timer is None:
            # The request at the parser was answered before its body was read (a pipelined
            # one started just now is not): the rest of that body must come in time too.
            self._arm(self.limits.timeout, self._deadline_passed)

    # Refusals.

    def _deadline_passed(self) -> None:
        self._timer = None
        if self._in_head and self._head_begun:
            self._refuse(
                408,
                "request_timeout",
                f"The request's head took longer than {self.limits.timeout:g} s to arrive.",
            )
        else:
            self.transport.close()  # silent, or answered: nothing to say

    def _refuse(self, status: int, code: str, message: str) -> None:
        client = f"{self.client[0]}:{self.client[1]}" if self.client else ""
        logger.info("http.refused", status=status, code=code, client=client)
        self._refused = True
        self._disarm()
        self.flow.resume_reading()  # keep reading, to drop what comes
        pending = [cycle for cycle, _app in self.pipeline]  # the last to run comes first
        if pending or (self.cycle is not None and not self.cycle.response_complete):
            # A response is under way: the refusal can't follow it, closing can.
            (pending[0] if pending else self.cycle).keep_alive = False
            return
        body = json.dumps({"success": False, "message": message, "code": code}).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join([*head, body]))
        if self.limits.linger > 0 and self.transport.can_write_eof():
            self.transport.write_eof()
            self._arm(self.limits.linger, self.transport.close)
        else:
            self.transport.close()

    def _arm(self, delay: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
