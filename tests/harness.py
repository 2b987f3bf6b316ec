"""An in-process Sendmako for tests: a real app on a real database, reached through httpx's
ASGI transport, that can be restarted on the same database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address

import httpx
from fastapi import FastAPI

from sendmako import accounts
from sendmako.app import NetworkSeams, WebhookSeams, create_app
from sendmako.engines.sandbox.network import Wire
from sendmako.model.actions import SendResult
from sendmako.sessions.manager import SessionManager
from sendmako.settings import Settings
from sendmako.storage.records import UserRecord
from tests.databases import ADMINS
from tests.network import RecordingSockets


@dataclass
class Account:
    user: UserRecord
    key: str
    client: httpx.AsyncClient


# Names tests use, and what they "resolve" to: no test ever asks a real DNS server.
TEST_ADDRESSES: dict[str, list[str]] = {
    "localhost": ["127.0.0.1"],
    "hooks.example.com": ["93.184.215.14"],  # a public address: resolved, never connected to
    "example.com": ["93.184.215.14"],
    "internal.example.com": ["10.0.0.7"],
}


async def fake_resolver(host: str, _port: int) -> list[IPv4Address | IPv6Address]:
    if host not in TEST_ADDRESSES:
        raise OSError(f"{host} is not a name the tests know")
    return [ip_address(address) for address in TEST_ADDRESSES[host]]


@dataclass
class Server:
    settings: Settings
    webhook_seams: WebhookSeams | None = None
    # Only loopback is ever connected to, whatever a test makes the server fetch or deliver.
    network: NetworkSeams = field(
        default_factory=lambda: NetworkSeams(resolver=fake_resolver, sockets=RecordingSockets())
    )
    app: FastAPI | None = None
    admin_key: str | None = None
    admin_password: str | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def start(self) -> None:
        def remember_admin(_user: UserRecord, key: str, password: str) -> None:
            self.admin_key = key
            self.admin_password = password

        self.app = create_app(
            self.settings,
            on_first_admin=remember_admin,
            webhook_seams=self.webhook_seams,
            network=self.network,
        )
        if self.admin_key is None and self.settings.database_url in ADMINS:
            # A database copied from a template: its first admin was made there.
            self.admin_key, self.admin_password = ADMINS[self.settings.database_url]
        self._stack = AsyncExitStack()
        await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))

    async def stop(self) -> None:
        for client in self._clients:
            await client.aclose()
        await self._stack.aclose()

    async def restart(self) -> None:
        """Stop the app and start a new one on the same database (a server restart).
        Existing clients keep working: they talk to whichever app is current."""
        await self._stack.aclose()
        await self.start()

    @property
    def sessions(self) -> SessionManager:
        assert self.app is not None
        manager: SessionManager = self.app.state.services.sessions
        return manager

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        assert self.app is not None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        client = httpx.AsyncClient(
            transport=_CurrentApp(self),
            base_url="http://sendmako.test",
            headers=headers,
        )
        self._clients.append(client)
        return client

    async def account(self, email: str, *, plan: str = "unlimited", admin: bool = False) -> Account:
        assert self.app is not None
        db = self.app.state.services.db
        async with db.write() as tx:
            user, key = await accounts.create_user(tx, email, plan=plan, is_admin=admin)
        return Account(user=user, key=key.secret, client=self.client(key.secret))


class _CurrentApp(httpx.AsyncBaseTransport):
    def __init__(self, server: Server) -> None:
        self.server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.server.app is not None, "the server is stopped"
        transport = httpx.ASGITransport(app=self.server.app, raise_app_exceptions=False)
        return await transport.handle_async_request(request)


@asynccontextmanager
async def running(
    settings: Settings,
    webhook_seams: WebhookSeams | None = None,
    network: NetworkSeams | None = None,
) -> AsyncIterator[Server]:
    server = Server(settings, webhook_seams)
    if network is not None:
        server.network = network
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def connect_sandbox(
    server: Server, account: Account, phone: str, name: str = "Personnel", *, pacing_ms: int = 0
) -> str:
    """A new sandbox session of `account`, scanned with `phone`: its session_id.

    Pacing defaults to 0 here so tests of other behaviour do not wait on it."""
    from sendmako.model.statuses import SessionStatus

    created = await account.client.post("/api/whatsapp/sessions/", json={"session_name": name})
    assert created.status_code == 201, created.text
    session_id: str = created.json()["session_id"]
    await server.sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=5)
    scanned = await account.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": phone, "push_name": name}
    )
    assert scanned.status_code == 200, scanned.text
    patched = await account.client.patch(
        f"/api/whatsapp/sessions/{session_id}", json={"pacing_ms": pacing_ms}
    )
    assert patched.status_code == 200, patched.text
    return session_id


class HeldWire(Wire):
    """The sandbox's WhatsApp holds every send: it answers once released, or never."""

    def __init__(self) -> None:
        self.holding = asyncio.Event()  # set once a send is held
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()

    async def carry(self, transmit: Callable[[], Awaitable[SendResult]]) -> SendResult:
        self.holding.set()
        await self._released.wait()
        return await transmit()


def hold_sends(server: Server) -> HeldWire:
    """From now on, the sandbox network holds every send (until the next restart)."""
    assert server.app is not None
    wire = HeldWire()
    server.app.state.services.engines["sandbox"].network.wire = wire
    return wire
