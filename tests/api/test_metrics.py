"""GET /metrics: Prometheus text that parses, counts what happened (requests by route
template, sends, receipts, webhook attempts and lag, sessions and their queues), and
answers only an admin's key, or anyone on the scraper's own listener."""

from __future__ import annotations

import random
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sendmako.app import WebhookSeams
from sendmako.net.mock import MockClient, Request, Response
from sendmako.settings import MetricsSettings, Settings
from tests.harness import Account, Server, connect_sandbox, running

DASHBOARD = (Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text()

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample, by name and labels (raises on text that is not Prometheus's format)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(server: Server) -> Samples:
    assert server.admin_key is not None
    answer = await server.client(server.admin_key).get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(answer.text)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    """Webhooks go to a receiver that is a plain function, delivered on `run_once()`."""
    seams = WebhookSeams(
        client=MockClient(lambda _request: Response(200, "ok")),
        rng=random.Random(0),
        background=False,
    )
    async with running(settings, seams) as started:
        yield started


async def test_anonymous_and_non_admin_scrapes_are_refused(server: Server, alice: Account) -> None:
    """No key: 401; a user's key: 403; an admin's: the metrics."""
    assert (await server.client().get("/metrics")).status_code == 401
    refused = await alice.client.get("/metrics")
    assert refused.status_code == 403
    assert refused.json()["code"] == "admin_only"
    await scrape(server)


async def test_requests_are_labelled_by_route_template(server: Server, alice: Account) -> None:
    """A path with an id counts under its template; a path nothing matches under "other"."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    before = await scrape(server)
    route = "/api/whatsapp/sessions/{session_id}"
    for _ in range(3):
        assert (await alice.client.get(f"/api/whatsapp/sessions/{session_id}")).status_code == 200
    assert (await alice.client.get("/api/nothing-here/123")).status_code == 404
    after = await scrape(server)
    name = "sendmako_http_request_duration_seconds_count"
    labels = {"method": "GET", "route": route, "status": "200"}
    assert value(after, name, **labels) - value(before, name, **labels) == 3
    other = {"method": "GET", "route": "other", "status": "404"}
    assert value(after, name, **other) - value(before, name, **other) == 1
    assert not any(session_id in dict(labels).get("route", "") for _n, labels in after)


async def test_counts_a_send_a_receipt_and_a_webhook_delivery(
    server: Server, alice: Account
) -> None:
    """A message sent and one received count for their session; the webhook backlog shows
    the pending delivery, then the successful attempt and its lag once delivered."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    hook = await alice.client.post(
        "/api/webhooks",
        json={"url": "https://hooks.example.com/in", "events": ["message.received"]},
    )
    assert hook.status_code == 201, hook.text
    before = await scrape(server)
    sent = await alice.client.post(
        "/api/send-message",
        json={"to": "221781234567", "type": "text", "text": "hello", "session_id": session_id},
    )
    assert sent.status_code == 200, sent.text
    inbound = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={"from": "221781234567", "type": "text", "text": "hi"},
    )
    assert inbound.status_code == 200, inbound.text
    pending = await scrape(server)
    assert value(pending, "sendmako_webhook_pending_deliveries") >= 1
    assert server.app is not None
    await server.app.state.services.dispatcher.run_once()
    after = await scrape(server)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("sendmako_messages_sent_total", session_id=session_id) == 1
    assert grew("sendmako_messages_received_total", session_id=session_id) == 1
    assert grew("sendmako_webhook_attempts_total", outcome="succeeded") >= 1
    assert grew("sendmako_webhook_delivery_lag_seconds_count") >= 1
    assert value(after, "sendmako_webhook_pending_deliveries") == 0
    status = {"session_id": session_id, "engine": "sandbox", "status": "connected"}
    assert value(after, "sendmako_session_status", **status) == 1
    assert value(after, "sendmako_sessions", status="connected") >= 1
    assert ("sendmako_session_queue_depth", frozenset({("session_id", session_id)})) in after


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_the_scraper_listener_needs_no_key_and_serves_only_metrics(
    settings: Settings,
) -> None:
    """SENDMAKO_METRICS__LISTEN: /metrics without a key on its own port, nothing else there;
    on the API port the admin key is still needed."""
    port = free_port()
    listen = settings.model_copy(update={"metrics": MetricsSettings(listen=f"127.0.0.1:{port}")})
    async with (
        running(listen) as server,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as scraper,
    ):
        answer = await scraper.get("/metrics")
        assert answer.status_code == 200
        assert ("sendmako_webhook_pending_deliveries", frozenset()) in parse(answer.text)
        assert (await scraper.get("/api/whatsapp/sessions")).status_code == 404
        assert (await server.client().get("/metrics")).status_code == 401


async def test_delivery_to_a_failing_receiver_counts_as_retrying(
    settings: Settings,
) -> None:
    """An attempt answered 500 counts under outcome="retrying"."""

    def refuse(_request: Request) -> Response:
        return Response(500, "no")

    seams = WebhookSeams(client=MockClient(refuse), rng=random.Random(0), background=False)
    async with running(settings, seams) as server:
        alice = await server.account("alice@example.com")
        hooked = await alice.client.post(
            "/api/webhooks", json={"url": "https://hooks.example.com/in"}
        )
        assert hooked.status_code == 201
        before = await scrape(server)
        await connect_sandbox(server, alice, "22241857975")
        assert server.app is not None
        await server.app.state.services.dispatcher.run_once()
        after = await scrape(server)
    name = "sendmako_webhook_attempts_total"
    assert value(after, name, outcome="retrying") > value(before, name, outcome="retrying")


async def test_the_grafana_dashboard_asks_only_for_metrics_that_exist(server: Server) -> None:
    """Every metric docs/grafana-dashboard.json queries is one /metrics serves (the pool's
    only on PostgreSQL)."""
    queried = set(re.findall(r"sendmako_[a-z_]+", DASHBOARD))
    assert queried
    assert server.admin_key is not None
    text = (await server.client(server.admin_key).get("/metrics")).text
    served = {family.name for family in text_string_to_metric_families(text)}
    asked = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in queried}
    missing = {name for name in asked - served if not name.startswith("sendmako_db_pool")}
    assert missing == set()


async def test_a_deleted_sessions_series_go_away(server: Server, alice: Account) -> None:
    """Once a session is deleted, no series names it any more."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    sent = await alice.client.post(
        "/api/send-message",
        json={"to": "221781234567", "type": "text", "text": "hello", "session_id": session_id},
    )
    assert sent.status_code == 200, sent.text
    named = [key for key in await scrape(server) if ("session_id", session_id) in key[1]]
    assert {name for name, _labels in named} >= {
        "sendmako_messages_sent_total",
        "sendmako_session_status",
    }
    assert (await alice.client.delete(f"/api/whatsapp/sessions/{session_id}")).status_code == 200
    after = await scrape(server)
    assert [key for key in after if ("session_id", session_id) in key[1]] == []


async def test_a_restricted_session_says_so_until_it_lifts(server: Server, alice: Account) -> None:
    """WhatsApp's ban on a number is a series naming its kind and code, with the seconds
    left; the series goes once it is lifted."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    banned = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/restrict",
        json={"kind": "temporary_ban", "seconds": 3600, "code": 103},
    )
    assert banned.status_code == 200, banned.text
    await server.sessions.wait_until(
        session_id, lambda view: view.restriction is not None, timeout=5
    )
    labels = frozenset({("session_id", session_id), ("kind", "temporary_ban"), ("code", "103")})
    left = (await scrape(server))[("sendmako_session_restriction_seconds", labels)]
    assert 3500 < left <= 3600
    await server.sessions.lift(session_id)
    after = await scrape(server)
    assert ("sendmako_session_restriction_seconds", labels) not in after
