"""One real `sendmako serve` process on loopback for the client, CLI and MCP tests, and a
connected sandbox session on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sendmako.client import Client
from tests.contract.live import LiveServer, serve


@dataclass
class Linked:
    """A sandbox session scanned with `phone`, of the user whose key is `key`."""

    server: LiveServer
    key: str
    session_id: str
    phone: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory.mktemp("server")) as server:
        yield server


@pytest.fixture(scope="module")
def linked(live: LiveServer) -> Linked:
    return link(live, live.admin_key, "22241850001")


def link(server: LiveServer, key: str, phone: str) -> Linked:
    with Client(server.url, key) as sendmako:
        created = sendmako.create_session("Ventes")
        sendmako.get_session(created.session_id, wait_for="qr_ready", timeout=10)
        sendmako.sandbox_scan(created.session_id, phone_number=phone, push_name="Ventes")
        connected = sendmako.get_session(created.session_id, wait_for="connected", timeout=10)
        assert connected.status == "connected"
        sendmako.update_session(created.session_id, pacing_ms=0)
    return Linked(server, key, created.session_id, phone)
