"""Sessions, sandbox, keys and usage pages: what each shows and does, and that one user
never sees or touches another's sessions or keys."""

from __future__ import annotations

import re

from sendmako.engines.sandbox import SandboxEngine
from sendmako.model.statuses import SessionStatus
from sendmako.storage import plans
from tests.dashboard.client import PASSWORD, Dashboard, member
from tests.harness import Server, connect_sandbox


async def _create(dashboard: Dashboard, name: str = "Boutique") -> str:
    page = await dashboard.post("/dashboard/sessions", {"session_name": name})
    assert page.status == 303, page.text[:500]
    location = page.response.headers["location"]
    return location.rsplit("/", 1)[1]


async def test_a_session_from_creation_to_deletion(server: Server) -> None:
    """Create (lands on its page with the QR), scan from the sandbox page, rename, restart,
    delete after a confirmation page."""
    alice, dashboard = await member(server, "alice@example.com")
    session_id = await _create(dashboard)
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)
    page = await dashboard.get(f"/dashboard/sessions/{session_id}")
    assert 'data-status="qr_ready"' in page.text
    assert re.search(r'<img class="qr" src="data:image/png;base64,[^"]+"', page.text)

    sandbox = await dashboard.get("/dashboard/sandbox")
    assert f"/dashboard/sandbox/{session_id}/scan" in sandbox.text
    scanned = await dashboard.post(
        f"/dashboard/sandbox/{session_id}/scan", {"phone_number": "+222 41 85 79 75"}
    )
    assert (
        f"{session_id} scanned: linked to +22241857975." in (await dashboard.follow(scanned)).text
    )
    page = await dashboard.get(f"/dashboard/sessions/{session_id}")
    assert 'data-status="connected"' in page.text
    assert "Linked to +22241857975." in page.text

    renamed = await dashboard.post(
        f"/dashboard/sessions/{session_id}/rename", {"session_name": "Shop"}
    )
    assert "Renamed to Shop." in (await dashboard.follow(renamed)).text
    assert server.sessions.get(alice.user, session_id).session_name == "Shop"

    restarted = await dashboard.post(f"/dashboard/sessions/{session_id}/restart")
    assert "Session restarted." in (await dashboard.follow(restarted)).text
    assert server.sessions.get(alice.user, session_id).status == SessionStatus.CONNECTED

    confirm = await dashboard.get(f"/dashboard/sessions/{session_id}/delete")
    assert "Delete the session Shop?" in confirm.text
    assert server.sessions.list_for(alice.user), "asking is not deleting"
    deleted = await dashboard.post(f"/dashboard/sessions/{session_id}/delete")
    assert "Session Shop deleted." in (await dashboard.follow(deleted)).text
    assert server.sessions.list_for(alice.user) == []


async def test_the_live_status_follows_the_session(server: Server) -> None:
    """The page's script long-polls: the answer comes as soon as what the page shows changes."""
    alice, dashboard = await member(server, "alice@example.com")
    session_id = await _create(dashboard)
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)
    state = (await dashboard.http.get(f"/dashboard/live/sessions/{session_id}")).json()
    assert (state["status"], state["label"]) == ("qr_ready", "Waiting for scan")
    assert state["qr"].startswith("data:image/png;base64,")

    import asyncio

    waiting = asyncio.create_task(
        dashboard.http.get(
            f"/dashboard/live/sessions/{session_id}", params={"since": state["token"]}
        )
    )
    await asyncio.sleep(0.05)
    assert not waiting.done(), "nothing changed yet: the request waits"
    await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": "22241857975"}
    )
    changed = (await asyncio.wait_for(waiting, 5)).json()
    assert (changed["status"], changed["phone_number"]) == ("connected", "22241857975")
    listing = (await dashboard.http.get("/dashboard/live/sessions")).json()
    assert [s["status"] for s in listing["sessions"]] == ["connected"]
    anonymous = await server.client().get("/dashboard/live/sessions")
    assert anonymous.status_code == 401


async def test_another_users_sessions_are_not_found(server: Server) -> None:
    """Bob's session answers 404 on every dashboard path for Alice, and is left untouched."""
    bob, bob_dashboard = await member(server, "bob@example.com")
    theirs = await _create(bob_dashboard, "Bob's")
    await server.sessions.wait_for(theirs, [SessionStatus.QR_READY], timeout=5)
    _, alice = await member(server, "alice@example.com")
    for path in (f"/dashboard/sessions/{theirs}", f"/dashboard/sessions/{theirs}/delete"):
        page = await alice.get(path)
        assert page.status == 404
        assert "This session does not exist." in page.text
    assert (await alice.http.get(f"/dashboard/live/sessions/{theirs}")).status_code == 404
    for action, form in (
        ("rename", {"session_name": "Mine now"}),
        ("restart", {}),
        ("pair-code", {"phone_number": "22241857975"}),
        ("delete", {}),
    ):
        assert (await alice.post(f"/dashboard/sessions/{theirs}/{action}", form)).status == 404
    scan = await alice.post(f"/dashboard/sandbox/{theirs}/scan", {"phone_number": "22241857975"})
    assert scan.status == 404
    listing = await alice.get("/dashboard/sessions")
    assert theirs not in listing.text
    assert theirs not in (await alice.get("/dashboard/sandbox")).text
    view = server.sessions.get(bob.user, theirs)
    assert (view.session_name, view.status) == ("Bob's", SessionStatus.QR_READY)


async def test_the_pairing_code_is_shown_big(server: Server) -> None:
    _, dashboard = await member(server, "alice@example.com")
    session_id = await _create(dashboard)
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)
    bad = await dashboard.post(
        f"/dashboard/sessions/{session_id}/pair-code", {"phone_number": "12"}
    )
    assert bad.status == 400
    assert "Phone number: not a phone number." in bad.text
    page = await dashboard.post(
        f"/dashboard/sessions/{session_id}/pair-code", {"phone_number": "+222 41 85 79 75"}
    )
    code = re.search(r'data-test="pair-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', page.text)
    assert code, page.text
    # The simulated phone types it on the sandbox page.
    paired = await dashboard.post(f"/dashboard/sandbox/{session_id}/pair", {"pair_code": code[1]})
    assert f"{session_id} linked with the pairing code." in (await dashboard.follow(paired)).text


async def test_sandbox_disconnects_are_simulated(server: Server) -> None:
    alice, dashboard = await member(server, "alice@example.com")
    session_id = await _create(dashboard)
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)
    early = await dashboard.post(
        f"/dashboard/sandbox/{session_id}/disconnect", {"reason": "connection_lost"}
    )
    assert early.status == 422
    assert "not in the right state" in early.text
    await dashboard.post(f"/dashboard/sandbox/{session_id}/scan", {"phone_number": "22241857975"})
    unlinked = await dashboard.post(
        f"/dashboard/sandbox/{session_id}/disconnect", {"reason": "logged_out"}
    )
    assert f"{session_id}: unlinked from the phone." in (await dashboard.follow(unlinked)).text
    assert server.sessions.get(alice.user, session_id).status == SessionStatus.LOGGED_OUT


async def test_the_session_limit_is_shown_on_the_form(server: Server) -> None:
    """Past the plan's limit, the form says so (and names the limit) instead of failing."""
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        await plans.upsert(tx, "tiny", max_sessions=1, daily_messages=10)
    account = await server.account("carol@example.com", plan="tiny")
    await server.app.state.services.passwords.set(account.user.id, PASSWORD)
    dashboard = Dashboard(server)
    await dashboard.login("carol@example.com")
    await _create(dashboard)
    page = await dashboard.post("/dashboard/sessions", {"session_name": "Second"})
    assert page.status == 403
    assert "Session limit of your plan reached" in page.text
    assert "1 of 1 sessions of your plan" in page.text
    usage = await dashboard.get("/dashboard/usage")
    assert re.search(r"Sessions</span>\s*<span class=\"meter-value\">\s*1\s*/\s*1", usage.text)
    assert "10 per day" in usage.text


async def test_names_that_are_too_long_are_refused_by_field(server: Server) -> None:
    _, dashboard = await member(server, "alice@example.com")
    page = await dashboard.post("/dashboard/sessions", {"session_name": "x" * 101})
    assert page.status == 400
    assert "Name: at most 100 characters." in page.text


async def test_the_engine_choice_appears_only_with_several_engines(server: Server) -> None:
    """One engine: no choice. Several: a select, and the session runs on the chosen one."""
    alice, dashboard = await member(server, "alice@example.com")
    assert 'name="engine"' not in (await dashboard.get("/dashboard/sessions")).text
    # neonize cannot reach WhatsApp from here: a second sandbox stands in under its name.
    assert server.app is not None
    services = server.app.state.services
    sandbox = services.engines["sandbox"]
    services.engines["neonize"] = SandboxEngine(services.db, server.settings.sandbox, sandbox.media)
    page = await dashboard.get("/dashboard/sessions")
    assert '<option value="neonize">WhatsApp</option>' in page.text
    assert '<option value="sandbox" selected>Sandbox (simulated)</option>' in page.text
    unknown = await dashboard.post("/dashboard/sessions", {"engine": "telegram"})
    assert unknown.status == 400
    assert "Engine: choose one of neonize, sandbox." in unknown.text
    chosen = await dashboard.post("/dashboard/sessions", {"engine": "neonize"})
    session_id = chosen.response.headers["location"].rsplit("/", 1)[1]
    assert server.sessions.get(alice.user, session_id).engine == "neonize"


async def test_api_keys_are_shown_once_and_revoked_at_once(server: Server) -> None:
    alice, dashboard = await member(server, "alice@example.com")
    created = await dashboard.post("/dashboard/keys", {"name": "ci"})
    assert created.status == 201
    key = re.search(r'id="new-key" class="secret-value">(wsa_[A-Za-z0-9]+)<', created.text)
    assert key, created.text
    client = server.client(key[1])
    assert (await client.get("/api/whatsapp/sessions/")).status_code == 200
    listing = await dashboard.get("/dashboard/keys")
    assert key[1] not in listing.text
    assert key[1][:12] in listing.text
    key_id = re.search(
        rf'data-key-prefix="{key[1][:12]}"[\s\S]*?/dashboard/keys/(\d+)/revoke', listing.text
    )
    assert key_id
    confirm = await dashboard.get(f"/dashboard/keys/{key_id[1]}/revoke")
    assert f"Revoke the key {key[1][:12]}…?" in confirm.text
    revoked = await dashboard.post(f"/dashboard/keys/{key_id[1]}/revoke")
    assert f"Key {key[1][:12]}… revoked." in (await dashboard.follow(revoked)).text
    assert (await client.get("/api/whatsapp/sessions/")).status_code == 401
    assert (await alice.client.get("/api/whatsapp/sessions/")).status_code == 200

    _, bob = await member(server, "bob@example.com")
    assert (await bob.get(f"/dashboard/keys/{key_id[1]}/revoke")).status == 404
    assert (await bob.post(f"/dashboard/keys/{key_id[1]}/revoke")).status == 404


async def test_unknown_pages_and_bad_parameters_are_pages_not_traces(server: Server) -> None:
    _, dashboard = await member(server, "alice@example.com")
    missing = await dashboard.get("/dashboard/no/such/page")
    assert missing.status == 404
    assert "<title>Not found · Sendmako</title>" in missing.text
    bad = await dashboard.get("/dashboard/keys/not-a-number/revoke")
    assert bad.status == 400
    assert "This request is not valid." in bad.text
    huge = "9" * 20  # past the database's integers: refused before any query
    for path in (f"/dashboard/keys/{huge}/revoke", f"/dashboard/webhooks/{huge}"):
        assert (await dashboard.get(path)).status == 400, path
    for page in (missing, bad):
        assert "Traceback" not in page.text
        assert page.response.headers["content-security-policy"].startswith("default-src 'self'")
        assert page.response.headers["cache-control"] == "no-store"


async def test_messages_sent_today_are_counted_against_the_quota(server: Server) -> None:
    """The usage page shows the count the quota check uses: two sends, 2 of 10 (20%)."""
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        await plans.upsert(tx, "tiny", max_sessions=1, daily_messages=10)
    account = await server.account("carol@example.com", plan="tiny")
    await server.app.state.services.passwords.set(account.user.id, PASSWORD)
    dashboard = Dashboard(server)
    await dashboard.login("carol@example.com")
    before = await dashboard.get("/dashboard/usage")
    assert re.search(
        r"Messages today \(UTC\)</span>\s*<span class=\"meter-value\">\s*0\s*/", before.text
    )
    await connect_sandbox(server, account, "22241857975")
    for text in ("Bonjour", "Au revoir"):
        sent = await account.client.post(
            "/api/send-message", json={"to": "221781234567", "type": "text", "text": text}
        )
        assert sent.status_code == 200, sent.text
    usage = await dashboard.get("/dashboard/usage")
    assert re.search(
        r"Messages today \(UTC\)</span>\s*<span class=\"meter-value\">\s*2\s*/\s*10 per day",
        usage.text,
    )
    assert '<progress max="100" value="20">' in usage.text


async def test_an_unlimited_plan_counts_its_messages_too(server: Server) -> None:
    """No quota to check is no reason for a stale count: sends made after the page was
    first shown appear on it."""
    alice, dashboard = await member(server, "alice@example.com")
    meter = r"Messages today \(UTC\)</span>\s*<span class=\"meter-value\">\s*{}\s*/\s*unlimited"
    assert re.search(meter.format(0), (await dashboard.get("/dashboard/usage")).text)
    await connect_sandbox(server, alice, "22241857975")
    sent = await alice.client.post(
        "/api/send-message", json={"to": "221781234567", "type": "text", "text": "Bonjour"}
    )
    assert sent.status_code == 200, sent.text
    assert re.search(meter.format(1), (await dashboard.get("/dashboard/usage")).text)
