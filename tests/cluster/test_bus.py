"""The bus between nodes, on a real Redis: broadcasts reach the other processes, and a call
is performed exactly when it was accepted, so its caller can always tell the truth."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from sendmako.cluster import Message, NodeLost, NotDelivered
from sendmako.cluster.redis_bus import RedisBus
from sendmako.concurrency.changes import Changes
from sendmako.errors import BadRequest, Unavailable
from tests.redis_server import fresh_prefix, require_redis

pytestmark = pytest.mark.redis


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def buses() -> AsyncIterator[Callable[..., RedisBus]]:
    url, prefix = require_redis(), fresh_prefix()
    started: list[RedisBus] = []

    async def start(node: str, **options: object) -> RedisBus:
        options = {"clock_margin": 0.05, "stop_grace": 1.0, **options}
        bus = RedisBus(url, node, prefix=prefix, **options)  # type: ignore[arg-type]
        started.append(bus)
        await bus.start()
        return bus

    yield start  # type: ignore[misc]
    for bus in started:
        await bus.stop()


async def test_a_broadcast_reaches_every_other_node_but_not_its_sender(buses) -> None:
    a, b, c = await buses("a"), await buses("b"), await buses("c")
    heard: dict[str, list[Message]] = {"a": [], "b": [], "c": []}
    changes = Changes()
    for bus in (a, b, c):
        bus.on(
            "keys", lambda message, node=bus.node: (heard[node].append(message), changes.notify())
        )
    await a.publish("keys", {"user_id": 7})
    await a.publish("other-topic", {"ignored": True})
    await a.publish("keys", {"user_id": 8})
    await changes.wait_until(lambda: len(heard["b"]) == 2 and len(heard["c"]) == 2, 5)
    assert heard == {
        "a": [],
        "b": [{"user_id": 7}, {"user_id": 8}],
        "c": [{"user_id": 7}, {"user_id": 8}],
    }


async def test_a_call_is_answered_by_the_node_named(buses) -> None:
    a, b = await buses("a"), await buses("b")

    async def double(payload: Message) -> Message:
        return {"twice": payload["n"] * 2, "by": "b"}

    b.serve("double", double)
    assert await a.call("b", "double", {"n": 21}) == {"twice": 42, "by": "b"}


async def test_a_node_calls_itself_without_redis(buses) -> None:
    a = await buses("a")

    async def echo(payload: Message) -> Message:
        return payload

    a.serve("echo", echo)
    assert await a.call("a", "echo", {"x": 1}) == {"x": 1}


async def test_the_error_a_node_raises_is_the_callers_error(buses) -> None:
    a, b = await buses("a"), await buses("b")

    async def refuse(payload: Message) -> Message:
        raise BadRequest("to: not a phone number", field="to", code="invalid_recipient")

    b.serve("send", refuse)
    with pytest.raises(BadRequest) as caught:
        await a.call("b", "send", {})
    assert (caught.value.field, caught.value.code, caught.value.message) == (
        "to",
        "invalid_recipient",
        "to: not a phone number",
    )


async def test_a_method_the_node_does_not_answer_is_a_503(buses) -> None:
    a, _ = await buses("a"), await buses("b")
    with pytest.raises(Unavailable, match="does not answer frobnicate"):
        await a.call("b", "frobnicate", {})


async def test_a_call_to_a_node_that_is_not_there_is_not_delivered(buses) -> None:
    a = await buses("a")
    with pytest.raises(NotDelivered, match="nothing was done"):
        await a.call("ghost", "send", {}, accept_within=0.2)


async def test_a_request_taken_after_its_time_is_never_performed(buses) -> None:
    """A node stalled past a request's time drops it: its caller has already told its
    client that nothing was done."""
    clock = Clock()
    a = await buses("a", clock=clock)
    late = Clock()
    late.now = clock.now + 60  # b's clock says a minute later than a's
    b = await buses("b", clock=late)
    performed: list[Message] = []

    async def send(payload: Message) -> Message:
        performed.append(payload)
        return {}

    b.serve("send", send)
    with pytest.raises(NotDelivered):
        await a.call("b", "send", {"text": "due within 0.2 s"}, accept_within=0.2)
    assert await a.call("b", "send", {"text": "due within 120 s"}, accept_within=120) == {}
    assert performed == [{"text": "due within 120 s"}]


async def test_a_node_that_dies_after_taking_a_call_is_reported_lost(buses) -> None:
    a = await buses("a", liveness_check=0.05)
    # b refreshes its alive key rarely: the test ends it by deleting the key.
    b = await buses("b", alive_seconds=600)
    taken = asyncio.Event()

    async def hang(payload: Message) -> Message:
        taken.set()
        await asyncio.Event().wait()
        raise AssertionError("never")

    b.serve("send", hang)
    call = asyncio.create_task(a.call("b", "send", {}))
    await taken.wait()
    await b.redis.delete(f"{b.prefix}:alive:b")
    with pytest.raises(NodeLost, match="whether it was done is unknown"):
        await call


async def test_a_node_stopping_answers_the_calls_it_took(buses) -> None:
    a, b = await buses("a"), await buses("b")
    release = asyncio.Event()
    taken = asyncio.Event()

    async def slow(payload: Message) -> Message:
        taken.set()
        await release.wait()
        return {"done": True}

    b.serve("send", slow)
    call = asyncio.create_task(a.call("b", "send", {}))
    await taken.wait()
    stopping = asyncio.create_task(b.stop())
    release.set()
    await stopping
    assert await call == {"done": True}


async def test_a_listener_hears_of_a_reconnection(buses) -> None:
    """Broadcasts sent while a node's connection was down are lost to it: it is told, so it
    reads again what it keeps."""
    a = await buses("a")
    b = await buses("b")
    reconnected = Changes()
    count = [0]

    def on_reconnect() -> None:
        count[0] += 1
        reconnected.notify()

    b.on_reconnect(on_reconnect)
    admin = Redis.from_url(require_redis(), decode_responses=True)
    try:
        clients = await admin.client_list()
        mine = [c for c in clients if c.get("name") == f"{b.prefix}:b" and c.get("sub") != "0"]
        assert mine, "the node's subscription names itself"
        for client in mine:
            await admin.client_kill_filter(_id=client["id"])
    finally:
        await admin.aclose()
    await reconnected.wait_until(lambda: count[0] == 1, 10)
    heard: list[Message] = []
    got = Changes()
    b.on("t", lambda message: (heard.append(message), got.notify()))
    await a.publish("t", {"after": "reconnection"})
    await got.wait_until(lambda: heard == [{"after": "reconnection"}], 5)
