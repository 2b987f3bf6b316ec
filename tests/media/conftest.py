"""Fixtures for media tests: a real origin server on 127.0.0.1, and fetchers whose network
layer the test controls (a resolver that answers any address, a backend that records
connection attempts and, for anything but loopback, never makes them)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import httpcore
import pytest

from sendmako.media.addresses import AddressPolicy, IPAddress
from sendmako.media.fetch import Fetcher, FetchTimeouts
from sendmako.media.guard import Resolver, build_client
from tests.media.origin import Origin


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    server = Origin()
    await server.start()
    yield server
    await server.stop()


@dataclass
class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records every connection attempt. Connects for real only to loopback, when `real`;
    anything else is recorded and fails, so a test can never reach a real network."""

    real: bool = True
    hang: bool = False
    attempts: list[tuple[str, int]] = field(default_factory=list)
    _inner: httpcore.AsyncNetworkBackend = field(default_factory=httpcore.AnyIOBackend)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.attempts.append((host, port))
        if self.hang:
            await _forever()
        if not self.real or not host.startswith("127."):
            raise httpcore.ConnectError(f"test backend: not connecting to {host}")
        return await self._inner.connect_tcp(host, port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _forever() -> None:
    await asyncio.Event().wait()


def resolving(table: dict[str, Sequence[str]]) -> tuple[Resolver, list[str]]:
    """A resolver answering from `table` (and recording the names asked)."""
    asked: list[str] = []

    async def resolve(host: str, _port: int) -> list[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address(a) for a in table[host]]

    return resolve, asked


FetcherFactory = Callable[..., Fetcher]


@pytest.fixture
async def make_fetcher() -> AsyncIterator[FetcherFactory]:
    """`make_fetcher(allow=[...], resolver=..., backend=..., timeouts=..., clock=...)`."""
    clients = []

    def make(
        *,
        allow: Iterable[str] = ("127.0.0.1",),
        resolver: Resolver | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
        timeouts: FetchTimeouts | None = None,
        clock: Callable[[], float] | None = None,
    ) -> Fetcher:
        policy = AddressPolicy.allowing(allow)
        if resolver is None:
            resolver, _ = resolving({"localhost": ["127.0.0.1"]})
        client = build_client(policy, resolver=resolver, backend=backend)
        clients.append(client)
        return Fetcher(client, timeouts=timeouts, clock=clock)

    yield make
    for client in clients:
        await client.aclose()
