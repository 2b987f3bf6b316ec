"""Deliveries through the real guarded client to a receiver on 127.0.0.1 whose answers the
tests write byte by byte: what a broken, slow or hostile endpoint does to an attempt. Each
attempt is the "send test event" button, which answers with the attempt's outcome."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from sendmako.app import NetworkSeams, WebhookSeams
from sendmako.settings import Settings
from tests.harness import Account, Server, fake_resolver, running
from tests.network import RecordingSockets

HOOKS = "/api/webhooks"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

# Answers one request: (the request's head and body, the connection) -> keep it open?
Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]


def answering(raw: bytes, *, close: bool = False) -> Answer:
    async def answer(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await writer.drain()
        return not close

    return answer


@dataclass
class Endpoint:
    """A webhook receiver on 127.0.0.1: `answer` handles each request; records the
    requests and how many connections were made to it."""

    answer: Answer = field(default_factory=lambda: answering(OK))
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
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

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/hook"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self.answer(request, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    receiver = Endpoint()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
def sockets() -> RecordingSockets:
    return RecordingSockets()


@pytest.fixture
async def server(settings: Settings, sockets: RecordingSockets) -> AsyncIterator[Server]:
    """Deliveries go through the guarded client (127.0.0.1 is allowed: conftest.py)."""
    seams = WebhookSeams(attempt_timeout=0.5, background=False)
    network = NetworkSeams(resolver=fake_resolver, sockets=sockets)
    async with running(settings, seams, network) as started:
        yield started


async def attempt(account: Account, url: str, times: int = 1) -> list[dict[str, object]]:
    """Save an endpoint for `url` and send it `times` test events: their outcomes."""
    created = await account.client.post(HOOKS, json={"url": url})
    assert created.status_code == 201, created.text
    hook_id = created.json()["webhook"]["id"]
    outcomes = []
    for _ in range(times):
        answer = await account.client.post(f"{HOOKS}/{hook_id}/test")
        assert answer.status_code == 200, answer.text
        outcomes.append(answer.json())
    return outcomes


async def test_deliveries_go_out_signed_on_one_kept_alive_connection(
    server: Server, alice: Account, endpoint: Endpoint, sockets: RecordingSockets
) -> None:
    """Two deliveries, one connection: the second reuses the first's."""
    outcomes = await attempt(alice, endpoint.url, times=2)
    assert [(o["delivered"], o["status_code"], o["response_excerpt"]) for o in outcomes] == [
        (True, 200, "ok")
    ] * 2
    assert endpoint.connections == 1
    assert len(sockets.attempts) == 1
    head = endpoint.requests[0].split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"post /hook http/1.1")
    assert b"x-sendmako-event: webhook.test" in head
    assert b"x-sendmako-signature: sha256=" in head


async def test_an_answer_that_is_not_http_is_a_failed_attempt(
    server: Server, alice: Account, endpoint: Endpoint
) -> None:
    """100 KB of something else: a failed attempt (retried later) whose error names the
    failure in a few words, not the bytes the endpoint sent."""
    endpoint.answer = answering(b"SSH-2.0-OpenSSH_9.2\r\n" + b"x" * 100_000, close=True)
    (outcome,) = await attempt(alice, endpoint.url)
    assert (outcome["delivered"], outcome["status_code"]) == (False, None)
    error = str(outcome["error"])
    assert error.startswith("ProtocolError: ")
    assert len(error) < 250


async def test_a_large_answer_is_read_only_for_its_excerpt(
    server: Server, alice: Account, endpoint: Endpoint
) -> None:
    """A 2 MB answer: delivered, 512 bytes kept, the rest never waited for."""
    body = b"y" * (2 << 20)
    endpoint.answer = answering(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    (outcome,) = await attempt(alice, endpoint.url)
    assert (outcome["delivered"], outcome["response_excerpt"]) == (True, "y" * 512)


def stalling(endpoint: Endpoint, raw: bytes) -> Answer:
    async def stall(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await writer.drain()
        await endpoint.released.wait()
        return False

    return stall


async def test_an_endpoint_that_stalls_inside_its_head_is_abandoned_in_time(
    server: Server, alice: Account, endpoint: Endpoint
) -> None:
    """Half a head, then nothing: abandoned at the attempt timeout (0.5 s here)."""
    endpoint.answer = stalling(endpoint, b"HTTP/1.1 200 OK\r\nContent-Le")
    (outcome,) = await attempt(alice, endpoint.url)
    assert (outcome["delivered"], outcome["status_code"]) == (False, None)
    assert outcome["error"] == "no answer within 0.5 s"


async def test_a_2xx_whose_body_stalls_is_delivered_without_waiting_past_the_timeout(
    server: Server, alice: Account, endpoint: Endpoint
) -> None:
    """The endpoint said 200 (delivered); the excerpt stops waiting at the timeout."""
    endpoint.answer = stalling(endpoint, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome")
    (outcome,) = await attempt(alice, endpoint.url)
    assert (outcome["delivered"], outcome["status_code"]) == (True, 200)
    assert 500 <= int(str(outcome["latency_ms"])) < 5000


async def test_an_endpoint_that_trickles_its_answer_is_abandoned_in_time(
    server: Server, alice: Account, endpoint: Endpoint
) -> None:
    """A byte of the head every 50 ms: each read is quick, the attempt is not; it is
    abandoned at the attempt timeout, whatever the read timeout."""

    async def trickle(_request: bytes, writer: asyncio.StreamWriter) -> bool:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 1000:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)  # the trickle itself, not a wait for the client
        return False

    endpoint.answer = trickle
    (outcome,) = await attempt(alice, endpoint.url)
    assert outcome["error"] == "no answer within 0.5 s"


async def test_an_endpoint_that_hangs_up_is_a_failed_attempt(
    server: Server, alice: Account, endpoint: Endpoint
) -> None:
    endpoint.answer = answering(b"", close=True)
    (outcome,) = await attempt(alice, endpoint.url)
    assert outcome["delivered"] is False
    assert str(outcome["error"]).startswith("ProtocolError: ")


async def test_nothing_listening_is_a_failed_attempt(server: Server, alice: Account) -> None:
    probe = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    (outcome,) = await attempt(alice, f"http://127.0.0.1:{port}/hook")
    assert str(outcome["error"]).startswith("ConnectError: ")


async def test_a_redirect_is_not_followed(
    server: Server, alice: Account, endpoint: Endpoint
) -> None:
    """A 3xx is the endpoint's answer, not a new destination: a failed attempt."""
    endpoint.answer = answering(
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://10.0.0.1/\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    (outcome,) = await attempt(alice, endpoint.url)
    assert (outcome["status_code"], outcome["error"]) == (307, "HTTP 307")
    assert len(endpoint.requests) == 1
