"""Fixtures for media tests: a real origin server on 127.0.0.1, and fetchers whose network
layer the test controls (a resolver that answers any address, a socket factory that records
connection attempts and, for anything but loopback, never makes them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable

import pytest

from sendmako.media.fetch import Fetcher, FetchTimeouts
from sendmako.net.addresses import AddressPolicy
from sendmako.net.guard import Resolver, Sockets
from sendmako.net.guarded import build_client
from tests.media.origin import Origin
from tests.network import RecordingSockets, resolving


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    server = Origin()
    await server.start()
    yield server
    await server.stop()


FetcherFactory = Callable[..., Fetcher]


@pytest.fixture
async def make_fetcher() -> AsyncIterator[FetcherFactory]:
    """`make_fetcher(allow=[...], resolver=..., sockets=..., timeouts=..., clock=...)`."""
    clients = []

    def make(
        *,
        allow: Iterable[str] = ("127.0.0.1",),
        resolver: Resolver | None = None,
        sockets: Sockets | None = None,
        timeouts: FetchTimeouts | None = None,
        clock: Callable[[], float] | None = None,
    ) -> Fetcher:
        policy = AddressPolicy.allowing(allow)
        if resolver is None:
            resolver, _ = resolving({"localhost": ["127.0.0.1"]})
        client = build_client(policy, resolver=resolver, sockets=sockets or RecordingSockets())
        clients.append(client)
        return Fetcher(client, timeouts=timeouts, clock=clock)

    yield make
    for client in clients:
        await client.close()
