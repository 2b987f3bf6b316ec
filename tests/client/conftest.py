"""One real `sendmako serve` process on loopback for the client, CLI and MCP tests, and a
connected sandbox session on it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server")


@pytest.fixture(scope="module")
def live(server_dir: Path) -> Iterator[LiveServer]:
    with serve(server_dir) as server:
        yield server


@pytest.fixture(scope="module")
def linked(live: LiveServer) -> Linked:
    return link(live, live.admin_key, "22241850001")


def new_account(server_dir: Path, email: str) -> str:
    """A second user on the server's database, made with `sendmako users create`: its key."""
    done = subprocess.run(
        [sys.executable, "-m", "sendmako", "users", "create", email],
        env={
            **os.environ,
            "SENDMAKO_DATA_DIR": str(server_dir),
            "SENDMAKO_ENGINES": "sandbox",
            "SENDMAKO_DEFAULT_ENGINE": "sandbox",
        },
        cwd=server_dir,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    match = re.search(r"wsa_[A-Za-z0-9]+", done.stdout)
    assert match, done.stdout + done.stderr
    return match.group(0)


def link(server: LiveServer, key: str, phone: str) -> Linked:
    with Client(server.url, key) as sendmako:
        created = sendmako.create_session("Ventes")
        sendmako.get_session(created.session_id, wait_for="qr_ready", timeout=10)
        sendmako.sandbox_scan(created.session_id, phone_number=phone, push_name="Ventes")
        connected = sendmako.get_session(created.session_id, wait_for="connected", timeout=10)
        assert connected.status == "connected"
        sendmako.update_session(created.session_id, pacing_ms=0)
    return Linked(server, key, created.session_id, phone)
