"""A real HTTP server on 127.0.0.1 whose answers the tests write byte by byte, so it can do
what a hostile or broken server does: lie about Content-Length, send none, stall, redirect.

Each connection serves one request and is then closed (`Connection: close`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    writer: asyncio.StreamWriter
    sent: int = 0  # body bytes handed to the socket before it broke or the handler ended

    async def head(
        self, status: int, headers: dict[str, str] | None = None, *, close: bool = True
    ) -> None:
        """The status line and headers; with `close`, `Connection: close` among them (the
        connection is closed after each answer either way)."""
        lines = [f"HTTP/1.1 {status} X"] + (["Connection: close"] if close else [])
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await self.writer.drain()

    async def write(self, data: bytes) -> bool:
        """False once the client has gone away."""
        try:
            self.writer.write(data)
            await self.writer.drain()
        except ConnectionError:
            return False
        self.sent += len(data)
        return True


Handler = Callable[[Exchange], Awaitable[None]]


@dataclass
class Origin:
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Exchange] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)  # ends every stall
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        self.released.set()
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def file(
        self,
        path: str,
        body: bytes,
        *,
        length: int | bool | None = True,
        headers: dict[str, str] | None = None,
        status: int = 200,
        close: bool = True,
    ) -> str:
        """Serve `body`. `length`: True the honest Content-Length, an int a lie, None none
        (the body ends when the connection closes). `close`: say `Connection: close`."""

        async def handler(exchange: Exchange) -> None:
            extra = dict(headers or {})
            if length is True:
                extra["Content-Length"] = str(len(body))
            elif isinstance(length, int) and length is not False:
                extra["Content-Length"] = str(length)
            await exchange.head(status, extra, close=close)
            await _write_pieces(exchange, body)

        return self.route(path, handler)

    def chunked(self, path: str, body: bytes) -> str:
        """Serve `body` with Transfer-Encoding: chunked (no length announced)."""

        async def handler(exchange: Exchange) -> None:
            await exchange.head(200, {"Transfer-Encoding": "chunked"})
            view = memoryview(body)
            for start in range(0, len(view), 65536):
                piece = view[start : start + 65536]
                if not await exchange.write(b"%x\r\n" % len(piece) + bytes(piece) + b"\r\n"):
                    return
            await exchange.write(b"0\r\n\r\n")

        return self.route(path, handler)

    def raw(self, path: str, answer: bytes) -> str:
        """Answer with exactly these bytes, then close the connection."""

        async def handler(exchange: Exchange) -> None:
            await exchange.write(answer)

        return self.route(path, handler)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        async def handler(exchange: Exchange) -> None:
            await exchange.head(status, {"Location": location, "Content-Length": "0"})

        return self.route(path, handler)

    def stall(self, path: str, headers: dict[str, str] | None = None) -> str:
        """Send the head, then nothing until the test ends."""

        async def handler(exchange: Exchange) -> None:
            await exchange.head(200, headers or {"Content-Length": "100"})
            await self.released.wait()

        return self.route(path, handler)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request_line = await reader.readline()
            if not request_line:
                return
            method, target, _ = request_line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            path = target.split("?", 1)[0]
            exchange = Exchange(method, path, headers, writer)
            self.requests.append(exchange)
            handler = self.routes.get(path)
            if handler is None:
                await exchange.head(404, {"Content-Length": "0"})
            else:
                await handler(exchange)
        except ConnectionError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _write_pieces(exchange: Exchange, body: bytes) -> None:
    view = memoryview(body)
    for start in range(0, len(view), 1 << 20):
        if not await exchange.write(bytes(view[start : start + (1 << 20)])):
            return
