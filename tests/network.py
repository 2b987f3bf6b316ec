"""Test doubles for the network under the private-address guard: a socket factory that
records connection attempts (and only ever lets them go to loopback), table-driven
resolvers, and a loopback port whose connections never open."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiohttp import AddrInfoType

from sendmako.net.addresses import IPAddress
from sendmako.net.guard import Resolver, plain_socket


@dataclass
class RecordingSockets:
    """The guard's socket factory for tests: records every connection attempt the guard let
    through (address, port). Makes a socket only for loopback, when `real`; anything else
    is recorded and refused before any packet leaves, so a test can never reach a real
    network."""

    real: bool = True
    attempts: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, addr_info: AddrInfoType) -> socket.socket:
        address, port = str(addr_info[4][0]), int(addr_info[4][1])
        self.attempts.append((address, port))
        if not self.real or not ipaddress.ip_address(address).is_loopback:
            raise ConnectionRefusedError(f"test sockets: not connecting to {address}")
        return plain_socket(addr_info)


def resolving(table: dict[str, Sequence[str]]) -> tuple[Resolver, list[str]]:
    """A resolver answering from `table` (and recording the names asked)."""
    asked: list[str] = []

    async def resolve(host: str, _port: int) -> list[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address(a) for a in table[host]]

    return resolve, asked


@contextmanager
def port_that_never_accepts() -> Iterator[int]:
    """A port on 127.0.0.1 whose connections never open: its listener's queue holds one
    connection, which is already made, so the kernel drops every later SYN and the
    client's connect waits (a connect timeout, with no packet leaving loopback)."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port: int = listener.getsockname()[1]
        filler.connect(("127.0.0.1", port))
        yield port
