"""The webhooks pages: endpoints from creation to deletion, the secret shown only on demand,
test events and the delivery log with redelivery, and another user's endpoints and
deliveries out of reach."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import structlog

from sendmako.app import WebhookSeams
from sendmako.net.mock import MockClient, Request, Response
from sendmako.settings import Settings
from sendmako.storage.records import UserRecord
from sendmako.webhooks.dispatcher import Dispatcher
from sendmako.webhooks.endpoints import Endpoints
from tests.dashboard.client import Dashboard, Page, member
from tests.harness import Server, running

URL = "https://hooks.example.com/sendmako"
HOOKS = "/dashboard/webhooks"


@dataclass
class Receiver:
    """The webhook receiver, a plain function: answers `status` with `body`."""

    status: int = 200
    body: str = "ok"
    received: list[Request] = field(default_factory=list)

    def handle(self, request: Request) -> Response:
        self.received.append(request)
        return Response(self.status, self.body)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def server(settings: Settings, receiver: Receiver) -> AsyncIterator[Server]:
    """Deliveries go to `receiver`; queued ones only when the test calls run_once()."""
    client = MockClient(receiver.handle)
    async with running(settings, WebhookSeams(client=client, background=False)) as started:
        yield started


def endpoints(server: Server) -> Endpoints:
    assert server.app is not None
    found: Endpoints = server.app.state.services.webhooks
    return found


def dispatcher(server: Server) -> Dispatcher:
    assert server.app is not None
    found: Dispatcher = server.app.state.services.dispatcher
    return found


async def add(dashboard: Dashboard, **form: str | list[str]) -> int:
    page = await dashboard.post(HOOKS, {"url": URL, "enabled": "on", **form})
    assert page.status == 303, page.text[:800]
    return int(page.response.headers["location"].rsplit("/", 1)[1])


async def secret_of(server: Server, user: UserRecord, webhook_id: int) -> str:
    return (await endpoints(server).get(user, webhook_id)).secret


def deliveries(page: Page) -> list[tuple[str, str]]:
    """(event, status) of each delivery shown, top to bottom."""
    return re.findall(
        r'data-event="([^"]+)">\s*<div class="delivery-head">[\s\S]*?data-status="(\w+)"',
        page.response.text,
    )


async def test_a_webhook_from_creation_to_deletion(server: Server) -> None:
    """Add (events ticked, a session chosen), see it listed, edit it back to every event,
    disable and enable it, delete it after a confirmation: the API sees each change."""
    alice, dashboard = await member(server, "alice@example.com")
    created = await alice.client.post("/api/whatsapp/sessions/", json={"session_name": "Ventes"})
    session_id = created.json()["session_id"]
    empty = await dashboard.get(HOOKS)
    assert "No webhook yet." in empty.text
    assert '<a href="/dashboard/webhooks" aria-current="page">Webhooks</a>' in empty.text
    assert f'value="{session_id}"' in empty.text, "the user's sessions are offered"

    webhook_id = await add(
        dashboard, events=["message.received"], session_ids=[session_id], description="CRM"
    )
    page = await dashboard.get(f"{HOOKS}/{webhook_id}")
    assert "Webhook added." in page.text
    assert f'<span class="url">{URL}</span>' in page.text
    listing = await dashboard.get(HOOKS)
    row = re.search(rf'data-webhook-id="{webhook_id}"[\s\S]*?</tr>', listing.text)
    assert row, listing.text
    assert "<code>message.received</code>" in row[0]
    assert f'<span title="{session_id}">Ventes</span>' in row[0]
    assert 'data-enabled="true"' in row[0]
    api = (await alice.client.get(f"/api/webhooks/{webhook_id}")).json()["webhook"]
    assert (api["events"], api["session_ids"], api["description"]) == (
        ["message.received"],
        [session_id],
        "CRM",
    )

    edited = await dashboard.post(
        f"{HOOKS}/{webhook_id}/edit", {"url": URL + "/v2", "description": ""}
    )
    assert "Webhook saved." in (await dashboard.follow(edited)).text
    api = (await alice.client.get(f"/api/webhooks/{webhook_id}")).json()["webhook"]
    assert (api["url"], api["events"], api["session_ids"]) == (URL + "/v2", None, None)
    listing = await dashboard.get(HOOKS)
    assert "All events" in listing.text
    assert "All sessions" in listing.text

    disabled = await dashboard.post(f"{HOOKS}/{webhook_id}/enabled", {"enabled": "0"})
    assert "Webhook disabled" in (await dashboard.follow(disabled)).text
    assert (await alice.client.get(f"/api/webhooks/{webhook_id}")).json()["webhook"][
        "enabled"
    ] is False
    enabled = await dashboard.post(f"{HOOKS}/{webhook_id}/enabled", {"enabled": "1"})
    assert 'data-enabled="true"' in (await dashboard.follow(enabled)).text

    confirm = await dashboard.get(f"{HOOKS}/{webhook_id}/delete")
    assert f"Delete the webhook {URL}/v2?" in confirm.text
    assert (await alice.client.get(f"/api/webhooks/{webhook_id}")).status_code == 200
    deleted = await dashboard.post(f"{HOOKS}/{webhook_id}/delete")
    assert f"Webhook {URL}/v2 deleted." in (await dashboard.follow(deleted)).text
    assert (await alice.client.get(f"/api/webhooks/{webhook_id}")).status_code == 404


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"url": "http://internal.example.com/hook"},
            "url",
            "url: the URL's host internal.example.com points to a private address, which this "
            "server does not fetch (the operator can allow it with SENDMAKO_ALLOW_PRIVATE_HOSTS).",
        ),
        (
            {"url": "ftp://hooks.example.com/x"},
            "url",
            "url: must be an http:// or https:// URL with a host",
        ),
        ({"url": ""}, "url", "URL: this field is required."),
        ({"url": "http://[/"}, "url", "url: not a valid URL (Invalid IPv6 URL)"),
        (
            {"url": "https://hooks.example.com\uff20127.0.0.1/"},
            "url",
            "url: not a valid URL (netloc 'hooks.example.com\uff20127.0.0.1' contains invalid "
            "characters under NFKC normalization)",
        ),
        (
            {"url": URL, "events": "message.recieved"},
            "events",
            "Events: message.recieved is not one of the choices offered.",
        ),
        (
            {"url": URL, "session_ids": "user_999"},
            "session_ids",
            "Sessions: user_999 is not one of the choices offered.",
        ),
    ],
)
async def test_refusals_name_the_field_and_keep_what_was_typed(
    server: Server, form: dict[str, str], field: str, message: str
) -> None:
    """A refused form comes back with the reason under the field at fault (the API's own
    reason for a URL the server will not call) and the values as they were sent."""
    alice, dashboard = await member(server, "alice@example.com")
    page = await dashboard.post(HOOKS, {"description": "kept", **form})
    assert page.status == 400
    error = re.search(
        rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', page.response.text
    )
    assert error, page.text
    assert html.unescape(error[1]) == message
    assert 'value="kept"' in page.text
    assert (await alice.client.get("/api/webhooks")).json()["webhooks"] == []


async def test_the_secret_is_shown_only_when_asked(server: Server) -> None:
    """Neither the list nor the webhook's page holds the secret; the reveal button's answer
    does, once. Rotating shows the new one once; the old one is gone."""
    alice, dashboard = await member(server, "alice@example.com")
    webhook_id = await add(dashboard)
    secret = await secret_of(server, alice.user, webhook_id)
    assert secret.startswith("whsec_")
    listing = await dashboard.get(HOOKS)
    page = await dashboard.get(f"{HOOKS}/{webhook_id}")
    for shown in (listing, page):
        assert secret not in shown.text
    assert f"whsec_…{secret[-4:]}" in page.text

    revealed = await dashboard.post(f"{HOOKS}/{webhook_id}/secret")
    assert revealed.status == 200
    assert f'<code id="secret" class="secret-value">{secret}</code>' in revealed.response.text
    assert revealed.response.headers["cache-control"] == "no-store"
    assert "data-live-log" not in revealed.text, "the answer never reloads itself"
    assert secret not in (await dashboard.get(f"{HOOKS}/{webhook_id}")).text

    confirm = await dashboard.get(f"{HOOKS}/{webhook_id}/rotate")
    assert f"Rotate the signing secret of {URL}?" in confirm.text
    assert await secret_of(server, alice.user, webhook_id) == secret, "asking is not rotating"
    with structlog.testing.capture_logs() as logs:
        rotated = await dashboard.post(f"{HOOKS}/{webhook_id}/rotate")
    new = await secret_of(server, alice.user, webhook_id)
    assert new != secret
    assert f'<code id="new-secret" class="secret-value">{new}</code>' in rotated.response.text
    assert secret not in rotated.text
    assert any(entry["event"] == "dashboard.webhook_secret_rotated" for entry in logs)
    assert new not in repr(logs), "secrets never reach the log"
    assert new not in (await dashboard.get(f"{HOOKS}/{webhook_id}")).text


async def test_a_test_event_shows_its_result_and_lands_in_the_log(
    server: Server, receiver: Receiver
) -> None:
    """A delivered test says HTTP 200 and its latency; a refused one says why and waits for
    its retry; redelivering it (the receiver fixed) turns it delivered, with both attempts."""
    _, dashboard = await member(server, "alice@example.com")
    webhook_id = await add(dashboard)
    sent = await dashboard.post(f"{HOOKS}/{webhook_id}/test")
    page = await dashboard.follow(sent)
    assert re.search(r"Test event delivered: HTTP 200 in \d+ ms\.", page.text)
    assert receiver.received[0].headers["x-sendmako-event"] == "webhook.test"
    assert deliveries(page) == [("webhook.test", "succeeded")]
    assert '<strong data-status-code="200">HTTP 200</strong>' in page.text
    assert '<pre class="excerpt"' in page.text
    assert "<code>ok</code>" in page.text

    receiver.status, receiver.body = 500, "boom: database down"
    failed = await dashboard.follow(await dashboard.post(f"{HOOKS}/{webhook_id}/test"))
    assert re.search(r"Test event not delivered \(HTTP 500\) after \d+ ms\.", failed.text)
    assert '<div class="flash flash-error"' in failed.text
    assert deliveries(failed) == [("webhook.test", "pending"), ("webhook.test", "succeeded")]
    assert "boom: database down" in failed.text
    assert "Next attempt " in failed.text

    receiver.status, receiver.body = 200, "fixed"
    delivery_id = re.search(r"/dashboard/webhooks/deliveries/(\d+)/redeliver", failed.text)
    assert delivery_id
    again = await dashboard.post(f"/dashboard/webhooks/deliveries/{delivery_id[1]}/redeliver")
    assert again.response.headers["location"] == f"{HOOKS}/{webhook_id}"
    assert "webhook.test queued for delivery again." in (await dashboard.follow(again)).text
    await dispatcher(server).run_once()
    log = await dashboard.get(f"{HOOKS}/{webhook_id}")
    assert deliveries(log) == [("webhook.test", "succeeded"), ("webhook.test", "succeeded")]
    newest = log.response.text.split('class="delivery"')[1]
    assert re.findall(r'data-status-code="(\d+)"', newest) == ["500", "200"]


async def test_the_log_is_paged_newest_first_and_followed_by_its_token(server: Server) -> None:
    """21 deliveries: 20 on the first page, the oldest alone on the second. The live token
    the page's script polls changes when a delivery arrives."""
    alice, dashboard = await member(server, "alice@example.com")
    webhook_id = await add(dashboard)
    for _ in range(21):
        await endpoints(server).send_test(alice.user, webhook_id)
    first = await dashboard.get(f"{HOOKS}/{webhook_id}")
    ids = [int(i) for i in re.findall(r'data-delivery-id="(\d+)"', first.text)]
    assert len(ids) == 20
    assert ids == sorted(ids, reverse=True)
    assert "Page 1 of 2" in first.text
    assert f'href="{HOOKS}/{webhook_id}?page=2#deliveries"' in first.text
    second = await dashboard.get(f"{HOOKS}/{webhook_id}", page="2")
    assert [int(i) for i in re.findall(r'data-delivery-id="(\d+)"', second.text)] == [min(ids) - 1]
    assert "Page 2 of 2" in second.text
    assert (await dashboard.get(f"{HOOKS}/{webhook_id}", page="0")).status == 400

    token = re.search(r'data-token="([0-9a-f]+)"', first.text)
    assert token
    live = f"/dashboard/live/webhooks/{webhook_id}"
    assert (await dashboard.http.get(live)).json() == {"token": token[1]}
    await endpoints(server).send_test(alice.user, webhook_id)
    assert (await dashboard.http.get(live)).json()["token"] != token[1]


async def test_another_users_webhook_and_deliveries_are_not_found(server: Server) -> None:
    """Bob's endpoint and its deliveries answer 404 on every dashboard path for Alice, and
    stay as they were."""
    bob, bob_dashboard = await member(server, "bob@example.com")
    theirs = await add(bob_dashboard)
    outcome = await endpoints(server).send_test(bob.user, theirs)
    secret = await secret_of(server, bob.user, theirs)
    _, alice = await member(server, "alice@example.com")
    for path in (f"{HOOKS}/{theirs}", f"{HOOKS}/{theirs}/delete", f"{HOOKS}/{theirs}/rotate"):
        page = await alice.get(path)
        assert (page.status, path) == (404, path)
        assert "This webhook does not exist." in page.text
    for action, form in (
        ("edit", {"url": "https://hooks.example.com/stolen"}),
        ("enabled", {"enabled": "0"}),
        ("secret", {}),
        ("rotate", {}),
        ("test", {}),
        ("delete", {}),
    ):
        page = await alice.post(f"{HOOKS}/{theirs}/{action}", form)
        assert (page.status, action) == (404, action)
        assert secret not in page.text
    redeliver = await alice.post(f"{HOOKS}/deliveries/{outcome.delivery_id}/redeliver")
    assert redeliver.status == 404
    assert "This delivery does not exist." in redeliver.text
    assert (await alice.http.get(f"/dashboard/live/webhooks/{theirs}")).status_code == 404
    assert URL not in (await alice.get(HOOKS)).text

    kept = await endpoints(server).get(bob.user, theirs)
    assert (kept.url, kept.enabled, kept.secret) == (URL, True, secret)
    _, shown = await endpoints(server).deliveries(bob.user, theirs, page=1, per_page=10)
    assert [(d.status, d.attempts) for d in shown] == [("succeeded", 1)]
