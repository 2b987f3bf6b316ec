"""Request bodies that trickle in are answered 408 with the connection closed, on every
path that reads a body: the fast lane, FastAPI's routes, the dashboard's forms. What an app
reads after a body (waiting for the client to go) is never timed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.types import Message, Receive, Scope, Send

from sendmako.api.middleware import Allowance, BodyLimit, BodyPace
from sendmako.settings import Settings
from tests.harness import Account, Server

GAP = 0.05
GRACE = 0.2
RATE = 1024
DEADLINE = 10  # a server that never answers fails the test instead of hanging it


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"body_gap_seconds": GAP, "body_rate_grace_seconds": GRACE, "body_min_rate": RATE}
    )


async def stalling(first: bytes) -> AsyncIterator[bytes]:
    """A client that sends the start of its body, then nothing more."""
    yield first
    await asyncio.Event().wait()


async def trickling(pause: float) -> AsyncIterator[bytes]:
    """A client that sends a byte every `pause` seconds, for ever."""
    while True:
        yield b" "
        await asyncio.sleep(pause)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/send-message", "application/json"),  # the fast lane
        ("/api/send-bulk", "application/json"),  # FastAPI parses the body
        ("/api/whatsapp/sessions/", "application/json"),
        ("/dashboard/login", "application/x-www-form-urlencoded"),  # a form, then a page
    ],
)
async def test_a_body_that_stops_coming_is_answered_408_and_closed(
    alice: Account, path: str, content_type: str
) -> None:
    async with asyncio.timeout(DEADLINE):
        answer = await alice.client.post(
            path, content=stalling(b'{"to'), headers={"Content-Type": content_type}
        )
    assert answer.status_code == 408, answer.text
    assert answer.headers["connection"] == "close"
    if path.startswith("/api/"):
        assert answer.json()["code"] == "request_timeout"
        assert answer.json()["message"] == f"No part of the request body came for {GAP:g} s."


async def test_a_body_trickling_below_the_rate_is_answered_408(alice: Account) -> None:
    """Each byte within the gap, but 1,024 bytes/s are not reached once the grace passed."""
    async with asyncio.timeout(DEADLINE):
        answer = await alice.client.post(
            "/api/send-message",
            content=trickling(GAP / 4),
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 408, answer.text
    assert answer.json()["message"] == "The request body came slower than 1,024 bytes/s."
    assert answer.headers["connection"] == "close"


async def test_a_body_sent_at_once_is_not_slowed_or_closed(server: Server, alice: Account) -> None:
    answer = await alice.client.post("/api/send-message", json={"to": "1", "type": "text"})
    assert answer.status_code != 408
    assert "connection" not in answer.headers


async def test_what_the_app_reads_after_the_body_is_never_timed() -> None:
    """An app waiting for the client to leave once it has the whole body (a streaming
    answer does): the wait may last far longer than the gap."""
    gone = asyncio.Event()
    messages: list[Message] = [{"type": "http.request", "body": b"{}", "more_body": False}]

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    received: list[str] = []

    async def app(_scope: Scope, receive: Receive, _send: Send) -> None:
        received.append((await receive())["type"])
        received.append((await receive())["type"])

    async def allowance(_scope: Scope) -> Allowance:
        return Allowance(1024)

    async def send(_message: Message) -> None:
        pass

    limited = BodyLimit(app, allowance, BodyPace(gap=GAP, min_rate=RATE, grace=0))
    scope = {"type": "http", "headers": [(b"content-length", b"2")]}
    asyncio.get_running_loop().call_later(GAP * 5, gone.set)
    async with asyncio.timeout(DEADLINE):
        await limited(scope, receive, send)
    assert received == ["http.request", "http.disconnect"]


def test_the_wait_allowed_is_the_gap_until_the_rate_is_the_tighter_bound() -> None:
    pace = BodyPace(gap=30, min_rate=1024, grace=10)
    assert pace.allowed(0, 0)[0] == 10  # nothing yet: the grace is all there is
    assert pace.allowed(0, 0)[1] == "The request body came slower than 1,024 bytes/s."
    assert pace.allowed(1024 * 100, 20)[0] == 30  # well ahead: the gap
    assert pace.allowed(1024 * 15, 12)[0] == pytest.approx(3)  # 15 s of body in 12 s
    assert BodyPace(gap=30, min_rate=0, grace=10).allowed(0, 100)[0] == 30  # no minimum
