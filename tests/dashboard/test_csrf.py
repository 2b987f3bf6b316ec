"""CSRF: every form the dashboard accepts refuses a request without the visitor's token."""

from __future__ import annotations

import re

from sendmako.dashboard.pages import DashboardRoute
from sendmako.dashboard.routes import ROUTERS
from sendmako.model.statuses import SessionStatus
from sendmako.storage import api_keys
from tests.dashboard.client import PASSWORD, Dashboard, member
from tests.harness import Server

REFUSED = "This form has expired or was sent from another site."


def _post_routes(values: dict[str, str]) -> list[str]:
    paths = [
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, DashboardRoute) and "POST" in (route.methods or ())
    ]
    return [re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path) for path in paths]


async def test_every_post_refuses_a_missing_or_wrong_token(server: Server) -> None:
    """All POST routes of the dashboard (found by walking its routers, so a new one is
    covered too) answer 403 without the token or with a wrong one, and change nothing."""
    admin, dashboard = await member(server, "root@example.com", admin=True)
    created = await admin.client.post("/api/whatsapp/sessions/", json={"session_name": "Keep"})
    session_id = created.json()["session_id"]
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        key_id = (await api_keys.list_for_user(db, admin.user.id))[0].id
    hook = await admin.client.post("/api/webhooks", json={"url": "https://example.com/hook"})
    webhook_id = hook.json()["webhook"]["id"]
    values = {
        "session_id": session_id,
        "key_id": str(key_id),
        "user_id": str(admin.user.id),
        "webhook_id": str(webhook_id),
        # No such delivery: a 403 rather than a 404 shows the token is checked first.
        "delivery_id": "1",
        "chat": "221781234567",
    }
    routes = _post_routes(values)
    assert len(routes) >= 15, routes
    form = {
        "session_name": "Changed",
        "email": "root@example.com",
        "password": PASSWORD,
        "phone_number": "22241857975",
        "lang": "fr",
        "name": "free",
        "max_sessions": "0",
        "plan": "free",
        "action": "disable",
        "reason": "logged_out",
    }
    for path in routes:
        missing = await dashboard.post(path, form, csrf=False)
        assert (missing.status, path) == (403, path)
        assert REFUSED in missing.text
        wrong = await dashboard.post(path, {**form, "csrf_token": "x" * 43}, csrf=False)
        assert (wrong.status, path) == (403, path)

    view = server.sessions.get(admin.user, session_id)
    assert (view.session_name, view.status) == ("Keep", SessionStatus.QR_READY)
    assert (await admin.client.get("/api/keys")).json()["keys"][0]["revoked_at"] is None
    hook_now = (await admin.client.get(f"/api/webhooks/{webhook_id}")).json()["webhook"]
    assert (hook_now["url"], hook_now["enabled"]) == ("https://example.com/hook", True)
    page = await dashboard.get("/dashboard/sessions")
    assert page.status == 200, "still logged in: logout was refused too"
    assert 'lang="en"' in page.text


async def test_another_visitors_token_is_refused(server: Server) -> None:
    """A token is bound to the visitor's own cookie: one read from another browser is useless."""
    _, alice = await member(server, "alice@example.com")
    stranger = Dashboard(server)
    await stranger.get("/dashboard/login")
    page = await alice.post(
        "/dashboard/sessions", {"session_name": "x", "csrf_token": stranger.token}, csrf=False
    )
    assert page.status == 403


async def test_logging_in_changes_the_token(server: Server) -> None:
    """A token planted before login (session fixation) is worthless after it."""
    account = await server.account("alice@example.com")
    assert server.app is not None

    await server.app.state.services.passwords.set(account.user.id, PASSWORD)
    dashboard = Dashboard(server)
    await dashboard.get("/dashboard/login")
    before = dashboard.token
    await dashboard.post("/dashboard/login", {"email": "alice@example.com", "password": PASSWORD})
    await dashboard.get("/dashboard/sessions")
    assert dashboard.token != before
