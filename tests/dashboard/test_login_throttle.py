"""The login throttle on a running server: guesses count when they start, limits per
address, per email and address, and per email (the owner's browsers aside), no global
lockout, and client addresses taken from forwarded headers only from trusted proxies."""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import pytest
import requests
from argon2 import PasswordHasher
from starlette.datastructures import Headers

from sendmako import accounts
from sendmako.dashboard.proxies import TrustedProxies
from sendmako.settings import Settings
from tests.contract.live import serve
from tests.dashboard.client import PASSWORD, Dashboard, member
from tests.harness import Server, running

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


class HeldHasher(PasswordHasher):
    """The server's hasher, counting its checks and holding each until released."""

    def __init__(self) -> None:
        model = accounts.PASSWORD_HASHER
        super().__init__(model.time_cost, model.memory_cost, model.parallelism)
        self.checks = 0
        self.released = threading.Event()
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002
        with self._lock:
            self.checks += 1
        self.released.wait()
        return super().verify(hash, password)


async def test_concurrent_guesses_beyond_the_limit_are_refused_before_any_check(
    server: Server,
) -> None:
    """40 guesses at one account at once, the right password last: 5 are checked, the 35
    others are refused (429) while those 5 are still being checked, the right one with them."""
    await member(server, "alice@example.com")
    assert server.app is not None
    hasher = server.app.state.services.passwords.hasher = HeldHasher()
    attacker = Dashboard(server)
    await attacker.get("/dashboard/login")
    guesses = [f"wrong guess {n}" for n in range(39)] + [PASSWORD]
    tasks = [
        asyncio.create_task(
            attacker.http.post(
                "/dashboard/login",
                data={
                    "email": "alice@example.com",
                    "password": guess,
                    "csrf_token": attacker.token,
                },
            )
        )
        for guess in guesses
    ]
    try:
        pending = set(tasks)
        async with asyncio.timeout(10):  # before: every guess waited for its check
            while len(pending) > 5:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        assert hasher.checks <= 5
    finally:
        hasher.released.set()
        answers = await asyncio.gather(*tasks)
    assert Counter(answer.status_code for answer in answers) == {429: 35, 401: 5}
    assert hasher.checks == 5
    assert answers[-1].status_code == 429


@pytest.fixture
async def proxied(settings: Settings) -> AsyncIterator[Server]:
    """A server behind a reverse proxy on 127.0.0.1 (the test client's address)."""
    behind = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    async with running(behind) as server:
        yield server


def browser_at(server: Server, address: str) -> Dashboard:
    """A browser whose requests reach the server through the proxy, from `address`."""
    dashboard = Dashboard(server)
    dashboard.http.headers["X-Forwarded-For"] = address
    return dashboard


async def test_one_clients_failures_behind_a_proxy_lock_out_no_one_else(proxied: Server) -> None:
    """30 failures from one client (forwarded by a trusted proxy) stop that client only: an
    admin behind the same proxy, from another address, logs in."""
    await member(proxied, "root@example.com", admin=True)
    attacker = browser_at(proxied, ATTACKER)
    for n in range(30):
        assert (await attacker.login(f"user{n}@example.com", "guess")).status == 401
    assert (await attacker.login("root@example.com")).status == 429
    assert (await browser_at(proxied, OWNER).login("root@example.com")).status == 303


async def test_an_email_locked_from_one_address_still_opens_from_another(proxied: Server) -> None:
    """5 failures at alice's account from the attacker's address refuse it there, even the
    right password; alice, from her own address, logs in."""
    await member(proxied, "alice@example.com")
    attacker = browser_at(proxied, ATTACKER)
    for _ in range(5):
        assert (await attacker.login("alice@example.com", "guess")).status == 401
    assert (await attacker.login("alice@example.com")).status == 429
    assert (await browser_at(proxied, OWNER).login("alice@example.com")).status == 303


async def test_guessing_from_many_addresses_locks_new_browsers_not_the_owners(
    proxied: Server,
) -> None:
    """20 failures at alice's account from 20 addresses: a browser that never logged in to
    it is refused, even with the right password; alice's own browser (it logged in
    before) still logs in, from anywhere."""
    await member(proxied, "alice@example.com")
    owners = browser_at(proxied, OWNER)
    assert (await owners.login("alice@example.com")).status == 303
    await owners.post("/dashboard/logout")
    for n in range(20):
        guess = await browser_at(proxied, f"203.0.113.{n + 1}").login("alice@example.com", "x")
        assert guess.status == 401
    assert (await browser_at(proxied, "192.0.2.50").login("alice@example.com")).status == 429
    owners.http.headers["X-Forwarded-For"] = "192.0.2.77"  # on the move: another network
    assert (await owners.login("alice@example.com")).status == 303


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ({"x-forwarded-for": "198.51.100.7"}, "198.51.100.7"),
        # The client wrote the first address itself: only what proxies appended counts.
        ({"x-forwarded-for": "1.1.1.1, 198.51.100.7, 10.0.0.2"}, "198.51.100.7"),
        ({"x-forwarded-for": "10.0.0.3, 10.0.0.2"}, "10.0.0.3"),
        ({"x-forwarded-for": "nonsense"}, "10.0.0.1"),
        ({"forwarded": 'for="[2001:db8::17]:4711";proto=https, for=10.0.0.2'}, "2001:db8::17"),
        ({"forwarded": "for=198.51.100.7:8080"}, "198.51.100.7"),
        ({}, "10.0.0.1"),
    ],
)
def test_forwarded_addresses_are_read_from_the_right(
    forwarded: dict[str, str], client: str
) -> None:
    proxies = TrustedProxies.parse(["10.0.0.0/24"])
    assert proxies.client_address("10.0.0.1", Headers(forwarded)) == client


def test_forwarded_headers_from_other_peers_are_ignored() -> None:
    spoofed = Headers({"x-forwarded-for": "198.51.100.7", "forwarded": "for=198.51.100.7"})
    assert TrustedProxies.parse(["10.0.0.0/24"]).client_address("192.0.2.1", spoofed) == (
        "192.0.2.1"
    )
    assert TrustedProxies().client_address("10.0.0.1", spoofed) == "10.0.0.1"


def test_trusted_proxies_must_be_addresses(settings: Settings) -> None:
    with pytest.raises(
        ValueError, match=re.escape("'proxy.local' is not an IP address or CIDR range")
    ):
        Settings.model_validate(
            {**settings.model_dump(), "trusted_proxies": "127.0.0.1,proxy.local"}
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("trusted", "thirty_first"), [("", 429), ("127.0.0.1", 401)], ids=["untrusted", "trusted"]
)
def test_a_real_server_believes_forwarded_addresses_only_from_trusted_proxies(
    tmp_path: Path, trusted: str, thirty_first: int
) -> None:
    """`sendmako serve`: 31 guesses from 127.0.0.1, each claiming another address. Without
    SENDMAKO_TRUSTED_PROXIES the claims are ignored and the 31st is refused (uvicorn used
    to believe them from any loopback peer); naming 127.0.0.1 as the proxy, each is its
    own client."""
    with serve(tmp_path, SENDMAKO_TRUSTED_PROXIES=trusted) as live, requests.Session() as http:
        form = http.get(f"{live.url}/dashboard/login", timeout=10).text
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        statuses = [
            http.post(
                f"{live.url}/dashboard/login",
                data={"email": f"user{n}@example.com", "password": "guess", "csrf_token": token},
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
                allow_redirects=False,
                timeout=10,
            ).status_code
            for n in range(31)
        ]
    assert statuses == [401] * 30 + [thirty_first]
