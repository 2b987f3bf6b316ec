"""A sandbox number is one person's phone: another account cannot link it, or it would see
that person's messages and groups."""

from __future__ import annotations

from tests.harness import Account, Server, connect_sandbox


async def test_another_accounts_number_cannot_be_linked(
    server: Server, alice: Account, bob: Account
) -> None:
    await connect_sandbox(server, alice, "22241857975")
    created = await bob.client.post("/api/whatsapp/sessions/", json={"session_name": "mine"})
    session_id = created.json()["session_id"]
    await bob.client.get(f"/api/whatsapp/sessions/{session_id}?wait_for=qr_ready&timeout=5")
    taken = await bob.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "22241857975"}
    )
    assert taken.status_code == 422, taken.text
    assert taken.json()["code"] == "sandbox_number_taken"
    state = (await bob.client.get(f"/api/whatsapp/sessions/{session_id}")).json()
    assert state["status"] == "qr_ready", "still waiting for a number of its own"
    own = await bob.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "221781234567"}
    )
    assert own.status_code == 200, own.text


async def test_one_account_may_link_its_number_to_several_sessions(
    server: Server, alice: Account
) -> None:
    """Like a phone linked to several devices: both sessions are connected, on that number."""
    first = await connect_sandbox(server, alice, "22241857975")
    second = await connect_sandbox(server, alice, "22241857975")
    for session_id in (first, second):
        state = (await alice.client.get(f"/api/whatsapp/sessions/{session_id}")).json()
        assert (state["status"], state["phone_number"]) == ("connected", "22241857975")
