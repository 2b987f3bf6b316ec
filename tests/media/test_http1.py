"""The lean HTTP/1.1 transport under every outgoing request: message framing (lengths,
chunks, read-to-close), keep-alive and its failure modes, and broken servers. A scripted
server on 127.0.0.1 answers each request with the bytes the test gives."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from sendmako.net.guard import open_tcp
from sendmako.net.http1 import Http1Transport, Streams

Answer = Callable[[bytes], bytes]  # the request's head and body -> the raw answer
SILENCE = b""  # an answer of nothing: the server reads on and never answers


@dataclass
class Scripted:
    """Each request gets `answers[i]` (the last one repeats); a connection is closed after
    an answer when `close_after` says so. Records connections and raw requests."""

    answers: list[bytes | Answer] = field(default_factory=list)
    close_after: Callable[[int], bool] = lambda _n: False
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)  # a client closed one
    closed_by_client: int = 0
    _closings: asyncio.Condition = field(default_factory=asyncio.Condition)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()

    async def closed(self, count: int) -> None:
        """Returns once clients have closed `count` connections."""
        async with asyncio.timeout(5), self._closings:
            await self._closings.wait_for(lambda: self.closed_by_client >= count)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                index = len(self.requests)
                self.requests.append(request)
                answer = self.answers[min(index, len(self.answers) - 1)]
                writer.write(answer(request) if callable(answer) else answer)
                await writer.drain()
                if self.close_after(index):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            self.closed_by_client += 1
            self.hung_up.set()
            async with self._closings:
                self._closings.notify_all()
        finally:
            writer.close()


@pytest.fixture
async def scripted() -> AsyncIterator[Scripted]:
    server = Scripted()
    await server.start()
    yield server
    await server.stop()


async def connect(
    host: str, port: int, context: ssl.SSLContext | None, _t: float | None
) -> Streams:
    assert host == "127.0.0.1", "these tests only ever connect to loopback"
    return await open_tcp(host, port, context, host)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = Http1Transport(connect, ssl_context=ssl.create_default_context)
    async with httpx.AsyncClient(transport=transport, timeout=2.0) as http:
        yield http


def url(server: Scripted, path: str = "/") -> str:
    return f"http://127.0.0.1:{server.port}{path}"


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_a_post_carries_its_length_and_the_connection_is_kept_for_the_next(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    scripted.answers = [OK]
    first = await client.post(url(scripted, "/hook?x=1"), content=b'{"a":1}')
    second = await client.post(url(scripted, "/hook"), content=b"{}")
    assert (first.status_code, first.content, second.content) == (200, b"ok", b"ok")
    assert scripted.connections == 1
    head = scripted.requests[0].split(b"\r\n")
    assert head[0] == b"POST /hook?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{scripted.port}".encode() in head
    assert b"Content-Length: 7" in head
    assert scripted.requests[0].endswith(b'\r\n\r\n{"a":1}')


async def test_a_connection_the_server_closed_while_idle_is_replaced_silently(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    """The server drops every connection after one answer (many do, after their own
    keep-alive timeout): the next request goes out on a fresh connection, once."""
    scripted.answers = [OK]
    scripted.close_after = lambda _n: True
    for _ in range(3):
        assert (await client.get(url(scripted))).content == b"ok"
    assert scripted.connections == 3
    assert len(scripted.requests) == 3


async def test_connection_close_is_honoured(scripted: Scripted, client: httpx.AsyncClient) -> None:
    scripted.answers = [b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"]
    await client.get(url(scripted))
    await client.get(url(scripted))
    assert scripted.connections == 2


async def test_a_chunked_body_is_reassembled_ignoring_extensions_and_trailers(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    scripted.answers = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n",
        OK,
    ]
    answer = await client.get(url(scripted))
    assert answer.content == b"hello world"
    assert (await client.get(url(scripted))).content == b"ok", "the connection is reusable"
    assert scripted.connections == 1


async def test_a_body_without_length_runs_until_the_server_closes(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    scripted.answers = [b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 100_000]
    scripted.close_after = lambda _n: True
    answer = await client.get(url(scripted))
    assert answer.content == b"x" * 100_000


async def test_informational_answers_are_skipped_and_204_has_no_body(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    scripted.answers = [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-Seen: 1\r\n\r\n",
        OK,
    ]
    answer = await client.post(url(scripted), content=b"{}")
    assert (answer.status_code, answer.headers["x-seen"], answer.content) == (204, "1", b"")
    assert (await client.get(url(scripted))).content == b"ok"
    assert scripted.connections == 1


async def test_an_answer_read_only_in_part_closes_its_connection(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    """A reader that stops early (a webhook's answer excerpt, a download over its limit)
    leaves unread bytes on the connection: it cannot be reused."""
    scripted.answers = [b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + b"y" * 300_000, OK]
    async with client.stream("GET", url(scripted)) as answer:
        async for _part in answer.aiter_raw():
            break
    assert (await client.get(url(scripted))).status_code == 200
    assert scripted.connections == 2


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not HTTP"),
        (b"HTTP/1.1 20x OK\r\n\r\n", "not HTTP"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "before the body ended"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "hexadecimal"),
        # int("-1", 16) is -1: a body "until the end" that no size limit would see coming.
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n" + b"x" * 9, "hex"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
            + b"X-Trailer: yes\r\n" * 1200,
            "trailers are too long",
        ),
        (b"HTTP/1.1 103 Early Hints\r\n\r\n" * 11, "informational"),
    ],
)
async def test_a_broken_answer_is_a_protocol_error(
    scripted: Scripted, client: httpx.AsyncClient, raw: bytes, detail: str
) -> None:
    scripted.answers = [raw]
    scripted.close_after = lambda _n: True
    with pytest.raises(httpx.RemoteProtocolError, match=detail):
        await client.get(url(scripted))


async def test_a_server_that_never_answers_hits_the_read_timeout(
    scripted: Scripted,
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads, never answers, until the client gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = Http1Transport(connect, ssl_context=ssl.create_default_context)
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"http://127.0.0.1:{port}/", timeout=httpx.Timeout(2.0, read=0.1))
    server.close()


async def test_a_refused_connection_is_a_connect_error(client: httpx.AsyncClient) -> None:
    probe = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{port}/")


async def test_only_http_and_https_are_spoken(client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        await client.get("ftp://127.0.0.1/file")


async def test_a_request_abandoned_on_a_kept_connection_closes_it(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    """Cancelled while waiting for its answer (a caller's total timeout), the request
    leaves the connection in an unknown state: it is closed, not kept or leaked."""
    scripted.answers = [OK, SILENCE]
    assert (await client.get(url(scripted))).content == b"ok"
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await client.get(url(scripted))
    async with asyncio.timeout(5):
        await scripted.hung_up.wait()
    assert scripted.connections == 1


async def test_a_header_with_a_line_break_is_never_sent(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    scripted.answers = [OK]
    with pytest.raises(httpx.LocalProtocolError):
        await client.get(url(scripted), headers={"X-Note": "a\r\nX-Injected: 1"})
    assert scripted.requests == []


async def test_bytes_sent_between_answers_are_never_taken_for_the_next_answer(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    """A server answers, then adds an answer nobody asked for: the next request (perhaps
    another user's, to the same host) must not read it as its own."""
    scripted.answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL",
        OK,
    ]
    assert (await client.get(url(scripted))).content == b"first"
    assert (await client.get(url(scripted))).content == b"ok"
    assert scripted.connections == 2


async def test_a_body_longer_than_announced_spoils_the_connection(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    scripted.answers = [b"HTTP/1.1 204 No Content\r\n\r\nsurplus", OK]
    assert (await client.get(url(scripted))).status_code == 204
    assert (await client.get(url(scripted))).content == b"ok"
    assert scripted.connections == 2


async def test_idle_connections_are_capped_and_swept_whatever_their_host(
    scripted: Scripted,
) -> None:
    """Connections to hosts never asked for again must not pile up (each holds a file
    descriptor): at most `max_idle` are kept, and expired ones are closed on the next
    request to any host."""
    now = [0.0]
    opened: list[str] = []

    async def any_name_is_loopback(
        host: str, port: int, context: ssl.SSLContext | None, timeout: float | None
    ) -> Streams:
        opened.append(host)
        return await connect("127.0.0.1", port, context, timeout)

    transport = Http1Transport(
        any_name_is_loopback,
        ssl_context=ssl.create_default_context,
        max_idle=3,
        keepalive_expiry=4.0,
        clock=lambda: now[0],
    )
    scripted.answers = [OK]
    async with httpx.AsyncClient(transport=transport) as http:
        for n in range(5):
            await http.get(f"http://h{n}.test:{scripted.port}/")
        await scripted.closed(2)  # beyond the cap of 3
        now[0] = 10.0  # every idle connection has expired
        await http.get(f"http://h9.test:{scripted.port}/")
        await scripted.closed(5)  # the 3 kept ones, swept
    assert opened == ["h0.test", "h1.test", "h2.test", "h3.test", "h4.test", "h9.test"]


async def test_an_international_name_is_resolved_and_verified_in_its_ascii_form(
    scripted: Scripted,
) -> None:
    asked: list[str] = []

    async def recording(
        host: str, port: int, context: ssl.SSLContext | None, timeout: float | None
    ) -> Streams:
        asked.append(host)
        return await connect("127.0.0.1", port, context, timeout)

    scripted.answers = [OK]
    transport = Http1Transport(recording, ssl_context=ssl.create_default_context)
    async with httpx.AsyncClient(transport=transport) as http:
        await http.get(f"http://faß.test:{scripted.port}/")
    assert asked == ["xn--fa-hia.test"]
    assert f"Host: xn--fa-hia.test:{scripted.port}".encode() in scripted.requests[0]


async def test_a_transfer_coding_other_than_chunked_runs_until_close(
    scripted: Scripted, client: httpx.AsyncClient
) -> None:
    """Transfer-Encoding overrides Content-Length; without chunked last, the body ends when
    the server closes the connection (RFC 9112, 6.3)."""
    scripted.answers = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: x-custom\r\nContent-Length: 2\r\n\r\nokAND-MORE"
    ]
    scripted.close_after = lambda _n: True
    assert (await client.get(url(scripted))).content == b"okAND-MORE"
