"""The send policy on a session's page: shown, changed (only by its owner), refused with
the field named; WhatsApp's restriction shown in plain words. In English and French."""

from __future__ import annotations

from dataclasses import asdict

from sendmako.model.send_policy import SendPolicy
from tests.dashboard.client import Dashboard, member
from tests.harness import Server, connect_sandbox

ME = "22241857975"
FORM = {
    "min_delay_ms": "2000",
    "max_delay_ms": "5000",
    "per_hour": "60",
    "per_day": "",  # blank: no cap
    "new_contacts_per_day": "10",
    "same_text_new_contacts": "5",
    "warmup": "on",  # typing left unticked: off
}


async def test_the_policy_is_shown_and_changed_from_the_session_page(server: Server) -> None:
    alice, dashboard = await member(server, "alice@example.com")
    session_id = await connect_sandbox(server, alice, ME)
    page = await dashboard.get(f"/dashboard/sessions/{session_id}")
    assert "Sending safely" in page.text
    assert 'name="per_hour" type="text" value="' in page.text
    saved = await dashboard.post(f"/dashboard/sessions/{session_id}/send-policy", FORM)
    shown = await dashboard.follow(saved)
    assert "Send policy saved." in shown.text
    view = (await alice.client.get(f"/api/whatsapp/sessions/{session_id}")).json()
    assert view["send_policy"] == {
        "min_delay_ms": 2000,
        "max_delay_ms": 5000,
        "per_hour": 60,
        "per_day": None,
        "new_contacts_per_day": 10,
        "same_text_new_contacts": 5,
        "warmup": True,
        "typing": False,
    }
    french = Dashboard(server, language="fr")
    await french.login("alice@example.com")
    assert "Envoyer sans risque" in (await french.get(f"/dashboard/sessions/{session_id}")).text


async def test_a_bad_policy_names_the_field_and_changes_nothing(server: Server) -> None:
    alice, dashboard = await member(server, "alice@example.com")
    session_id = await connect_sandbox(server, alice, ME)
    before = (await alice.client.get(f"/api/whatsapp/sessions/{session_id}")).json()
    for change, field, message in [
        ({"per_hour": "beaucoup"}, "per_hour", "a whole number"),
        ({"min_delay_ms": "9000"}, "max_delay_ms", "must be at least min_delay_ms"),
    ]:
        page = await dashboard.post(
            f"/dashboard/sessions/{session_id}/send-policy", {**FORM, **change}
        )
        assert page.status == 400
        assert f'id="{field}-error"' in page.text
        assert message in page.text
    after = (await alice.client.get(f"/api/whatsapp/sessions/{session_id}")).json()
    assert after["send_policy"] == before["send_policy"]


async def test_only_the_owner_changes_the_policy(server: Server) -> None:
    alice, _ = await member(server, "alice@example.com")
    _, mallory = await member(server, "mallory@example.com")
    session_id = await connect_sandbox(server, alice, ME)
    page = await mallory.post(f"/dashboard/sessions/{session_id}/send-policy", FORM)
    assert page.status == 404
    view = (await alice.client.get(f"/api/whatsapp/sessions/{session_id}")).json()
    assert view["send_policy"] == asdict(SendPolicy.unlimited())  # the test server's default


async def test_a_restriction_shows_with_its_reason(server: Server) -> None:
    alice, dashboard = await member(server, "alice@example.com")
    session_id = await connect_sandbox(server, alice, ME)
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/restrict",
        json={"kind": "temporary_ban", "seconds": 3600, "code": 104},
    )
    assert answer.status_code == 200, answer.text
    await server.sessions.wait_until(session_id, lambda view: view.restriction is not None, 5)
    page = await dashboard.get(f"/dashboard/sessions/{session_id}")
    assert "WhatsApp restricted this number" in page.text
    assert "sent the same message to too many people" in page.text
    assert "Every send waits until it ends." in page.text
