"""WhatsApp's restrictions as session state (API.md "Sending safely"): a temporary ban holds
every send, a 463 holds sends to new contacts only; both announced, both lifted by
themselves, on a manual clock (no test sleeps)."""

from __future__ import annotations

import httpx
import pytest

from sendmako.model.restrictions import NEW_CONTACTS_HOLD_SECONDS
from tests.clock import ManualClock
from tests.harness import Account, Server, connect_sandbox
from tests.recording import EventLog

SESSIONS = "/api/whatsapp/sessions/"
SEND = "/api/send-message"
ME, KNOWN, STRANGER, OTHER = "22241857975", "221781234501", "221781234502", "221781234503"


@pytest.fixture
def clock(server: Server) -> ManualClock:
    clock = ManualClock()
    assert server.app is not None
    server.sessions.send_clock = clock
    server.app.state.services.sender.governor.clock = clock.now
    return clock


@pytest.fixture
async def events(server: Server) -> EventLog:
    log = EventLog()
    server.sessions.recorders.append(log)
    return log


async def send(alice: Account, session_id: str, to: str) -> httpx.Response:
    return await alice.client.post(
        SEND, json={"to": to, "type": "text", "text": "Bonjour", "session_id": session_id}
    )


async def restrict(alice: Account, session_id: str, **body: object) -> None:
    answer = await alice.client.post(f"/api/sandbox/sessions/{session_id}/restrict", json=body)
    assert answer.status_code == 200, answer.text


async def restriction(alice: Account, session_id: str) -> dict[str, object] | None:
    view = (await alice.client.get(f"{SESSIONS}{session_id}")).json()
    found: dict[str, object] | None = view["restriction"]
    return found


def refused(answer: httpx.Response) -> float:
    """503 session_restricted: its Retry-After, in seconds."""
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "session_restricted"
    return float(answer.headers["Retry-After"])


async def test_a_temporary_ban_holds_every_send_until_it_ends(
    server: Server, alice: Account, clock: ManualClock, events: EventLog
) -> None:
    """503 with Retry-After while banned, `session.restricted` with its code, reason and
    end; once it ends, `session.unrestricted` and sends go again, by themselves."""
    session_id = await connect_sandbox(server, alice, ME)
    await restrict(alice, session_id, kind="temporary_ban", seconds=3_600, code=102)
    await events.wait_for(lambda log: bool(log.named("session.restricted")))
    (announced,) = events.named("session.restricted", session_id)
    assert announced.data["kind"] == "temporary_ban"
    assert announced.data["code"] == 102
    assert "blocked" in str(announced.data["reason"])
    shown = await restriction(alice, session_id)
    assert shown is not None
    assert shown["kind"] == "temporary_ban"
    assert shown["until"] is not None
    retry_after = refused(await send(alice, session_id, KNOWN))
    assert 3_500 <= retry_after <= 3_700  # the sandbox reads the wall clock
    await clock.wait_sleeping()
    clock.advance(3_700)  # the sandbox's ban ends an hour after it began, on the wall clock
    await events.wait_for(lambda log: bool(log.named("session.unrestricted")))
    assert events.named("session.unrestricted")[0].data == {"kind": "temporary_ban", "code": 102}
    assert await restriction(alice, session_id) is None
    assert (await send(alice, session_id, KNOWN)).status_code == 200


async def test_a_ban_outlives_a_restart_and_still_lifts(
    server: Server, alice: Account, clock: ManualClock, events: EventLog
) -> None:
    session_id = await connect_sandbox(server, alice, ME)
    await restrict(alice, session_id, kind="temporary_ban", seconds=600)
    await events.wait_for(lambda log: bool(log.named("session.restricted")))
    await server.restart()
    refused(await send(alice, session_id, KNOWN))
    assert (await restriction(alice, session_id)) is not None


async def test_a_463_holds_new_contacts_only_and_is_not_retried_blindly(
    server: Server, alice: Account, clock: ManualClock, events: EventLog
) -> None:
    """The first refused send sets the restriction; later sends to new contacts are held
    before reaching WhatsApp (one announcement, not one per send); known contacts still
    get their messages; it lifts after its hold, and a single send tries again."""
    session_id = await connect_sandbox(server, alice, ME)
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={"from": KNOWN, "type": "text", "text": "Salut"},
    )
    assert answer.status_code == 200, answer.text
    await restrict(alice, session_id, kind="new_contacts", seconds=3_600)
    retry_after = refused(await send(alice, session_id, STRANGER))
    assert NEW_CONTACTS_HOLD_SECONDS - 2 <= retry_after <= NEW_CONTACTS_HOLD_SECONDS + 1
    shown = await restriction(alice, session_id)
    assert shown is not None
    assert (shown["kind"], shown["code"]) == ("new_contacts", 463)
    refused(await send(alice, session_id, OTHER))
    refused(await send(alice, session_id, STRANGER))
    assert (await send(alice, session_id, KNOWN)).status_code == 200
    assert len(events.named("session.restricted")) == 1
    await clock.wait_sleeping()
    clock.advance(NEW_CONTACTS_HOLD_SECONDS + 1)
    await events.wait_for(lambda log: bool(log.named("session.unrestricted")))
    # Once lifted, one new try reaches WhatsApp; still refused, it is held again.
    refused(await send(alice, session_id, STRANGER))
    assert len(events.named("session.restricted")) == 2
    refused(await send(alice, session_id, OTHER))
    assert len(events.named("session.restricted")) == 2
