"""One account's webhook endpoints accept and never answer: another account's deliveries
and test events go out within a bound well under the attempt timeout; the hanging
endpoints hold no more than their share of slots, their circuits open, and once they
answer again every one of their deliveries arrives, each chat in order.

Everything is real but the clock of the outbox: the server (its background dispatcher,
the guarded client and its pool) delivers to aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from sendmako.app import WebhookSeams
from sendmako.settings import Settings
from sendmako.webhooks.dispatcher import Dispatcher
from tests.harness import Account, Server, connect_sandbox, running
from tests.media.files import jpeg_bytes
from tests.media.origin import Exchange, Origin

HOOKS = "/api/webhooks"
ATTEMPT_SECONDS = 2.0
# What another account's delivery may take while one account's endpoints hang: well under
# the attempt timeout, so it never waited for one of the hanging attempts to end.
BOUND_SECONDS = 1.0
SENDERS = 6
PER_SENDER = 10


class Clock:
    """The outbox's clock: real time plus what the test skips ahead."""

    def __init__(self) -> None:
        self.skipped = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped


@dataclass
class Receivers:
    """Webhook endpoints on 127.0.0.1, one per path. Paths in `hanging` accept a request
    and never answer it, until `released`; the others answer 200 at once."""

    hanging: set[str] = field(default_factory=set)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    # (path, event body) of each delivery answered 200, in the order they were answered.
    answered: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    most_in_flight: dict[str, int] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    base: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        path = request.match_info["name"]
        body = json.loads(await request.read())
        if path in self.hanging and not self.released.is_set():
            await self._count(path, +1)
            try:
                await self.released.wait()
            finally:
                await self._count(path, -1)
        async with self.changed:
            self.answered.append((path, body))
            self.changed.notify_all()
        return web.Response(text="ok")

    async def _count(self, path: str, change: int) -> None:
        async with self.changed:
            self.in_flight[path] = self.in_flight.get(path, 0) + change
            self.most_in_flight[path] = max(self.most_in_flight.get(path, 0), self.in_flight[path])
            self.changed.notify_all()

    async def until(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(predicate)

    def of(self, path: str) -> list[dict[str, object]]:
        return [body for p, body in self.answered if p == path]


@pytest.fixture
async def receivers() -> AsyncIterator[Receivers]:
    found = Receivers()
    app = web.Application()
    app.router.add_post("/{name}", found.handle)
    # A request whose client gave up ends (its handler is cancelled), as in_flight counts.
    runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found.base = f"http://127.0.0.1:{port}"
    yield found
    found.released.set()
    await runner.cleanup()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def server(settings: Settings, clock: Clock) -> AsyncIterator[Server]:
    seams = WebhookSeams(clock=clock, attempt_timeout=ATTEMPT_SECONDS, background=True)
    async with running(settings, seams) as started:
        yield started


def dispatcher(server: Server) -> Dispatcher:
    assert server.app is not None
    found: Dispatcher = server.app.state.services.dispatcher
    return found


async def hook(account: Account, url: str) -> int:
    created = await account.client.post(HOOKS, json={"url": url, "events": ["message.received"]})
    assert created.status_code == 201, created.text
    hook_id: int = created.json()["webhook"]["id"]
    return hook_id


async def arrives(
    account: Account, session_id: str, receivers: Receivers, path: str, text: str
) -> float:
    """Seconds from a message arriving on the session to its webhook being answered."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = await account.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={"from": "221781234567", "type": "text", "text": text},
    )
    assert sent.status_code == 200, sent.text
    await receivers.until(
        lambda: any(b["data"]["body"] == text for b in receivers.of(path)),  # type: ignore[index]
        timeout=30,
    )
    return loop.time() - started


async def test_hanging_endpoints_of_one_account_do_not_delay_another_accounts_deliveries(
    server: Server, alice: Account, bob: Account, receivers: Receivers, clock: Clock
) -> None:
    limits = dispatcher(server).limits
    hanging = ["a1", "a2", "a3"]
    receivers.hanging.update(hanging)
    alices = [await hook(alice, f"{receivers.base}/{path}") for path in hanging]
    bobs = await hook(bob, f"{receivers.base}/b")
    alice_session = await connect_sandbox(server, alice, "22241857975")
    bob_session = await connect_sandbox(server, bob, "22241857976")
    baseline = await arrives(bob, bob_session, receivers, "b", "before")

    # Alice's endpoints fill with deliveries that will never be answered.
    burst = [
        {"from": f"22178123{s:04d}", "type": "text", "text": f"{s}:{n}"}
        for n in range(PER_SENDER)
        for s in range(SENDERS)
    ]
    sent = await alice.client.post(
        f"/api/sandbox/sessions/{alice_session}/inbound/batch", json={"messages": burst}
    )
    assert sent.status_code == 200, sent.text
    full = min(len(hanging) * limits.per_endpoint, limits.per_account)
    await receivers.until(lambda: sum(receivers.in_flight.values()) == full, timeout=10)

    during = [await arrives(bob, bob_session, receivers, "b", f"during {n}") for n in range(5)]
    assert max(receivers.most_in_flight[p] for p in hanging) <= limits.per_endpoint
    loop = asyncio.get_running_loop()
    started = loop.time()
    tested = await bob.client.post(f"{HOOKS}/{bobs}/test")
    bob_test = loop.time() - started
    assert tested.status_code == 200, tested.text
    assert tested.json()["delivered"] is True
    started = loop.time()
    alice_test = await alice.client.post(f"{HOOKS}/{alices[0]}/test")
    alice_test_seconds = loop.time() - started
    print(
        f"\nbob's delivery: {baseline * 1000:.0f} ms alone, at most "
        f"{max(during) * 1000:.0f} ms while alice's endpoints hang (bound "
        f"{BOUND_SECONDS * 1000:.0f} ms, attempt timeout {ATTEMPT_SECONDS:g} s); "
        f"bob's test event {bob_test * 1000:.0f} ms; alice's {alice_test_seconds:.1f} s"
    )
    assert max(during) < BOUND_SECONDS
    assert bob_test < BOUND_SECONDS
    assert alice_test.status_code == 200
    assert alice_test.json()["delivered"] is False
    assert alice_test_seconds < 2 * ATTEMPT_SECONDS + BOUND_SECONDS
    # A test event goes beside the endpoint's slots (one per account at a time).
    assert max(receivers.most_in_flight[p] for p in hanging) <= limits.per_endpoint + 1

    # Their circuits open: their deliveries wait in the outbox, none given up.
    await receivers.until(lambda: sum(receivers.in_flight.values()) == 0, timeout=10)
    assert set(alices) <= set(dispatcher(server).breakers.open_endpoints())
    for hook_id in alices:
        log = (await alice.client.get(f"{HOOKS}/{hook_id}/deliveries?per_page=200")).json()
        messages = [d for d in log["deliveries"] if d["event"] == "message.received"]
        assert len(messages) == SENDERS * PER_SENDER
        assert {d["status"] for d in messages} == {"pending"}
        attempts = sum(d["attempts"] for d in messages)
        assert attempts <= limits.per_endpoint, "postponed, not attempted again and again"

    # They answer again; later, every delivery arrives, each chat in order.
    receivers.released.set()
    clock.skipped = timedelta(hours=2)
    dispatcher(server).wake()
    expected = SENDERS * PER_SENDER
    await receivers.until(
        lambda: all(
            len({b["id"] for b in receivers.of(p) if b["event"] == "message.received"}) == expected
            for p in hanging
        ),
        timeout=30,
    )
    for path in hanging:
        bodies = [
            str(b["data"]["body"])  # type: ignore[index]
            for b in receivers.of(path)
            if b["event"] == "message.received"
        ]
        for sender in range(SENDERS):
            chat = [int(body.split(":")[1]) for body in bodies if body.startswith(f"{sender}:")]
            assert chat == list(range(PER_SENDER)), f"{path}, chat {sender}: {chat}"


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    server = Origin()
    await server.start()
    yield server
    await server.stop()


async def test_one_account_flooding_hanging_endpoints_and_slow_downloads_leaves_another_alone(
    server: Server, alice: Account, bob: Account, receivers: Receivers, origin: Origin
) -> None:
    """Alice's endpoints hang and she sends twelve images from a server that never sends
    them: Bob's sends (text, and an image from a good server) and his webhook deliveries
    take what they took before, within the bound."""
    limits = dispatcher(server).limits
    hanging = ["a1", "a2"]
    receivers.hanging.update(hanging)
    for path in hanging:
        await hook(alice, f"{receivers.base}/{path}")
    await hook(bob, f"{receivers.base}/b")
    alice_session = await connect_sandbox(server, alice, "22241857975")
    bob_session = await connect_sandbox(server, bob, "22241857976")
    reached = asyncio.Event()  # alice's share of downloads reached the stalled server

    async def never(exchange: Exchange) -> None:
        if len(origin.requests) >= 8:
            reached.set()
        await exchange.head(200, {"Content-Length": "100000"})
        await origin.released.wait()

    stalled = origin.route("/never.jpg", never)
    image = origin.file("/photo.jpg", jpeg_bytes(), headers={"Content-Type": "image/jpeg"})
    loop = asyncio.get_running_loop()

    async def bob_sends() -> tuple[float, float]:
        started = loop.time()
        text = await bob.client.post(
            "/api/send-message", json={"to": "221781234567", "type": "text", "text": "hi"}
        )
        middle = loop.time()
        photo = await bob.client.post(
            "/api/send-message", json={"to": "221781234567", "type": "image", "imageUrl": image}
        )
        assert (text.status_code, photo.status_code) == (200, 200), photo.text
        return middle - started, loop.time() - middle

    before = (*await bob_sends(), await arrives(bob, bob_session, receivers, "b", "before"))

    burst = [{"from": f"22178123{n:04d}", "type": "text", "text": f"x{n}"} for n in range(40)]
    sent = await alice.client.post(
        f"/api/sandbox/sessions/{alice_session}/inbound/batch", json={"messages": burst}
    )
    assert sent.status_code == 200, sent.text
    alices_images = [
        asyncio.create_task(
            alice.client.post(
                "/api/send-message",
                json={"to": "221781234567", "type": "image", "imageUrl": stalled},
            )
        )
        for _ in range(12)
    ]
    await receivers.until(
        lambda: (
            sum(receivers.in_flight.values())
            == min(len(hanging) * limits.per_endpoint, limits.per_account)
        ),
        timeout=10,
    )
    async with asyncio.timeout(10):
        await reached.wait()

    during = (*await bob_sends(), await arrives(bob, bob_session, receivers, "b", "during"))
    names = ("text send", "image send", "webhook delivery")
    print(
        "\n"
        + "; ".join(
            f"bob's {name}: {b * 1000:.0f} ms alone, {d * 1000:.0f} ms during alice's flood"
            for name, b, d in zip(names, before, during, strict=True)
        )
        + f" (bound {BOUND_SECONDS * 1000:.0f} ms)"
    )
    assert max(during) < BOUND_SECONDS
    assert len(origin.requests) - 2 == 8, "alice downloads at most 8 at once"

    origin.released.set()
    answers = await asyncio.gather(*alices_images)
    assert {a.status_code for a in answers} <= {422, 429}
