"""The dispatcher where things happen at the same time as a delivery: the endpoint deleted
while its attempt is in flight, an endpoint that never answers, a test event sent while
other deliveries wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from sendmako.app import WebhookSeams
from sendmako.net.mock import MockClient, Request, Response
from sendmako.settings import Settings
from tests.harness import Account, Server, connect_sandbox, running

HOOKS = "/api/webhooks"
URL = "https://hooks.example.com/sendmako"


class Receiver:
    """Answers 200, after running the test's `during` hook (once) if it has one."""

    def __init__(self) -> None:
        self.received: list[Request] = []
        self.during: Callable[[Request], Awaitable[None]] | None = None

    async def handle(self, request: Request) -> Response:
        self.received.append(request)
        during, self.during = self.during, None
        if during is not None:
            await during(request)
        return Response(200, "ok")


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def attempt_timeout() -> float:
    return 10.0  # the production value; one test sets its own


@pytest.fixture
async def server(
    settings: Settings, receiver: Receiver, attempt_timeout: float
) -> AsyncIterator[Server]:
    client = MockClient(receiver.handle)
    seams = WebhookSeams(client=client, attempt_timeout=attempt_timeout, background=False)
    async with running(settings, seams) as started:
        yield started


def dispatcher(server: Server):  # type: ignore[no-untyped-def]
    assert server.app is not None
    return server.app.state.services.dispatcher


async def add_hook(account: Account, **body: object) -> int:
    answer = await account.client.post(HOOKS, json={"url": URL, **body})
    assert answer.status_code == 201, answer.text
    hook_id: int = answer.json()["webhook"]["id"]
    return hook_id


async def test_an_endpoint_deleted_during_its_attempt_stops_nobody_else(
    server: Server, alice: Account, bob: Account, receiver: Receiver
) -> None:
    """Alice deletes her endpoint while an attempt to it is in flight: its outcome has no
    delivery left to update. It is dropped, and Bob's events still go out."""
    alices = await add_hook(alice, events=["session.connected"])
    await add_hook(bob, events=["session.connected"])
    await connect_sandbox(server, alice, "22241857975")

    async def alice_deletes_her_endpoint(_request: Request) -> None:
        assert (await alice.client.delete(f"{HOOKS}/{alices}")).status_code == 200

    receiver.during = alice_deletes_her_endpoint
    assert await dispatcher(server).run_once() == 1
    await connect_sandbox(server, bob, "221781234567")
    assert await dispatcher(server).run_once() == 1
    assert [r.headers["x-sendmako-event"] for r in receiver.received] == ["session.connected"] * 2
    log = (await bob.client.get(f"{HOOKS}")).json()["webhooks"]
    deliveries = (await bob.client.get(f"{HOOKS}/{log[0]['id']}/deliveries")).json()
    assert deliveries["deliveries"][0]["status"] == "succeeded"


@pytest.mark.parametrize("attempt_timeout", [0.2])
async def test_an_endpoint_that_never_answers_is_abandoned_after_the_attempt_timeout(
    server: Server, alice: Account, receiver: Receiver
) -> None:
    hook_id = await add_hook(alice, events=["session.connected"])
    await connect_sandbox(server, alice, "22241857975")

    async def never(_request: Request) -> None:
        await asyncio.Event().wait()

    receiver.during = never
    async with asyncio.timeout(10):  # the dispatcher's own 0.2 s must end it long before
        await dispatcher(server).run_once()
    log = (await alice.client.get(f"{HOOKS}/{hook_id}/deliveries")).json()
    (delivery,) = log["deliveries"]
    assert delivery["status"] == "pending", "retried later"
    assert delivery["attempt_log"][0]["error"] == "no answer within 0.2 s"


async def test_a_test_event_leaves_the_other_waiting_deliveries_alone(
    server: Server, alice: Account, receiver: Receiver
) -> None:
    """Sending a test event claims that one delivery, not every due one (those would then
    wait out a five-minute lease)."""
    hook_id = await add_hook(alice, events=["session.connected"])
    await connect_sandbox(server, alice, "22241857975")
    tested = await alice.client.post(f"{HOOKS}/{hook_id}/test")
    assert tested.status_code == 200, tested.text
    assert await dispatcher(server).run_once() == 1
    events = [r.headers["x-sendmako-event"] for r in receiver.received]
    assert events == ["webhook.test", "session.connected"]
