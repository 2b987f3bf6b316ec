"""The watchdog (API.md "Sending safely"): a sandbox session that looks connected but hears
nothing is probed and reconnected, with the usual webhooks; one that answers is left
alone; one that stays deaf is not reconnected in a storm. On a manual clock."""

from __future__ import annotations

import pytest

from sendmako.settings import Settings
from tests.clock import ManualClock
from tests.harness import Account, Server, connect_sandbox
from tests.recording import EventLog

SILENCE = 60.0
ME = "22241857975"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"watchdog_silence_seconds": SILENCE, "watchdog_max_reconnects_per_hour": 3}
    )


@pytest.fixture
def clock(server: Server) -> ManualClock:
    clock = ManualClock()
    server.sessions.send_clock = clock
    return clock


@pytest.fixture
async def events(server: Server) -> EventLog:
    log = EventLog()
    server.sessions.recorders.append(log)
    return log


async def deafen(alice: Account, session_id: str, *, for_good: bool = False) -> None:
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/deafen", json={"for_good": for_good}
    )
    assert answer.status_code == 200, answer.text


async def health(alice: Account, session_id: str) -> dict[str, object]:
    view = (await alice.client.get(f"/api/whatsapp/sessions/{session_id}")).json()
    found: dict[str, object] = view["health"]
    return found


def lifecycle(events: EventLog) -> list[tuple[str, dict[str, object]]]:
    return [
        (event.name, event.data)
        for _, event in events.events
        if event.name in ("session.connected", "session.disconnected")
    ]


async def test_a_deaf_session_is_probed_and_reconnected(
    server: Server, alice: Account, clock: ManualClock, events: EventLog
) -> None:
    session_id = await connect_sandbox(server, alice, ME)
    events.events.clear()  # its first connection
    await deafen(alice, session_id)
    await server.sessions.watch_once()  # not silent for long yet
    assert lifecycle(events) == []
    clock.advance(SILENCE)
    await server.sessions.watch_once()
    await events.wait_for(lambda log: len(lifecycle(log)) == 2)
    assert lifecycle(events) == [
        ("session.disconnected", {"reason": "connection_lost"}),
        ("session.connected", {"phone_number": ME}),
    ]
    assert (await health(alice, session_id))["reconnects_24h"] == 1
    # The new connection hears again.
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={"from": "221781234501", "type": "text", "text": "Salut"},
    )
    assert answer.status_code == 200, answer.text
    assert (await health(alice, session_id))["last_inbound_at"] == clock.now()


async def test_a_session_that_answers_the_probe_is_left_connected(
    server: Server, alice: Account, clock: ManualClock, events: EventLog
) -> None:
    session_id = await connect_sandbox(server, alice, ME)
    events.events.clear()  # its first connection
    clock.advance(SILENCE * 10)
    await server.sessions.watch_once()
    assert lifecycle(events) == []
    assert (await health(alice, session_id))["reconnects_24h"] == 0


async def test_a_session_deaf_for_good_does_not_reconnect_in_a_storm(
    server: Server, alice: Account, clock: ManualClock, events: EventLog
) -> None:
    """Each reconnection doubles the silence allowed before the next probe, and no more
    than the cap per hour happen."""
    session_id = await connect_sandbox(server, alice, ME)
    events.events.clear()  # its first connection
    await deafen(alice, session_id, for_good=True)
    for _ in range(60):  # an hour, a round a minute
        clock.advance(SILENCE)
        await server.sessions.watch_once()
    reconnections = [name for name, _ in lifecycle(events) if name == "session.disconnected"]
    assert len(reconnections) == 3
    assert (await health(alice, session_id))["reconnects_24h"] == 3
    await server.sessions.wait_for(session_id, ["connected"], timeout=5)  # type: ignore[list-item]
