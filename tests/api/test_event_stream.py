"""GET /api/events over a real socket: the webhook payloads as Server-Sent Events, for the
key's user only, resumable with Last-Event-ID, with heartbeats, and a client that stops
reading dropped without holding anyone else up."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.types import Message

from sendmako import metrics
from sendmako.api.event_stream import EventStreamResponse
from sendmako.model.events import SessionEvent
from sendmako.settings import EventsSettings, Settings
from sendmako.storage import stream_events
from tests.harness import Account, Server, connect_sandbox, running
from tests.listening import listening

RECEIVED = "message.received"


@dataclass
class Frame:
    id: str | None
    event: str | None
    data: dict[str, object] | None
    comment: str | None = None


class Stream:
    """An SSE reader over an httpx streaming response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def frame(self) -> Frame:
        fields: dict[str, str] = {}
        comment = None
        async with asyncio.timeout(15):
            while True:
                line = await anext(self._lines)
                if line == "":
                    if fields or comment is not None:
                        data = fields.get("data")
                        return Frame(
                            fields.get("id"),
                            fields.get("event"),
                            json.loads(data) if data else None,
                            comment,
                        )
                    continue
                if line.startswith(":"):
                    comment = line[1:].strip()
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    async def event(self) -> Frame:
        """The next event, past heartbeats and the reconnection delay."""
        while True:
            found = await self.frame()
            if found.event is not None:
                return found


@asynccontextmanager
async def stream(
    base: str, key: str, *, last_event_id: str | None = None, **params: str
) -> AsyncIterator[Stream]:
    headers = {"Authorization": f"Bearer {key}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with (
        httpx.AsyncClient(base_url=base, timeout=15) as client,
        client.stream("GET", "/api/events", headers=headers, params=params) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def events_settings(settings: Settings, **values: float) -> Settings:
    return settings.model_copy(update={"events": EventsSettings(**values)})  # type: ignore[arg-type]


async def inbound(account: Account, session_id: str, text: str) -> str:
    answer = await account.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={"from": "221781234567", "type": "text", "text": text},
    )
    assert answer.status_code == 200, answer.text
    message_id: str = answer.json()["message_id"]
    return message_id


@pytest.fixture
async def base(server: Server) -> AsyncIterator[str]:
    assert server.app is not None
    async with listening(server.app) as url:
        yield url


async def test_an_event_arrives_with_the_webhook_body(
    server: Server, base: str, alice: Account
) -> None:
    """`data:` is the webhook envelope (event, timestamp, session_id, data, id); `event:`
    its name; `id:` the stream's number."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    async with stream(base, alice.key, event=RECEIVED) as events:
        message_id = await inbound(alice, session_id, "Bonjour !")
        frame = await events.event()
    assert frame.event == RECEIVED
    assert frame.id is not None
    assert frame.id.isdigit()
    assert frame.data is not None
    assert set(frame.data) == {"event", "timestamp", "session_id", "data", "id"}
    assert frame.data["event"] == RECEIVED
    assert frame.data["session_id"] == session_id
    assert str(frame.data["id"]).startswith("evt_")
    data = frame.data["data"]
    assert isinstance(data, dict)
    assert data["message_id"] == message_id
    assert data["body"] == "Bonjour !"
    assert data["from"] == "221781234567"


async def test_resumes_after_a_disconnect_with_nothing_missed_or_repeated(
    backend: str, server: Server, base: str, alice: Account
) -> None:
    """Events committed while the client was away are replayed from Last-Event-ID, in
    order, then the stream goes on live (SQLite and PostgreSQL)."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    async with stream(base, alice.key, event=RECEIVED) as events:
        first = await inbound(alice, session_id, "one")
        seen = await events.event()
    assert seen.data is not None
    assert seen.data["data"]["message_id"] == first  # type: ignore[index]
    missed = [await inbound(alice, session_id, text) for text in ("two", "three")]
    async with stream(base, alice.key, last_event_id=seen.id, event=RECEIVED) as events:
        replayed = [await events.event(), await events.event()]
        live = await inbound(alice, session_id, "four")
        after = await events.event()
    got = [f.data["data"]["message_id"] for f in [*replayed, after]]  # type: ignore[index]
    assert got == [*missed, live]
    ids = [int(str(f.id)) for f in [seen, *replayed, after]]
    assert ids == sorted(set(ids))


async def test_one_user_never_sees_another_users_events(
    backend: str, server: Server, base: str, alice: Account, bob: Account
) -> None:
    """Bob's events stay out of Alice's stream, live and replayed; Bob cannot filter on
    Alice's session."""
    alice_session = await connect_sandbox(server, alice, "22241857975")
    bob_session = await connect_sandbox(server, bob, "22241857976", "Bob")
    async with stream(base, alice.key) as events:
        await inbound(bob, bob_session, "for bob")
        mine = await inbound(alice, alice_session, "for alice")
        frames = []
        while True:
            frame = await events.event()
            frames.append(frame)
            if frame.event == RECEIVED:
                break
    assert frames[-1].data["data"]["message_id"] == mine  # type: ignore[index]
    assert all(f.data is not None and f.data["session_id"] == alice_session for f in frames)
    async with stream(base, bob.key, last_event_id="0") as events:
        replayed = [await events.event() for _ in range(3)]  # qr_ready, connected, received
    assert {f.data["session_id"] for f in replayed if f.data} == {bob_session}
    assert [f.id for f in replayed] == ["1", "2", "3"]  # Bob's own numbering
    refused = await bob.client.get("/api/events", params={"session_id": alice_session})
    assert refused.status_code == 404


async def test_bad_filters_and_ids_are_400_naming_them(server: Server, alice: Account) -> None:
    """An unknown event name and a Last-Event-ID that is not a number are refused."""
    unknown = await alice.client.get("/api/events", params={"event": "message.recieved"})
    assert unknown.status_code == 400
    assert "event" in unknown.json()["message"]
    bad_id = await alice.client.get("/api/events", headers={"Last-Event-ID": "evt_12"})
    assert bad_id.status_code == 400
    assert "Last-Event-ID" in bad_id.json()["message"]
    anonymous = await server.client().get("/api/events")
    assert anonymous.status_code == 401


async def test_heartbeats_keep_an_idle_stream_talking(settings: Settings) -> None:
    """With nothing to send, a comment line comes every heartbeat."""
    async with (
        running(events_settings(settings, heartbeat_seconds=0.05)) as server,
        listening(server.app) as url,  # type: ignore[arg-type]
    ):
        alice = await server.account("alice@example.com")
        async with stream(url, alice.key) as events:
            frames = [await events.frame() for _ in range(3)]
    assert [f.comment for f in frames[1:]] == ["heartbeat", "heartbeat"]


async def test_a_reader_that_stops_reading_holds_nobody_up(settings: Settings) -> None:
    """A client whose socket is full (it reads nothing) does not delay another client of
    the same user: that one gets every event."""
    big = "x" * 400_000
    count = 40  # 16 MB: far more than loopback's socket buffers hold (4 MB at most)
    async with (
        running(events_settings(settings, stall_seconds=0.5)) as server,
        listening(server.app) as url,  # type: ignore[arg-type]
    ):
        assert server.app is not None
        services = server.app.state.services
        alice = await server.account("alice@example.com")
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as slow:
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.connect(("127.0.0.1", port))
            slow.sendall(
                b"GET /api/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0\r\n"
                + f"Authorization: Bearer {alice.key}\r\n\r\n".encode()
            )
            async with stream(url, alice.key, last_event_id="0") as healthy:
                async with services.db.write() as tx:
                    await services.events.record(
                        tx,
                        alice.user.id,
                        [SessionEvent(RECEIVED, None, {"body": big, "n": n}) for n in range(count)],
                    )
                got = [await healthy.event() for _ in range(count)]
        assert [f.data["data"]["n"] for f in got] == list(range(count))  # type: ignore[index]


async def test_a_client_that_takes_nothing_is_dropped() -> None:
    """When writing a frame waits longer than the stall deadline (the client's socket is
    full), the stream ends unfinished, which closes the connection; it is counted."""
    full = asyncio.Event()  # never set: the socket never drains
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if len(sent) > 3:
            await full.wait()

    async def receive() -> Message:
        await full.wait()  # the client never goes away by itself
        return {"type": "http.disconnect"}

    async def frames(stopped: Callable[[], bool]) -> AsyncIterator[bytes]:
        while not stopped():
            yield b": heartbeat\n\n"

    drops = metrics.EVENT_STREAM_DROPS._value.get()
    response = EventStreamResponse(frames, stall=0.05, on_close=lambda: None)
    async with asyncio.timeout(10):
        await response({"type": "http"}, receive, send)
    assert metrics.EVENT_STREAM_DROPS._value.get() == drops + 1
    assert sent[0]["type"] == "http.response.start"
    assert all(m.get("more_body") for m in sent[1:])  # never finished: the server closes it


async def test_events_past_the_retention_are_announced_as_a_gap(
    server: Server, base: str, alice: Account
) -> None:
    """Resuming from before what is still kept: one `sendmako.gap` event names the missed
    numbers, then the stream goes on from the oldest event kept."""
    assert server.app is not None
    services = server.app.state.services
    async with services.db.write() as tx:
        await services.events.record(
            tx, alice.user.id, [SessionEvent(RECEIVED, None, {"n": n}) for n in range(3)]
        )
    async with services.db.write() as tx:
        await stream_events.prune(tx, datetime.now(UTC) + timedelta(days=1))
    async with services.db.write() as tx:
        await services.events.record(tx, alice.user.id, [SessionEvent(RECEIVED, None, {"n": 3})])
    async with stream(base, alice.key, last_event_id="1") as events:
        gap, kept = await events.event(), await events.event()
    assert (gap.event, gap.id, gap.data) == (
        "sendmako.gap",
        "3",
        {"first_missed": 2, "last_missed": 3},
    )
    assert kept.id == "4"
    assert kept.data is not None
    assert kept.data["data"] == {"n": 3}
