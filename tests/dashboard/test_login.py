"""Logging in and out: passwords, the signed session cookie, throttling, redirects."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from sendmako import accounts
from sendmako.app import announce_first_admin
from sendmako.dashboard.cookies import SESSION_COOKIE
from sendmako.dashboard.secret import SECRET_FILE, SECRET_NAME
from sendmako.dashboard.shared_throttle import RedisThrottle
from sendmako.dashboard.throttle import (
    BUSY_RETRY_SECONDS,
    Attempt,
    LoginThrottle,
    Throttle,
    Throttled,
    ThrottlePolicy,
)
from sendmako.settings import Settings
from sendmako.storage import secrets, users
from tests.dashboard.client import PASSWORD, Dashboard, member
from tests.harness import Server, running
from tests.redis_server import fresh_prefix, require_redis


async def test_login_opens_a_session_and_logout_closes_it(server: Server, backend: str) -> None:
    """A right password leads to the sessions page; logging out sends back to the login
    (SQLite and PostgreSQL)."""
    _, dashboard = await member(server, "alice@example.com")
    page = await dashboard.get("/dashboard/sessions")
    assert page.status == 200
    assert "alice@example.com" in page.text
    out = await dashboard.post("/dashboard/logout")
    assert (out.status, out.response.headers["location"]) == (303, "/dashboard/login")
    assert "You are logged out." in (await dashboard.follow(out)).text
    again = await dashboard.get("/dashboard/sessions")
    assert again.status == 303
    assert again.response.headers["location"] == "/dashboard/login?next=/dashboard/sessions"


async def test_pages_need_a_login(server: Server) -> None:
    """Anonymous visitors are sent to the login page, and back where they were after it."""
    account = await server.account("alice@example.com")
    assert server.app is not None
    await server.app.state.services.passwords.set(account.user.id, PASSWORD)
    dashboard = Dashboard(server)
    page = await dashboard.get("/dashboard/keys")
    assert page.response.headers["location"] == "/dashboard/login?next=/dashboard/keys"
    login = await dashboard.get("/dashboard/login", next="/dashboard/keys")
    assert 'name="next" value="/dashboard/keys"' in login.text
    done = await dashboard.post(
        "/dashboard/login",
        {"email": "alice@example.com", "password": PASSWORD, "next": "/dashboard/keys"},
    )
    assert done.response.headers["location"] == "/dashboard/keys"
    assert (await server.client().get("/")).headers["location"] == "/dashboard"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/api/keys"])
async def test_next_never_leaves_the_dashboard(server: Server, target: str) -> None:
    """`next` only names dashboard pages: no open redirect."""
    account = await server.account("alice@example.com")
    assert server.app is not None
    await server.app.state.services.passwords.set(account.user.id, PASSWORD)
    dashboard = Dashboard(server)
    await dashboard.get("/dashboard/login")
    done = await dashboard.post(
        "/dashboard/login", {"email": "alice@example.com", "password": PASSWORD, "next": target}
    )
    assert done.response.headers["location"] == "/dashboard/sessions"


async def test_a_wrong_password_and_an_unknown_email_answer_alike(server: Server) -> None:
    """Same status, same words: the form does not tell which emails have accounts."""
    await member(server, "alice@example.com")
    dashboard = Dashboard(server)
    wrong = await dashboard.login("alice@example.com", "not the password")
    unknown = await dashboard.login("nobody@example.com", "not the password")
    assert wrong.status == unknown.status == 401
    assert "Wrong email or password." in wrong.text
    assert "Wrong email or password." in unknown.text
    assert 'value="alice@example.com"' in wrong.text, "the email stays in the form"


async def test_missing_fields_are_named(server: Server) -> None:
    dashboard = Dashboard(server)
    page = await dashboard.login("", "")
    assert page.status == 400
    assert "Email: this field is required." in page.text
    assert "Password: this field is required." in page.text


async def test_login_is_throttled_per_email(server: Server) -> None:
    """After 5 failures, even the right password is refused (429, Retry-After) without
    being checked; another account from the same address still logs in."""
    await member(server, "alice@example.com")
    await member(server, "bob@example.com")
    attacker = Dashboard(server)
    for _ in range(5):
        assert (await attacker.login("alice@example.com", "guess")).status == 401
    blocked = await attacker.login("alice@example.com", PASSWORD)
    assert blocked.status == 429
    assert "Too many failed attempts. Try again in 15 minute(s)." in blocked.text
    assert 800 < int(blocked.response.headers["retry-after"]) <= 900
    assert (await Dashboard(server).login("bob@example.com")).status == 303


async def test_login_is_throttled_per_address(server: Server) -> None:
    """Many emails tried from one address: that address is stopped, whatever the email."""
    assert server.app is not None
    server.app.state.dashboard.throttle = LoginThrottle(ThrottlePolicy(per_address=4))
    await member(server, "alice@example.com")
    attacker = Dashboard(server)
    for n in range(4):
        assert (await attacker.login(f"user{n}@example.com", "guess")).status == 401
    assert (await attacker.login("alice@example.com", PASSWORD)).status == 429


MakeThrottle = Callable[[ThrottlePolicy, Callable[[], float]], Throttle]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_throttle(request: pytest.FixtureRequest) -> AsyncIterator[MakeThrottle]:
    """The throttle of one node (memory), and of several (Redis): one contract."""
    if request.param == "memory":
        yield lambda policy, clock: LoginThrottle(policy, clock=clock)
        return
    redis = Redis.from_url(require_redis())
    prefix = fresh_prefix()
    try:
        yield lambda policy, clock: RedisThrottle(redis, prefix, policy, clock=clock)
    finally:
        await redis.aclose()


async def test_the_throttle_window_slides(make_throttle: MakeThrottle) -> None:
    """Failures leave the count as they age out of the window; a right password clears the
    email's count from that address."""
    now = [1000.0]
    throttle = make_throttle(ThrottlePolicy(per_email_address=2, window_seconds=60), lambda: now[0])

    async def guess(email: str, *, right: bool = False) -> None:
        attempt = await throttle.begin(email, "1.2.3.4")
        assert isinstance(attempt, Attempt)
        await (attempt.succeeded() if right else attempt.failed())

    await guess("a@x")
    now[0] += 30
    await guess("a@x")
    refused = await throttle.begin("a@x", "1.2.3.4")
    assert isinstance(refused, Throttled)
    assert refused.retry_after == pytest.approx(30)
    assert isinstance(await throttle.begin("b@x", "1.2.3.4"), Attempt)
    now[0] += 31
    await guess("a@x", right=True)
    await guess("a@x")
    assert isinstance(await throttle.begin("a@x", "1.2.3.4"), Attempt)


async def test_a_guess_counts_from_its_start(make_throttle: MakeThrottle) -> None:
    """Guesses being checked hold their slots: past the limit, the next is refused before
    any outcome is known; a right password gives its slot back."""
    throttle = make_throttle(ThrottlePolicy(per_email_address=2), lambda: 1000.0)
    first = await throttle.begin("a@x", "1.2.3.4")
    second = await throttle.begin("a@x", "1.2.3.4")
    assert isinstance(first, Attempt)
    assert isinstance(second, Attempt)
    busy = await throttle.begin("a@x", "1.2.3.4")
    assert isinstance(busy, Throttled)
    assert busy.retry_after == BUSY_RETRY_SECONDS
    await first.succeeded()
    third = await throttle.begin("a@x", "1.2.3.4")
    assert isinstance(third, Attempt)
    await second.failed()
    await third.failed()
    await third.failed()  # a second outcome changes nothing
    assert isinstance(await throttle.begin("a@x", "1.2.3.4"), Throttled)


async def test_the_throttle_forgets_the_oldest_keys_under_a_flood() -> None:
    throttle = LoginThrottle(ThrottlePolicy(max_tracked=10), clock=lambda: 0.0)
    for n in range(50):
        attempt = await throttle.begin(f"user{n}@x", f"10.0.0.{n}")
        assert isinstance(attempt, Attempt)
        await attempt.failed()
    assert len(throttle._failures) <= 10
    assert not throttle._checking


async def test_a_disabled_account_cannot_log_in_and_is_logged_out(server: Server) -> None:
    """Disabling ends the open dashboard session too; the login says why, but only to
    someone who knows the password."""
    alice, dashboard = await member(server, "alice@example.com")
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        await users.update(tx, alice.user.id, disabled=True)
    assert (await dashboard.get("/dashboard/sessions")).status == 303
    refused = await Dashboard(server).login("alice@example.com")
    assert refused.status == 403
    assert "This account is disabled." in refused.text
    wrong = await Dashboard(server).login("alice@example.com", "a wrong password")
    assert "disabled" not in wrong.text


async def test_a_new_password_closes_other_logins(server: Server) -> None:
    alice, dashboard = await member(server, "alice@example.com")
    assert server.app is not None
    await server.app.state.services.passwords.set(alice.user.id, "another password")
    assert (await dashboard.get("/dashboard/sessions")).status == 303
    assert (await Dashboard(server).login("alice@example.com", "another password")).status == 303


async def test_a_forged_cookie_is_ignored(server: Server) -> None:
    _, dashboard = await member(server, "alice@example.com")
    cookie = dashboard.http.cookies[SESSION_COOKIE]
    dashboard.http.cookies.set(SESSION_COOKIE, cookie[:-4] + "AAAA")
    assert (await dashboard.get("/dashboard/sessions")).status == 303


async def test_the_first_admin_gets_a_password_that_logs_in(server: Server) -> None:
    """First start: a generated password comes with the API key, and works on the login
    page (its cheap first-start hash is upgraded on that first login)."""
    assert server.admin_password is not None
    assert len(server.admin_password) >= accounts.MIN_PASSWORD_LENGTH
    dashboard = Dashboard(server)
    assert (await dashboard.login("admin@localhost", server.admin_password)).status == 303
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        admin = await users.by_email(db, "admin@localhost")
        assert admin is not None
        stored = await users.password_hash(db, admin.id)
    assert stored is not None
    assert not accounts.PASSWORD_HASHER.check_needs_rehash(stored)


def test_the_first_start_banner_shows_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from sendmako.storage.records import PlanRecord, UserRecord

    plan = PlanRecord("unlimited", None, None)
    user = UserRecord(1, "admin@localhost", plan, True, False, datetime.now(UTC))
    announce_first_admin(user, "wsa_example", "generated-password")
    printed = capsys.readouterr().out
    assert "API key:  wsa_example" in printed
    assert "password: generated-password" in printed
    assert "sendmako users passwd admin@localhost" in printed


async def stored_secret(server: Server) -> str | None:
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        return await secrets.get(db, SECRET_NAME)


async def test_the_secret_is_generated_once_and_logins_survive_a_restart(
    server: Server, settings: Settings
) -> None:
    """No built-in signing key: one is generated into the database and reused; nothing is
    written to the data directory."""
    secret = await stored_secret(server)
    assert secret is not None
    assert len(secret) >= 32
    assert not (settings.data_dir / SECRET_FILE).exists()
    _, dashboard = await member(server, "alice@example.com")
    await server.restart()
    assert await stored_secret(server) == secret
    assert (await dashboard.get("/dashboard/sessions")).status == 200


async def test_a_secret_left_in_the_data_directory_is_kept(settings: Settings) -> None:
    """A data directory from before the key moved to the database: its key is the one
    stored, so the logins it signed stay valid."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / SECRET_FILE).write_text("k" * 48 + "\n")
    async with running(settings) as server:
        assert await stored_secret(server) == "k" * 48


async def test_the_operator_secret_wins(settings: Settings) -> None:
    """SENDMAKO_SECRET_KEY, when set, signs the cookies; none is generated or stored."""
    chosen = settings.model_copy(update={"secret_key": SecretStr("s" * 40)})
    async with running(chosen) as server:
        await member(server, "alice@example.com")
        assert await stored_secret(server) is None


def test_a_short_operator_secret_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Settings.model_validate({**settings.model_dump(), "secret_key": "short"})
