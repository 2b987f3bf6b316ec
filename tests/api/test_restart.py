"""A server restart keeps every session and its status, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from sendmako.model.statuses import SessionStatus
from tests.harness import Server

SESSIONS = "/api/whatsapp/sessions/"
pytestmark = pytest.mark.usefixtures("backend")


async def test_restart_keeps_sessions_and_their_status(server: Server) -> None:
    """Linked sessions reconnect without a new scan; waiting ones show a new QR."""
    alice = await server.account("alice@example.com")
    linked = (await alice.client.post(SESSIONS, json={"session_name": "linked"})).json()
    waiting = (await alice.client.post(SESSIONS, json={"session_name": "waiting"})).json()
    await server.sessions.wait_for(linked["session_id"], [SessionStatus.QR_READY], 5)
    await alice.client.post(
        f"/api/sandbox/sessions/{linked['session_id']}/scan", json={"phone_number": "22241857975"}
    )

    await server.restart()

    connected = await server.sessions.wait_for(linked["session_id"], [SessionStatus.CONNECTED], 5)
    assert connected.phone_number == "22241857975"
    again = await server.sessions.wait_for(waiting["session_id"], [SessionStatus.QR_READY], 5)
    assert again.qr is not None
    listed = (await alice.client.get(SESSIONS)).json()
    assert [(s["session_name"], s["status"]) for s in listed] == [
        ("linked", "connected"),
        ("waiting", "qr_ready"),
    ]


async def test_logged_out_stays_logged_out_until_restarted(server: Server) -> None:
    """A session unlinked from the phone does not come back linked after a restart."""
    alice = await server.account("alice@example.com")
    sid = (await alice.client.post(SESSIONS, json={"session_name": "x"})).json()["session_id"]
    await server.sessions.wait_for(sid, [SessionStatus.QR_READY], 5)
    await alice.client.post(
        f"/api/sandbox/sessions/{sid}/scan", json={"phone_number": "22241857975"}
    )
    await alice.client.post(
        f"/api/sandbox/sessions/{sid}/disconnect", json={"reason": "logged_out"}
    )
    await server.restart()
    view = await server.sessions.wait_for(sid, [SessionStatus.QR_READY], 5)
    assert view.phone_number is None or view.status is SessionStatus.QR_READY
