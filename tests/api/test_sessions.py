"""The sessions API: create, status and QR, rename, delete, pair-code, restart, limits."""

from __future__ import annotations

import pytest

from sendmako.model.send_policy import SendPolicy
from sendmako.model.statuses import SessionStatus
from sendmako.settings import Settings
from tests.harness import Account, Server, running
from tests.qrcodes import decode

SESSIONS = "/api/whatsapp/sessions/"


async def create(account: Account, name: str = "Personnel") -> dict[str, object]:
    response = await account.client.post(SESSIONS, json={"session_name": name})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def qr_ready(server: Server, session_id: str) -> None:
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)


async def test_create_answers_201_connecting_then_shows_a_scannable_qr(
    server: Server, alice: Account
) -> None:
    """A new session starts connecting; its QR is a PNG data URL a camera can read."""
    created = await create(alice)
    assert created == {
        "success": True,
        "id": created["id"],
        "session_id": f"user_{alice.user.id}",
        "session_name": "Personnel",
        "status": "connecting",
        "engine": "sandbox",
    }
    await qr_ready(server, f"user_{alice.user.id}")
    status = (await alice.client.get(f"{SESSIONS}user_{alice.user.id}/")).json()
    assert status["status"] == "qr_ready"
    assert decode(status["qr"]).startswith(f"sendmako-sandbox:user_{alice.user.id}:")


async def test_the_qr_rotates_like_whatsapps(settings: Settings) -> None:
    """While waiting, the QR is replaced by a new one; the old one can no longer be scanned."""
    fast = settings.model_copy(
        update={"sandbox": settings.sandbox.model_copy(update={"qr_rotate_seconds": 0.05})}
    )
    async with running(fast) as server:
        alice = await server.account("alice@example.com")
        session_id = str((await create(alice))["session_id"])
        await qr_ready(server, session_id)
        first = (await alice.client.get(f"{SESSIONS}{session_id}")).json()["qr"]
        second = await server.sessions.wait_until(
            session_id, lambda view: view.qr not in (None, first), timeout=5
        )
        assert decode(str(second.qr)) != decode(first)
        stale = await alice.client.post(
            f"/api/sandbox/sessions/{session_id}/scan",
            json={"phone_number": "22241857975", "qr": decode(first)},
        )
        assert stale.status_code == 422
        assert stale.json()["code"] == "qr_expired"


async def test_scanning_connects_with_the_phone_number(server: Server, alice: Account) -> None:
    """Scanning links the number: status connected, phone digits only, no QR."""
    session_id = str((await create(alice))["session_id"])
    await qr_ready(server, session_id)
    scanned = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "+222 41 85 79 75"}
    )
    assert scanned.status_code == 200, scanned.text
    status = (await alice.client.get(f"{SESSIONS}{session_id}")).json()
    assert (status["status"], status["phone_number"], status["qr"]) == (
        "connected",
        "22241857975",
        None,
    )


async def test_session_ids_follow_the_original_scheme(server: Server, alice: Account) -> None:
    """`user_<id>` for the first session, `user_<id>_<row id>` afterwards; the list is
    oldest first."""
    first = await create(alice, "Personnel")
    second = await create(alice, "Professionnel")
    uid = alice.user.id
    assert first["session_id"] == f"user_{uid}"
    assert second["session_id"] == f"user_{uid}_{second['id']}"
    listed = (await alice.client.get(SESSIONS)).json()
    assert [s["session_id"] for s in listed] == [first["session_id"], second["session_id"]]
    assert set(listed[0]) >= {"id", "session_id", "session_name", "status", "phone_number", "qr"}


async def test_rename(server: Server, alice: Account) -> None:
    """PATCH changes the display name and answers it."""
    session_id = (await create(alice))["session_id"]
    renamed = await alice.client.patch(
        f"{SESSIONS}{session_id}/", json={"session_name": "Ma ligne pro"}
    )
    assert renamed.json() == {
        "success": True,
        "session_name": "Ma ligne pro",
        "pacing_ms": 500,
        "reject_calls": False,
        "reject_calls_message": None,
        # The test server's default policy (tests/conftest.py).
        "send_policy": SendPolicy.unlimited().to_stored(),
    }
    assert (await alice.client.get(f"{SESSIONS}{session_id}")).json()["session_name"] == (
        "Ma ligne pro"
    )


async def test_delete_logs_out_and_forgets_the_session(server: Server, alice: Account) -> None:
    """DELETE unlinks the device, then the session is gone (404) and its slot is free."""
    session_id = str((await create(alice))["session_id"])
    await qr_ready(server, session_id)
    await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "22241857975"}
    )
    deleted = await alice.client.delete(f"{SESSIONS}{session_id}/")
    assert deleted.json() == {"success": True}
    assert (await alice.client.get(f"{SESSIONS}{session_id}")).status_code == 404
    assert (await alice.client.get(SESSIONS)).json() == []


async def test_pair_code_links_without_a_camera(server: Server, alice: Account) -> None:
    """pair-code returns 8 characters; typing them on the phone links that number."""
    session_id = str((await create(alice))["session_id"])
    await qr_ready(server, session_id)
    answer = await alice.client.post(
        f"{SESSIONS}{session_id}/pair-code", json={"phone_number": "+221 78 123 45 67"}
    )
    assert answer.status_code == 200, answer.text
    code = answer.json()["pair_code"]
    assert len(code) == 8
    assert code.isalnum()
    typed = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"pair_code": code}
    )
    assert typed.json()["status"] == "connected"
    assert typed.json()["phone_number"] == "221781234567"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"phone_number": "22241857975", "qr": "sendmako-sandbox:café"}, "qr_expired"),
        ({"pair_code": "ABCD-123É"}, "pair_code_invalid"),
        ({"pair_code": "€€€€€€€€"}, "pair_code_invalid"),
    ],
    ids=["qr", "pair_code", "pair_code_all_non_ascii"],
)
async def test_a_code_that_is_not_ascii_is_a_wrong_code(
    server: Server, alice: Account, body: dict[str, str], code: str
) -> None:
    """A QR payload or pairing code with non-ASCII characters is refused like any wrong
    one (422), never a 500; the login still waits for the right one."""
    session_id = str((await create(alice))["session_id"])
    await qr_ready(server, session_id)
    issued = await alice.client.post(
        f"{SESSIONS}{session_id}/pair-code", json={"phone_number": "+221 78 123 45 67"}
    )
    assert issued.status_code == 200, issued.text
    typed = await alice.client.post(f"/api/sandbox/sessions/{session_id}/scan", json=body)
    assert (typed.status_code, typed.json()["code"]) == (422, code), typed.text
    pair = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"pair_code": issued.json()["pair_code"]}
    )
    assert pair.json()["status"] == "connected"


async def test_pair_code_needs_a_waiting_login(server: Server, alice: Account) -> None:
    """Once connected there is nothing to pair: 422 naming the status; a bad number: 400."""
    session_id = str((await create(alice))["session_id"])
    await qr_ready(server, session_id)
    bad = await alice.client.post(f"{SESSIONS}{session_id}/pair-code", json={"phone_number": "12"})
    assert bad.status_code == 400
    assert "phone_number" in bad.json()["message"]
    await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "22241857975"}
    )
    late = await alice.client.post(
        f"{SESSIONS}{session_id}/pair-code", json={"phone_number": "22241857975"}
    )
    assert late.status_code == 422
    assert "connected" in late.json()["message"]


async def test_logged_out_session_gets_a_new_qr_on_restart(server: Server, alice: Account) -> None:
    """Unlinked from the phone: logged_out, then restart starts a fresh QR login."""
    session_id = str((await create(alice))["session_id"])
    await qr_ready(server, session_id)
    await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "22241857975"}
    )
    out = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/disconnect", json={"reason": "logged_out"}
    )
    assert out.json()["status"] == "logged_out"
    restarted = await alice.client.post(f"{SESSIONS}{session_id}/restart")
    assert restarted.status_code == 200
    view = await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)
    assert view.qr is not None
    assert view.phone_number is None or view.status == SessionStatus.QR_READY


async def test_lost_connection_is_disconnected_then_comes_back(
    server: Server, alice: Account
) -> None:
    """connection_lost shows `disconnected`, then the session reconnects by itself."""
    session_id = str((await create(alice))["session_id"])
    await qr_ready(server, session_id)
    await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "22241857975"}
    )
    lost = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/disconnect",
        json={"reason": "connection_lost", "reconnect_after": 0.05},
    )
    assert lost.json()["status"] == "disconnected"
    view = await server.sessions.wait_for(session_id, [SessionStatus.CONNECTED], timeout=5)
    assert view.phone_number == "22241857975"


async def test_plan_session_limit_answers_403_naming_it(server: Server) -> None:
    """The free plan's session limit (2) stops the third creation with a 403."""
    carol = await server.account("carol@example.com", plan="free")
    await create(carol)
    await create(carol)
    third = await carol.client.post(SESSIONS, json={"session_name": "de trop"})
    assert third.status_code == 403
    assert third.json()["success"] is False
    assert "Session limit" in third.json()["message"]
    assert "'free'" in third.json()["message"]


async def test_unknown_engine_is_a_400_naming_engine(server: Server, alice: Account) -> None:
    """Choosing an engine the operator did not enable is refused, naming the field."""
    answer = await alice.client.post(SESSIONS, json={"session_name": "x", "engine": "neonize"})
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("engine:")


async def test_session_name_is_optional(server: Server, alice: Account) -> None:
    """A session created without a body gets a default name."""
    answer = await alice.client.post(SESSIONS)
    assert answer.status_code == 201
    assert answer.json()["session_name"] == f"Session {answer.json()['id']}"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "{sid}", None),
        ("PATCH", "{sid}", {"session_name": "mine now"}),
        ("DELETE", "{sid}", None),
        ("POST", "{sid}/pair-code", {"phone_number": "22241857975"}),
        ("POST", "{sid}/restart", None),
    ],
)
async def test_another_users_session_is_not_found(
    server: Server, alice: Account, bob: Account, method: str, path: str, body: object
) -> None:
    """Bob cannot see or touch Alice's session: 404, exactly as if it did not exist."""
    session_id = str((await create(alice))["session_id"])
    url = SESSIONS + path.format(sid=session_id)
    theirs = await bob.client.request(method, url, json=body)
    missing = await bob.client.request(method, SESSIONS + path.format(sid="user_999"), json=body)
    assert theirs.status_code == 404
    assert theirs.json()["message"] == missing.json()["message"].replace("user_999", session_id)
    assert (await alice.client.get(f"{SESSIONS}{session_id}")).json()["session_name"] == "Personnel"
    assert (await bob.client.get(SESSIONS)).json() == []


@pytest.mark.parametrize("action", ["scan", "disconnect"])
async def test_sandbox_controls_are_scoped_to_the_owner(
    server: Server, alice: Account, bob: Account, action: str
) -> None:
    """The sandbox control API also answers 404 for another user's session."""
    session_id = str((await create(alice))["session_id"])
    body = {"phone_number": "22241857975"} if action == "scan" else {"reason": "logged_out"}
    answer = await bob.client.post(f"/api/sandbox/sessions/{session_id}/{action}", json=body)
    assert answer.status_code == 404


async def test_status_can_long_poll(server: Server, alice: Account) -> None:
    """`?wait_for=qr_ready` answers once the QR exists, instead of making clients poll;
    a status that does not come answers the current one after `timeout`."""
    session_id = str((await create(alice))["session_id"])
    waited = await alice.client.get(f"{SESSIONS}{session_id}?wait_for=qr_ready&timeout=5")
    assert waited.json()["status"] == "qr_ready"
    timed_out = await alice.client.get(f"{SESSIONS}{session_id}?wait_for=connected&timeout=0.05")
    assert timed_out.json()["status"] == "qr_ready"
