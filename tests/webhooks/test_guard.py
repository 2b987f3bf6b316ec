"""Webhook URLs go through the private-address guard: when saved, and again at delivery.
No test connects anywhere but loopback: the resolver is a table and the socket factory
records connection attempts."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from sendmako.app import NetworkSeams, WebhookSeams
from sendmako.settings import Settings
from tests.harness import Account, Server, connect_sandbox, running
from tests.network import RecordingSockets

HOOKS = "/api/webhooks"


@pytest.fixture
def table() -> dict[str, list[str]]:
    return {"hooks.example.com": ["93.184.215.14"], "internal.example.com": ["10.0.0.7"]}


@pytest.fixture
def connections() -> RecordingSockets:
    return RecordingSockets(real=False)


@pytest.fixture
async def server(
    settings: Settings, table: dict[str, list[str]], connections: RecordingSockets
) -> AsyncIterator[Server]:
    async def resolve(host: str, _port: int) -> list[IPv4Address | IPv6Address]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(address) for address in table[host]]

    network = NetworkSeams(resolver=resolve, sockets=connections)
    async with running(settings, WebhookSeams(background=False), network) as started:
        yield started


async def test_a_name_that_turned_private_is_refused_at_delivery_without_connecting(
    server: Server, alice: Account, table: dict[str, list[str]], connections: RecordingSockets
) -> None:
    """Saved while public, the name now resolves to a private address (DNS rebinding):
    the delivery fails with the guard's reason and no connection is attempted."""
    created = await alice.client.post(
        HOOKS, json={"url": "https://hooks.example.com/hook", "events": ["session.connected"]}
    )
    assert created.status_code == 201
    table["hooks.example.com"] = ["10.0.0.8"]
    await connect_sandbox(server, alice, "22241857975")
    assert server.app is not None
    await server.app.state.services.dispatcher.run_once()
    log = (await alice.client.get(f"{HOOKS}/{created.json()['webhook']['id']}/deliveries")).json()
    (delivery,) = log["deliveries"]
    assert delivery["status"] == "pending", "retried later, like any failed attempt"
    assert "private" in delivery["attempt_log"][0]["error"]
    assert delivery["attempt_log"][0]["status_code"] is None
    assert connections.attempts == []


@pytest.mark.parametrize(
    "url",
    [
        "http://internal.example.com/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://192.168.1.20/hook",
    ],
)
async def test_private_destinations_are_refused_when_saved(
    server: Server, alice: Account, url: str
) -> None:
    answer = await alice.client.post(HOOKS, json={"url": url})
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith("url:")
    assert answer.json()["code"] == "address_not_allowed"


async def test_an_unresolvable_host_is_refused_when_saved(server: Server, alice: Account) -> None:
    answer = await alice.client.post(HOOKS, json={"url": "https://nowhere.invalid/hook"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "host_unresolved"


async def test_allowed_hosts_may_be_private(server: Server, alice: Account) -> None:
    """The operator allowed 127.0.0.1 (tests/conftest.py): a local receiver is accepted."""
    answer = await alice.client.post(HOOKS, json={"url": "http://127.0.0.1:9/hook"})
    assert answer.status_code == 201
