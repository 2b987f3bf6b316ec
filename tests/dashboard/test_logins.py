"""Dashboard sessions end on the server: at logout, after a new password, when the account
is disabled; a copy of the cookie taken before opens nothing after."""

from __future__ import annotations

from sqlalchemy import select

from sendmako.dashboard.cookies import SESSION_COOKIE
from sendmako.storage.tables import ApiKey
from tests.dashboard.client import Dashboard, member
from tests.harness import Server


async def copy_of(server: Server, dashboard: Dashboard) -> Dashboard:
    """Another browser holding a copy of `dashboard`'s session cookie (a stolen one)."""
    thief = Dashboard(server)
    thief.http.cookies.set(SESSION_COOKIE, dashboard.http.cookies[SESSION_COOKIE])
    return thief


async def signed_in(dashboard: Dashboard) -> bool:
    return (await dashboard.get("/dashboard/sessions")).status == 200


async def test_a_cookie_copied_before_logout_opens_nothing_after_it(
    server: Server, backend: str
) -> None:
    """After logout the copied cookie is refused: no page, and no API key minted with it
    (SQLite and PostgreSQL)."""
    alice, dashboard = await member(server, "alice@example.com")
    thief = await copy_of(server, dashboard)
    assert (await thief.get("/dashboard/keys")).status == 200  # the copy works until then
    assert (await dashboard.post("/dashboard/logout")).status == 303

    assert not await signed_in(thief)
    minted = await thief.post("/dashboard/keys", {"name": "stolen"})
    assert minted.status == 303
    assert minted.response.headers["location"].startswith("/dashboard/login")
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        names = (await db.scalars(select(ApiKey.name).where(ApiKey.user_id == alice.user.id))).all()
    assert "stolen" not in names


async def test_logging_out_ends_only_that_login(server: Server) -> None:
    """The same account signed in on two browsers: logging out of one keeps the other."""
    _, laptop = await member(server, "alice@example.com")
    phone = Dashboard(server)
    assert (await phone.login("alice@example.com")).status == 303
    await laptop.post("/dashboard/logout")
    assert not await signed_in(laptop)
    assert await signed_in(phone)


async def test_a_new_password_keeps_the_login_that_set_it_and_ends_the_others(
    server: Server,
) -> None:
    """An admin who gives themselves a new password stays signed in; their other browser,
    and any copy of a cookie, is signed out."""
    root, dashboard = await member(server, "root@example.com", admin=True)
    other = Dashboard(server)
    assert (await other.login("root@example.com")).status == 303
    thief = await copy_of(server, other)
    reset = await dashboard.post(f"/dashboard/admin/users/{root.user.id}/password")
    assert reset.status == 200
    assert await signed_in(dashboard)
    assert not await signed_in(other)
    assert not await signed_in(thief)


async def test_a_disabled_account_stays_signed_out_when_enabled_again(server: Server) -> None:
    """Disabling ends the account's logins for good: enabling it again does not bring a
    cookie of before back to life."""
    alice, dashboard = await member(server, "alice@example.com")
    _, admin = await member(server, "root@example.com", admin=True)
    status = f"/dashboard/admin/users/{alice.user.id}/status"
    assert (await admin.post(status, {"action": "disable"})).status == 303
    assert not await signed_in(await copy_of(server, dashboard))
    assert (await admin.post(status, {"action": "enable"})).status == 303
    assert not await signed_in(dashboard)
    assert (await Dashboard(server).login("alice@example.com")).status == 303
