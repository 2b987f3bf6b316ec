"""Test doubles for the network under the private-address guard: an opener that records
connection attempts (and only ever connects to loopback), and table-driven resolvers."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

from sendmako.net.addresses import IPAddress
from sendmako.net.guard import Resolver, open_tcp
from sendmako.net.http1 import Streams


@dataclass
class RecordingOpener:
    """Records every connection attempt (address, port). Connects for real only to
    loopback, when `real`; anything else is recorded and fails, so a test can never reach
    a real network. With `hang`, an attempt never completes (a connect timeout)."""

    real: bool = True
    hang: bool = False
    attempts: list[tuple[str, int]] = field(default_factory=list)

    async def __call__(
        self, address: str, port: int, context: ssl.SSLContext | None, server_hostname: str
    ) -> Streams:
        self.attempts.append((address, port))
        if self.hang:
            await asyncio.Event().wait()
        if not self.real or not address.startswith("127."):
            raise ConnectionRefusedError(f"test opener: not connecting to {address}")
        return await open_tcp(address, port, context, server_hostname)


def resolving(table: dict[str, Sequence[str]]) -> tuple[Resolver, list[str]]:
    """A resolver answering from `table` (and recording the names asked)."""
    asked: list[str] = []

    async def resolve(host: str, _port: int) -> list[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address(a) for a in table[host]]

    return resolve, asked
