"""The SessionManager emits session events inside the transaction of the state change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.model.events import (
    SessionEvent,
)
from sendmako.model.statuses import SessionStatus
from sendmako.storage import wa_sessions
from tests.harness import Account, Server

SESSIONS = "/api/whatsapp/sessions/"


@dataclass
class Recorder:
    events: list[tuple[int, SessionEvent, str | None]] = field(default_factory=list)

    async def record(self, tx: AsyncSession, user_id: int, events: Sequence[SessionEvent]) -> None:
        for event in events:
            # What the transaction already holds when the event is recorded.
            stored = await wa_sessions.get(tx, event.session_id)
            self.events.append((user_id, event, stored.status if stored else None))


async def test_lifecycle_events_in_order(server: Server, alice: Account) -> None:
    """qr_ready, connected, disconnected(connection_lost), connected, disconnected(logged_out):
    each recorded with the user and alongside the status it describes."""
    recorder = Recorder()
    server.sessions.recorders.append(recorder)
    sid = (await alice.client.post(SESSIONS, json={"session_name": "x"})).json()["session_id"]
    await server.sessions.wait_for(sid, [SessionStatus.QR_READY], 5)
    await alice.client.post(
        f"/api/sandbox/sessions/{sid}/scan", json={"phone_number": "22241857975"}
    )
    await alice.client.post(
        f"/api/sandbox/sessions/{sid}/disconnect",
        json={"reason": "connection_lost", "reconnect_after": 0},
    )
    await server.sessions.wait_until(
        sid, lambda _v: sum(e.name == "session.connected" for _, e, _s in recorder.events) == 2, 5
    )
    await alice.client.post(
        f"/api/sandbox/sessions/{sid}/disconnect", json={"reason": "logged_out"}
    )

    names = [(event.name, event.data.get("reason"), status) for _, event, status in recorder.events]
    assert names == [
        ("session.qr_ready", None, "qr_ready"),
        ("session.connected", None, "connected"),
        ("session.disconnected", "connection_lost", "disconnected"),
        ("session.connected", None, "connected"),
        ("session.disconnected", "logged_out", "logged_out"),
    ]
    assert {user_id for user_id, _, _ in recorder.events} == {alice.user.id}
    connected = recorder.events[1][1]
    assert connected.data == {"phone_number": "22241857975"}
    assert str(recorder.events[0][1].data["qr"]).startswith("data:image/png;base64,")
