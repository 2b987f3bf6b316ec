"""A lean HTTP/1.1 transport for httpx, on asyncio streams, for every request made on a
user's behalf (media downloads, webhook deliveries).

httpcore's connection pool costs about a millisecond of CPU per request once requests run
concurrently (measured here: 558 webhook-sized POSTs/s at 16 in flight, against 5,577/s for
aiohttp on the same loop), and webhook delivery is nothing but such requests. aiohttp would
have meant a second HTTP stack and its own guard; this keeps httpx and its API. This transport keeps
httpx's API (requests, responses, timeouts, errors) and does only what these requests
need: HTTP/1.1 with keep-alive, Content-Length, chunked and read-to-close bodies, TLS, and
every connection opened by a `Connect` function (the private-address guard, guard.py).
No proxies, no HTTP/2, no upgrades.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import NoReturn

import httpx

# Reads take whatever the socket has, up to this much (and the stream buffers up to twice
# this before it stops reading): a 70 MB download is then a few hundred reads, not the
# thousand-odd trips through the parser that 64 KB reads cost.
READ_BYTES = 1 << 20
MAX_HEAD_BYTES = 64 * 1024
MAX_TRAILER_BYTES = 16 * 1024
MAX_INFORMATIONAL = 10
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
# (host, port, TLS context or None, connect timeout) -> an open connection.
Connect = Callable[[str, int, ssl.SSLContext | None, float | None], Awaitable[Streams]]

_NO_BODY_STATUS = frozenset({204, 304})


class _StaleConnectionError(Exception):
    """A kept-alive connection turned out closed before any answer byte: retry on a new one."""


class _Connection:
    __slots__ = ("idle_since", "key", "reader", "writer")

    def __init__(self, key: tuple[str, str, int], streams: Streams) -> None:
        self.key = key
        self.reader, self.writer = streams
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        return (
            now - self.idle_since < expiry
            and not self.reader.at_eof()
            and not self.writer.is_closing()
            and _quiet(self.reader)
        )

    def close(self) -> None:
        self.writer.close()


def _quiet(reader: asyncio.StreamReader) -> bool:
    """Nothing is waiting to be read. Bytes a server sends between answers (a second answer
    nobody asked for, a body longer than announced) would be taken for the next request's
    answer, perhaps another user's: such a connection is never reused. StreamReader has no
    public way to ask; without its buffer attribute, assume the worst."""
    buffer = getattr(reader, "_buffer", None)
    return buffer is not None and len(buffer) == 0


class Http1Transport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        connect: Connect,
        *,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext],
        max_requests: int = 100,
        max_idle_per_host: int = 20,
        max_idle: int = 100,
        # Below the 5 s that Node.js and others keep an idle connection: reusing one the
        # server is closing at that moment costs a retry.
        keepalive_expiry: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._ssl_context = ssl_context
        self._requests = asyncio.Semaphore(max_requests)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._idle_count = 0
        self._max_idle_per_host = max_idle_per_host
        self._max_idle = max_idle
        self._expiry = keepalive_expiry
        self._swept = 0.0
        self._clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        timeouts = request.extensions.get("timeout", {})
        # The ASCII (IDNA) form, as in the Host header: the name resolved, checked and
        # verified on the certificate is the one the request is addressed to.
        host = url.raw_host.decode("ascii")
        key = (url.scheme, host, url.port or (443 if url.scheme == "https" else 80))
        message = await _message(request)
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._requests.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout("no free connection slot in time") from exc
        try:
            connection, head = await self._exchange(key, message, timeouts)
        except BaseException:
            self._requests.release()
            raise
        status, reason, headers, keep_alive = head
        try:
            body = _Body(
                self,
                connection,
                request=request,
                status=status,
                headers=headers,
                keep_alive=keep_alive,
                read_timeout=timeouts.get("read"),
            )
        except BaseException:
            self._finished(connection, reusable=False)
            raise
        return httpx.Response(
            status_code=status,
            headers=headers,
            stream=body,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        self._idle_count = 0

    # -- internals ----------------------------------------------------------------------------

    async def _exchange(
        self, key: tuple[str, str, int], message: bytes, timeouts: dict[str, float | None]
    ) -> tuple[_Connection, _Head]:
        """Send the request and read the answer's head, on a kept-alive connection when
        there is one (again on a new one if the server had closed it meanwhile)."""
        connection = self._take_idle(key)
        if connection is not None:
            try:
                return connection, await _send(connection, message, timeouts, reused=True)
            except _StaleConnectionError:
                connection.close()
            except BaseException:  # an error, a timeout, a cancellation: the rest is unknown
                connection.close()
                raise
        connection = await self._open(key, timeouts.get("connect"))
        try:
            return connection, await _send(connection, message, timeouts, reused=False)
        except BaseException:
            connection.close()
            raise

    def _take_idle(self, key: tuple[str, str, int]) -> _Connection | None:
        now = self._clock()
        self._sweep(now)
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if not idle:
                del self._idle[key]
            if connection.usable(now, self._expiry):
                return connection
            connection.close()
        return None

    def _sweep(self, now: float) -> None:
        """Close what expired or broke while idle, whatever its host (at most once a
        second): connections to hosts never asked for again must not pile up."""
        if now - self._swept < 1.0:
            return
        self._swept = now
        for key in list(self._idle):
            kept = []
            for connection in self._idle[key]:
                if connection.usable(now, self._expiry):
                    kept.append(connection)
                else:
                    connection.close()
            self._idle_count -= len(self._idle[key]) - len(kept)
            if kept:
                self._idle[key] = kept
            else:
                del self._idle[key]

    async def _open(self, key: tuple[str, str, int], timeout: float | None) -> _Connection:
        scheme, host, port = key
        context = None
        if scheme == "https":
            context = self._ssl_context if isinstance(self._ssl_context, ssl.SSLContext) else None
            if context is None:
                assert callable(self._ssl_context)
                self._ssl_context = context = self._ssl_context()
        try:
            streams = await self._connect(host, port, context, timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {host} timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or f"cannot connect to {host}") from exc
        return _Connection(key, streams)

    def _finished(self, connection: _Connection, *, reusable: bool) -> None:
        """The answer is read (or abandoned): keep the connection for the next request to
        the same host, or close it."""
        self._requests.release()
        idle = self._idle.get(connection.key, [])
        if (
            reusable
            and _quiet(connection.reader)
            and len(idle) < self._max_idle_per_host
            and self._idle_count < self._max_idle
        ):
            connection.idle_since = self._clock()
            self._idle.setdefault(connection.key, idle).append(connection)
            self._idle_count += 1
        else:
            connection.close()


_Head = tuple[int, bytes, list[tuple[bytes, bytes]], bool]


async def _message(request: httpx.Request) -> bytes:
    """The request as bytes: head and body (our requests carry small bodies, if any)."""
    body = b"".join([part async for part in request.stream])  # type: ignore[union-attr]
    lines = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
    for name, value in request.headers.raw:
        lowered = name.lower()
        if lowered in (b"transfer-encoding", b"content-length"):
            continue  # the body is whole: its length is known
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name:
            raise httpx.LocalProtocolError(f"header {name!r} holds a line break")
        lines.append(name + b": " + value)
    if body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def _send(
    connection: _Connection, message: bytes, timeouts: dict[str, float | None], *, reused: bool
) -> _Head:
    writer, reader = connection.writer, connection.reader
    try:
        writer.write(message)
        async with asyncio.timeout(timeouts.get("write")):
            await writer.drain()
    except TimeoutError as exc:
        raise httpx.WriteTimeout("sending the request timed out") from exc
    except OSError as exc:
        if reused:
            raise _StaleConnectionError from exc
        raise httpx.WriteError(f"sending the request failed: {exc}") from exc
    for _informational in range(MAX_INFORMATIONAL + 1):
        try:
            async with asyncio.timeout(timeouts.get("read")):
                raw = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError as exc:
            raise httpx.ReadTimeout("no answer in time") from exc
        except asyncio.IncompleteReadError as exc:
            if reused and not exc.partial:
                raise _StaleConnectionError from exc
            _broken("the server closed the connection before answering")
        except asyncio.LimitOverrunError:
            _broken("the answer's head is too large")
        except OSError as exc:
            if reused:
                raise _StaleConnectionError from exc
            raise httpx.ReadError(f"reading the answer failed: {exc}") from exc
        head = _parse_head(raw)
        if not 100 <= head[0] < 200:
            return head
        # 1xx (100 Continue, 103 Early Hints): informational, the real answer follows.
    raise httpx.RemoteProtocolError(f"more than {MAX_INFORMATIONAL} informational answers")


def _parse_head(raw: bytes) -> _Head:
    if len(raw) > MAX_HEAD_BYTES:
        _broken("the answer's head is too large")
    status_line, *lines = raw[:-4].split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        _broken("the answer is not HTTP/1.x")
    status = int(parts[1])
    if not 100 <= status <= 999:
        _broken(f"the answer's status {status} is not valid")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t") and headers:  # an obsolete folded line
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip())
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            _broken("the answer has a malformed header line")
        headers.append((name, value.strip()))
    connection = b",".join(v for n, v in headers if n.lower() == b"connection").lower()
    keep_alive = parts[0] == b"HTTP/1.1" and b"close" not in connection
    return status, parts[2] if len(parts) > 2 else b"", headers, keep_alive


def _broken(detail: str) -> NoReturn:
    raise httpx.RemoteProtocolError(detail)


class _Body(httpx.AsyncByteStream):
    """The answer's body as it arrives; the connection goes back to the pool once the body
    has been read to its end, and is closed if the reader stops early."""

    def __init__(
        self,
        transport: Http1Transport,
        connection: _Connection,
        *,
        request: httpx.Request,
        status: int,
        headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
        read_timeout: float | None,
    ) -> None:
        self._transport = transport
        self._connection: _Connection | None = connection
        self._reader = connection.reader
        self._timeout = read_timeout
        self._complete = False
        self._keep_alive = keep_alive
        self._length: int | None = None
        self._chunked = False
        if request.method == "HEAD" or status in _NO_BODY_STATUS:
            self._length = 0
            return
        encodings: list[bytes] = []
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"transfer-encoding":
                encodings += [v.strip().lower() for v in value.split(b",")]
            elif lowered == b"content-length":
                if not value.isdigit():
                    _broken("the answer's Content-Length is not a number")
                self._length = int(value)
        if encodings:  # it overrides Content-Length (RFC 9112, 6.3)
            self._chunked = encodings[-1] == b"chunked"
            self._length = None
        if self._length is None and not self._chunked:
            self._keep_alive = False  # the body ends when the server closes the connection

    async def __aiter__(self) -> AsyncIterator[bytes]:
        parts = (
            self._chunks()
            if self._chunked
            else self._until_close()
            if self._length is None
            else self._exactly(self._length)
        )
        async for part in parts:
            yield part
        self._complete = True
        await self.aclose()

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._transport._finished(connection, reusable=self._complete and self._keep_alive)

    async def _read(self, limit: int) -> bytes:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._reader.read(limit)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("the answer's body stalled") from exc
        except OSError as exc:
            raise httpx.ReadError(f"reading the answer failed: {exc}") from exc

    async def _exactly(self, length: int) -> AsyncIterator[bytes]:
        remaining = length
        while remaining:
            part = await self._read(min(remaining, READ_BYTES))
            if not part:
                _broken("the server closed the connection before the body ended")
            remaining -= len(part)
            yield part

    async def _until_close(self) -> AsyncIterator[bytes]:
        while part := await self._read(READ_BYTES):
            yield part

    async def _line(self) -> bytes:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._reader.readuntil(b"\r\n")
        except TimeoutError as exc:
            raise httpx.ReadTimeout("the answer's body stalled") from exc
        except asyncio.IncompleteReadError:
            _broken("the server closed the connection inside a chunked body")
        except asyncio.LimitOverrunError:
            _broken("a chunk header is too long")
        except OSError as exc:
            raise httpx.ReadError(f"reading the answer failed: {exc}") from exc

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            size_field = (await self._line()).split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_field):
                _broken("a chunk size is not hexadecimal")
            size = int(size_field, 16)
            if size == 0:
                trailers = 0
                while (line := await self._line()) != b"\r\n":
                    trailers += len(line)  # ignored, but not without end
                    if trailers > MAX_TRAILER_BYTES:
                        _broken("the chunked body's trailers are too long")
                return
            async for part in self._exactly(size):
                yield part
            if await self._line() != b"\r\n":
                _broken("a chunk does not end where its size says")
