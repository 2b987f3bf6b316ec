"""`session.restricted` and `session.unrestricted` reach a webhook, signed like every
other event (API.md "Sending safely")."""

from __future__ import annotations

from sendmako.webhooks import signing
from tests.clock import ManualClock
from tests.harness import Account, Server, connect_sandbox
from tests.webhooks import test_delivery as delivery
from tests.webhooks.test_delivery import Receiver, add_hook, dispatcher

# The delivery tests' fixtures: a server whose dispatcher delivers when told to.
clock, receiver, server, hooked = (
    delivery.clock,
    delivery.receiver,
    delivery.server,
    delivery.hooked,
)


async def test_a_ban_and_its_end_are_delivered_signed(
    hooked: Server,
    alice: Account,
    receiver: Receiver,
) -> None:
    manual = ManualClock()
    hooked.sessions.send_clock = manual
    secret = str(
        (await add_hook(alice, events=["session.restricted", "session.unrestricted"]))["secret"]
    )
    session_id = await connect_sandbox(hooked, alice, "22241857975")
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/restrict",
        json={"kind": "temporary_ban", "seconds": 600, "code": 101},
    )
    assert answer.status_code == 200, answer.text
    await hooked.sessions.wait_until(session_id, lambda view: view.restriction is not None, 5)
    await manual.wait_sleeping()
    manual.advance(700)  # the sandbox's ban ends 600 s after it began, on the wall clock
    await hooked.sessions.wait_until(session_id, lambda view: view.restriction is None, 5)
    await dispatcher(hooked).run_once()
    bodies = receiver.bodies()
    assert [body["event"] for body in bodies] == ["session.restricted", "session.unrestricted"]
    restricted, lifted = (body["data"] for body in bodies)
    assert restricted["kind"] == "temporary_ban"  # type: ignore[index]
    assert restricted["code"] == 101  # type: ignore[index]
    assert "too many messages" in restricted["reason"]  # type: ignore[index]
    assert restricted["until"]  # type: ignore[index]
    assert lifted == {"kind": "temporary_ban", "code": 101}
    for request in receiver.received:
        assert request.headers["X-Sendmako-Signature"] == signing.sendmako_signature(
            secret, request.body
        )
        assert signing.verify_standard(secret, dict(request.headers), request.body)
