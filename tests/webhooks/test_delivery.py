"""Webhooks end to end inside the process: endpoints, filters, signed deliveries, retries
with an injected clock and policy, ordering per chat, redelivery, restarts."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from sendmako.app import WebhookSeams
from sendmako.model.statuses import SessionStatus
from sendmako.net.client import ReadTimeout
from sendmako.net.mock import MockClient, Request, Response
from sendmako.settings import Settings
from sendmako.storage import webhooks as webhook_rows
from sendmako.webhooks import signing
from sendmako.webhooks.retry import RetryPolicy
from tests.harness import Account, Server, connect_sandbox, running

HOOKS = "/api/webhooks"
URL = "https://hooks.example.com/sendmako"


@dataclass
class Receiver:
    """A webhook receiver as a plain function (net/mock.py)."""

    received: list[Request] = field(default_factory=list)
    answer: Callable[[Request, int], Response] = lambda _r, _n: Response(200, "ok")

    def handle(self, request: Request) -> Response:
        self.received.append(request)
        return self.answer(request, len(self.received))

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(r.body) for r in self.received]


@dataclass
class Clock:
    now: datetime = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def server(settings: Settings, receiver: Receiver, clock: Clock) -> AsyncIterator[Server]:
    """A server whose dispatcher only delivers when the test calls run_once() (the
    accounts of conftest.py live on it)."""
    seams = WebhookSeams(
        client=MockClient(receiver.handle),
        clock=clock,
        policy=RetryPolicy(first_delay=10, jitter=0),
        rng=random.Random(0),
        background=False,
    )
    async with running(settings, seams) as started:
        yield started


@pytest.fixture
def hooked(server: Server) -> Server:
    return server


def dispatcher(server: Server):  # type: ignore[no-untyped-def]
    assert server.app is not None
    return server.app.state.services.dispatcher


async def add_hook(account: Account, **body: object) -> dict[str, object]:
    answer = await account.client.post(HOOKS, json={"url": URL, **body})
    assert answer.status_code == 201, answer.text
    result: dict[str, object] = answer.json()
    return result


async def inbound(
    account: Account, session_id: str, text: str, sender: str = "221781234567", **extra: object
) -> str:
    answer = await account.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={"from": sender, "type": "text", "text": text, **extra},
    )
    assert answer.status_code == 200, answer.text
    message_id: str = answer.json()["message_id"]
    return message_id


async def test_endpoint_lifecycle_and_secret_shown_only_twice(
    hooked: Server, alice: Account, bob: Account
) -> None:
    created = await add_hook(alice, events=["message.received"], description="CRM")
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    hook_id = created["webhook"]["id"]  # type: ignore[index]
    listed = (await alice.client.get(HOOKS)).json()["webhooks"]
    assert [h["id"] for h in listed] == [hook_id]
    assert secret not in json.dumps(listed)
    assert listed[0]["secret_hint"] == "…" + secret[-4:]
    rotated = (await alice.client.patch(f"{HOOKS}/{hook_id}", json={"rotate_secret": True})).json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != secret
    cleared = (await alice.client.patch(f"{HOOKS}/{hook_id}", json={"events": None})).json()
    assert cleared["webhook"]["events"] is None
    assert cleared["secret"] is None
    assert (await bob.client.get(f"{HOOKS}/{hook_id}")).status_code == 404
    assert (await bob.client.delete(f"{HOOKS}/{hook_id}")).status_code == 404
    assert (await alice.client.delete(f"{HOOKS}/{hook_id}")).json() == {"success": True}
    assert (await alice.client.get(HOOKS)).json()["webhooks"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.com"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://[/"}, "url"),
        ({"url": "http:foo"}, "url"),
        ({"url": "http://exa mple.com/hook"}, "url"),
        ({"url": URL, "events": ["message.recieved"]}, "events[0]"),
    ],
)
async def test_bad_endpoints_are_400_naming_the_field(
    hooked: Server, alice: Account, body: dict[str, object], field: str
) -> None:
    answer = await alice.client.post(HOOKS, json=body)
    assert answer.status_code == 400
    assert answer.json()["message"].startswith(f"{field}:")


async def test_incoming_message_is_delivered_signed(
    hooked: Server, alice: Account, receiver: Receiver
) -> None:
    """The envelope of the original plus `id`, with every header, signed over the exact body."""
    secret = str((await add_hook(alice))["secret"])
    session_id = await connect_sandbox(hooked, alice, "22241857975")
    message_id = await inbound(alice, session_id, "Bonjour !", from_name="Alassane Diallo")
    await dispatcher(hooked).run_once()
    bodies = receiver.bodies()
    # Each chain keeps its order; different chains (the session's lifecycle, a chat) do not
    # wait for each other.
    lifecycle = [b["event"] for b in bodies if str(b["event"]).startswith("session.")]
    assert lifecycle == ["session.qr_ready", "session.connected"]
    index = next(i for i, b in enumerate(bodies) if b["event"] == "message.received")
    request, body = receiver.received[index], bodies[index]
    assert body["session_id"] == session_id
    assert body["data"] == {
        "message_id": message_id,
        "from": "221781234567",
        "sender_name": "Alassane Diallo",
        "type": "conversation",
        "body": "Bonjour !",
        "timestamp": body["data"]["timestamp"],  # type: ignore[index]
        "chat": "221781234567@s.whatsapp.net",
    }
    assert request.headers["X-Sendmako-Event"] == "message.received"
    assert request.headers["X-Sendmako-Delivery"] == body["id"] == request.headers["webhook-id"]
    assert request.headers["X-Sendmako-Signature"] == signing.sendmako_signature(
        secret, request.body
    )
    assert signing.verify_standard(secret, dict(request.headers), request.body)


async def test_group_message_carries_group_and_participant(
    hooked: Server, alice: Account, receiver: Receiver
) -> None:
    await add_hook(alice, events=["message.received"])
    session_id = await connect_sandbox(hooked, alice, "22241857975")
    await inbound(alice, session_id, "Salut le groupe", group_id="120363025246125244@g.us")
    await dispatcher(hooked).run_once()
    (body,) = receiver.bodies()
    assert body["data"]["group_id"] == "120363025246125244@g.us"  # type: ignore[index]
    assert body["data"]["participant"] == "221781234567"  # type: ignore[index]
    assert body["data"]["from"] == "221781234567"  # type: ignore[index]


async def test_filters_by_event_and_session(
    hooked: Server, alice: Account, receiver: Receiver
) -> None:
    first = await connect_sandbox(hooked, alice, "22241857975", "a")
    second = await connect_sandbox(hooked, alice, "221781234567", "b")
    await add_hook(alice, events=["message.received"], session_ids=[second])
    await inbound(alice, first, "to a", sender="237691234567")
    await inbound(alice, second, "to b", sender="237691234567")
    await hooked.sessions.wait_for(second, [SessionStatus.CONNECTED], 1)
    await dispatcher(hooked).run_once()
    assert [(b["session_id"], b["data"]["body"]) for b in receiver.bodies()] == [(second, "to b")]  # type: ignore[index]


async def test_failures_are_retried_with_backoff_then_succeed(
    hooked: Server, alice: Account, receiver: Receiver, clock: Clock
) -> None:
    """500, then a timeout, then 200: three attempts logged, same event id each time."""

    def flaky(_request: Request, count: int) -> Response:
        if count == 1:
            return Response(500, "database down")
        if count == 2:
            raise ReadTimeout("slow")
        return Response(200, "thanks")

    receiver.answer = flaky
    hook = await add_hook(alice, events=["session.connected"])
    await connect_sandbox(hooked, alice, "22241857975")
    run = dispatcher(hooked).run_once
    assert await run() == 1
    assert await run() == 0, "not due before the backoff"
    clock.advance(seconds=10)
    assert await run() == 1
    clock.advance(seconds=19)
    assert await run() == 0
    clock.advance(seconds=1)
    assert await run() == 1
    ids = {r.headers["X-Sendmako-Delivery"] for r in receiver.received}
    assert len(receiver.received) == 3
    assert len(ids) == 1
    log = (await alice.client.get(f"{HOOKS}/{hook['webhook']['id']}/deliveries")).json()  # type: ignore[index]
    (delivery,) = log["deliveries"]
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, None, 200]
    assert delivery["attempt_log"][0]["response_excerpt"] == "database down"
    assert "no answer within 10 s" in delivery["attempt_log"][1]["error"]
    assert all(a["latency_ms"] >= 0 for a in delivery["attempt_log"])


async def test_a_delivery_is_marked_failed_after_25_hours(
    hooked: Server, alice: Account, receiver: Receiver, clock: Clock
) -> None:
    receiver.answer = lambda _r, _n: Response(503)
    hook = await add_hook(alice, events=["session.connected"])
    await connect_sandbox(hooked, alice, "22241857975")
    attempts = 0
    while await dispatcher(hooked).run_once():
        attempts += 1
        clock.advance(hours=2)
    log = (await alice.client.get(f"{HOOKS}/{hook['webhook']['id']}/deliveries")).json()  # type: ignore[index]
    (delivery,) = log["deliveries"]
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == attempts >= 12
    assert delivery["last_error"] == "HTTP 503"


async def test_one_chats_events_keep_their_order_others_do_not_wait(
    hooked: Server, alice: Account, receiver: Receiver, clock: Clock
) -> None:
    """A failing event blocks the later events of its chat (to that endpoint), not other chats."""

    def first_fails(request: Request, _count: int) -> Response:
        body = json.loads(request.body)
        if body["data"]["body"] == "A1" and sum(b"A1" in r.body for r in receiver.received) == 1:
            return Response(500)
        return Response(200)

    receiver.answer = first_fails
    await add_hook(alice, events=["message.received"])
    session_id = await connect_sandbox(hooked, alice, "22241857975")
    await inbound(alice, session_id, "A1", sender="221781234567")
    await inbound(alice, session_id, "A2", sender="221781234567")
    await inbound(alice, session_id, "B1", sender="237691234567")
    await hooked.sessions.wait_for(session_id, [SessionStatus.CONNECTED], 1)
    await dispatcher(hooked).run_once()
    assert sorted(b["data"]["body"] for b in receiver.bodies()) == ["A1", "B1"]  # type: ignore[index]
    clock.advance(seconds=10)
    await dispatcher(hooked).run_once()
    assert [b["data"]["body"] for b in receiver.bodies()] == ["A1", "B1", "A1", "A2"]  # type: ignore[index]


async def test_test_event_and_redelivery(
    hooked: Server, alice: Account, receiver: Receiver
) -> None:
    hook = await add_hook(alice)
    hook_id = hook["webhook"]["id"]  # type: ignore[index]
    tested = await alice.client.post(f"{HOOKS}/{hook_id}/test")
    assert tested.json()["delivered"] is True
    assert tested.json()["status_code"] == 200
    (request,) = receiver.received
    assert request.headers["X-Sendmako-Event"] == "webhook.test"
    assert request.headers["X-Sendmako-Signature"] == signing.sendmako_signature(
        str(hook["secret"]), request.body
    )
    log = (await alice.client.get(f"{HOOKS}/{hook_id}/deliveries")).json()
    delivery_id = log["deliveries"][0]["id"]
    again = await alice.client.post(f"{HOOKS}/deliveries/{delivery_id}/redeliver")
    assert again.json()["delivery"]["status"] == "pending"
    await dispatcher(hooked).run_once()
    assert len(receiver.received) == 2
    assert receiver.received[1].body == request.body
    assert (
        receiver.received[1].headers["X-Sendmako-Delivery"]
        == request.headers["X-Sendmako-Delivery"]
    )


async def test_others_deliveries_cannot_be_redelivered(
    hooked: Server, alice: Account, bob: Account
) -> None:
    hook = await add_hook(alice)
    await alice.client.post(f"{HOOKS}/{hook['webhook']['id']}/test")  # type: ignore[index]
    log = (await alice.client.get(f"{HOOKS}/{hook['webhook']['id']}/deliveries")).json()  # type: ignore[index]
    answer = await bob.client.post(f"{HOOKS}/deliveries/{log['deliveries'][0]['id']}/redeliver")
    assert answer.status_code == 404


async def test_deliveries_are_paged_newest_first(hooked: Server, alice: Account) -> None:
    hook_id = (await add_hook(alice))["webhook"]["id"]  # type: ignore[index]
    for _ in range(3):
        await alice.client.post(f"{HOOKS}/{hook_id}/test")
    page = (await alice.client.get(f"{HOOKS}/{hook_id}/deliveries?page=2&per_page=2")).json()
    assert (page["total"], len(page["deliveries"]), page["page"]) == (3, 1, 2)


async def test_pending_deliveries_survive_a_restart(
    hooked: Server, alice: Account, receiver: Receiver
) -> None:
    await add_hook(alice, events=["message.received"])
    session_id = await connect_sandbox(hooked, alice, "22241857975")
    await inbound(alice, session_id, "before the restart")
    await hooked.sessions.wait_for(session_id, [SessionStatus.CONNECTED], 1)
    await hooked.restart()
    await dispatcher(hooked).run_once()
    assert [b["data"]["body"] for b in receiver.bodies()] == ["before the restart"]  # type: ignore[index]


async def test_nothing_is_stored_when_the_state_change_rolls_back(
    hooked: Server, alice: Account
) -> None:
    """The outbox writes in the caller's transaction: a rollback leaves no event behind."""
    from sendmako.model.events import SessionEvent

    await add_hook(alice)
    assert hooked.app is not None
    services = hooked.app.state.services
    outbox = next(r for r in hooked.sessions.recorders if type(r).__name__ == "WebhookOutbox")

    async def failing_change() -> None:
        async with services.db.write() as tx:
            event = SessionEvent("session.connected", "user_9", {})
            await outbox.record(tx, alice.user.id, [event])
            raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    async with services.db.read() as db:
        assert await webhook_rows.pending_count(db) == 0
