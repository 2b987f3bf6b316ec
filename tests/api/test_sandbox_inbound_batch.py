"""A burst of incoming messages on a sandbox session, in one call: all arrive in order, as
stored messages and message.received events; one bad message and none arrives."""

from __future__ import annotations

import base64

import pytest

from sendmako.settings import Settings
from tests import media_samples
from tests.harness import Account, Server, connect_sandbox
from tests.recording import EventLog


@pytest.fixture
async def events(server: Server) -> EventLog:
    log = EventLog()
    server.sessions.recorders.append(log)
    return log


def burst(count: int) -> list[dict[str, object]]:
    return [{"from": f"22178123{n:04d}", "type": "text", "text": f"n{n}"} for n in range(count)]


async def test_a_burst_arrives_whole_and_in_order(
    server: Server, alice: Account, events: EventLog
) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound/batch", json={"messages": burst(30)}
    )
    assert answer.status_code == 200, answer.text
    ids = answer.json()["message_ids"]
    assert len(set(ids)) == 30
    received = events.named("message.received", session_id)
    assert [e.data["message_id"] for e in received] == ids
    assert [e.data["body"] for e in received] == [f"n{n}" for n in range(30)]
    assert received[7].data["from"] == "221781230007"


async def test_one_bad_message_is_named_and_none_arrives(
    server: Server, alice: Account, events: EventLog
) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975")
    messages = burst(5)
    messages[3] = {"from": "221781234567", "type": "text"}
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound/batch", json={"messages": messages}
    )
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("messages[3].text:")
    assert events.named("message.received", session_id) == []


@pytest.mark.parametrize("count", [0, 101])
async def test_a_burst_holds_1_to_100_messages(server: Server, alice: Account, count: int) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound/batch", json={"messages": burst(count)}
    )
    assert answer.status_code == 400
    assert "messages" in answer.json()["message"]


async def test_another_users_session_is_not_found(
    server: Server, alice: Account, bob: Account
) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975")
    answer = await bob.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound/batch", json={"messages": burst(1)}
    )
    assert answer.status_code == 404


async def test_a_burst_takes_media_by_base64_only(
    server: Server, alice: Account, events: EventLog
) -> None:
    """A URL per message would hold up to 100 downloads in memory for one request."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    messages = burst(3)
    messages[1] = {"from": "221781234567", "type": "image", "imageUrl": "https://x.test/a.png"}
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound/batch", json={"messages": messages}
    )
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("messages[1].imageUrl: a burst takes media by")
    assert events.named("message.received", session_id) == []


async def test_a_burst_to_a_session_that_is_not_connected_delivers_nothing(
    server: Server, alice: Account, events: EventLog
) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975")
    lost = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/disconnect", json={"reason": "logged_out"}
    )
    assert lost.status_code == 200, lost.text
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound/batch", json={"messages": burst(3)}
    )
    assert answer.status_code == 503
    assert events.named("message.received", session_id) == []


async def test_a_burst_that_fails_its_checks_stores_no_media(
    server: Server, alice: Account, events: EventLog, settings: Settings
) -> None:
    """The image of message 0 is fine, message 1 is not: nothing reaches the sandbox's
    media store either."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    image = base64.b64encode(media_samples.png(20, 20)).decode()
    messages: list[dict[str, object]] = [
        {"from": "221781234567", "type": "image", "imageBase64": image},
        {"from": "not a number", "type": "text", "text": "hi"},
    ]
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound/batch", json={"messages": messages}
    )
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("messages[1].from:")
    store = settings.data_dir / "sandbox-media"
    assert not store.exists() or not any(store.iterdir())
    messages.pop()
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound/batch", json={"messages": messages}
    )
    assert answer.status_code == 200, answer.text
    assert any(store.iterdir()), "the same image alone is stored"
