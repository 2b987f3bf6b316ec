"""Test doubles for the network under the private-address guard: a backend that records
connection attempts (and only ever connects to loopback), and table-driven resolvers."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import httpcore

from sendmako.media.addresses import IPAddress
from sendmako.media.guard import Resolver


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
