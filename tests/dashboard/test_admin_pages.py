"""Admin pages: users (create, plan, disable, new password) and plans; admins only."""

from __future__ import annotations

import re

from sendmako.storage import users
from tests.dashboard.client import Dashboard, member
from tests.harness import Server

ADMIN_PATHS = ("/dashboard/admin/users", "/dashboard/admin/plans")


async def test_admin_pages_are_forbidden_to_other_users(server: Server) -> None:
    """A non-admin gets 403 pages (GET and POST, even with a valid token) and no admin links."""
    alice, dashboard = await member(server, "alice@example.com")
    for path in ADMIN_PATHS:
        page = await dashboard.get(path)
        assert page.status == 403
        assert "This page is for administrators only." in page.text
    attempts = [
        ("/dashboard/admin/users", {"email": "x@example.com", "plan": "unlimited"}),
        (f"/dashboard/admin/users/{alice.user.id}/plan", {"plan": "pro"}),
        ("/dashboard/admin/users/1/status", {"action": "disable"}),
        (f"/dashboard/admin/users/{alice.user.id}/password", {}),
        ("/dashboard/admin/plans", {"mode": "edit", "name": "free", "max_sessions": ""}),
    ]
    for path, form in attempts:
        assert (await dashboard.post(path, form)).status == 403, path
    sessions = await dashboard.get("/dashboard/sessions")
    assert "/dashboard/admin/" not in sessions.text
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        assert await users.by_email(db, "x@example.com") is None
        assert [(u.email, u.plan.name, u.disabled) for u in await users.list_all(db)] == [
            ("admin@localhost", "unlimited", False),
            ("alice@example.com", "unlimited", False),
        ]


async def test_an_admin_creates_a_user_who_can_then_log_in(server: Server) -> None:
    _, admin = await member(server, "root@example.com", admin=True)
    created = await admin.post(
        "/dashboard/admin/users", {"email": "Fatou@Example.com", "plan": "pro"}
    )
    assert created.status == 201
    password = re.search(r'id="created-password" class="secret-value">([^<]+)<', created.text)
    key = re.search(r'id="created-key" class="secret-value">(wsa_[A-Za-z0-9]+)<', created.text)
    assert password
    assert key
    assert (await server.client(key[1]).get("/api/whatsapp/sessions/")).status_code == 200
    assert (await Dashboard(server).login("fatou@example.com", password[1])).status == 303

    chosen = await admin.post(
        "/dashboard/admin/users",
        {"email": "moussa@example.com", "plan": "free", "password": "chosen by the admin"},
    )
    assert chosen.status == 201
    assert 'id="created-password"' not in chosen.text, "a typed password is not echoed"
    assert (
        await Dashboard(server).login("moussa@example.com", "chosen by the admin")
    ).status == 303


async def test_user_form_errors_name_the_field(server: Server) -> None:
    _, admin = await member(server, "root@example.com", admin=True)
    page = await admin.post(
        "/dashboard/admin/users", {"email": "not-an-email", "plan": "gold", "password": "short"}
    )
    assert page.status == 400
    assert "Email: not an email address." in page.text
    assert "Plan: choose one of free, pro, unlimited." in page.text
    assert "Password: use at least 10 characters." in page.text
    taken = await admin.post(
        "/dashboard/admin/users", {"email": "root@example.com", "plan": "free"}
    )
    assert taken.status == 400
    assert "email: a user with this email already exists." in taken.text


async def test_plan_changes_and_disabling_apply_at_once(server: Server, backend: str) -> None:
    """The user's cached API key sees the new plan and the disabling on its next request
    (SQLite and PostgreSQL)."""
    _, admin = await member(server, "root@example.com", admin=True)
    alice = await server.account("alice@example.com", plan="free")
    assert (await alice.client.get("/api/whatsapp/sessions/")).status_code == 200  # cached now

    moved = await admin.post(f"/dashboard/admin/users/{alice.user.id}/plan", {"plan": "pro"})
    assert "alice@example.com is now on the plan pro." in (await admin.follow(moved)).text
    for n in range(3):  # free allows 2 sessions, pro 10
        created = await alice.client.post("/api/whatsapp/sessions/", json={"session_name": f"s{n}"})
        assert created.status_code == 201

    off = await admin.post(f"/dashboard/admin/users/{alice.user.id}/status", {"action": "disable"})
    assert "alice@example.com disabled" in (await admin.follow(off)).text
    assert (await alice.client.get("/api/whatsapp/sessions/")).status_code == 403
    on = await admin.post(f"/dashboard/admin/users/{alice.user.id}/status", {"action": "enable"})
    assert "alice@example.com enabled." in (await admin.follow(on)).text
    assert (await alice.client.get("/api/whatsapp/sessions/")).status_code == 200


async def test_an_admin_cannot_disable_themselves(server: Server) -> None:
    root, admin = await member(server, "root@example.com", admin=True)
    page = await admin.post(f"/dashboard/admin/users/{root.user.id}/status", {"action": "disable"})
    assert page.status == 400
    assert "You cannot disable your own account." in page.text
    assert (await admin.get("/dashboard/admin/users")).status == 200


async def test_a_new_password_is_shown_once_and_replaces_the_old(server: Server) -> None:
    _, admin = await member(server, "root@example.com", admin=True)
    alice, alice_dashboard = await member(server, "alice@example.com")
    page = await admin.post(f"/dashboard/admin/users/{alice.user.id}/password")
    new = re.search(r'id="reset-password" class="secret-value">([^<]+)<', page.text)
    assert new
    assert (await alice_dashboard.get("/dashboard/sessions")).status == 303, "logged out"
    assert (await Dashboard(server).login("alice@example.com", new[1])).status == 303


async def test_plans_are_created_and_edited(server: Server, backend: str) -> None:
    """A new plan, then a tighter limit: it applies to its users' next session at once
    (SQLite and PostgreSQL)."""
    _, admin = await member(server, "root@example.com", admin=True)
    created = await admin.post(
        "/dashboard/admin/plans",
        {"mode": "create", "name": "team", "max_sessions": "5", "daily_messages": ""},
    )
    assert "Plan team created." in (await admin.follow(created)).text
    again = await admin.post(
        "/dashboard/admin/plans", {"mode": "create", "name": "team", "max_sessions": "1"}
    )
    assert again.status == 400
    assert "A plan named team already exists" in again.text

    alice = await server.account("alice@example.com", plan="team")
    assert (await alice.client.get("/api/whatsapp/sessions/")).status_code == 200  # cached now
    edited = await admin.post(
        "/dashboard/admin/plans",
        {"mode": "edit", "name": "team", "max_sessions": "0", "daily_messages": "100"},
    )
    assert "Plan team saved." in (await admin.follow(edited)).text
    refused = await alice.client.post("/api/whatsapp/sessions/", json={"session_name": "x"})
    assert refused.status_code == 403
    assert "'team' plan allows 0 session(s)" in refused.json()["message"]


async def test_plan_form_errors_name_the_field(server: Server) -> None:
    _, admin = await member(server, "root@example.com", admin=True)
    page = await admin.post(
        "/dashboard/admin/plans",
        {"mode": "create", "name": "Big Plan!", "max_sessions": "-1", "daily_messages": "lots"},
    )
    assert page.status == 400
    assert "Name: use lowercase letters, digits, - and _ (40 at most)." in page.text
    assert "Sessions: a whole number (0 or more), or empty for unlimited." in page.text
    assert "Messages per day: a whole number (0 or more), or empty for unlimited." in page.text
    assert 'value="lots"' in page.text, "what was typed stays in the form"
    missing = await admin.post(
        "/dashboard/admin/plans", {"mode": "edit", "name": "gold", "max_sessions": "1"}
    )
    assert missing.status == 404
