"""The client's address, for the login throttle and the logs: the peer's address, unless the
peer is a reverse proxy named in `SENDMAKO_TRUSTED_PROXIES`.

A request from a trusted proxy is read from the right: each proxy appends the address it
received the request from, so the last address not itself a trusted proxy is the client's;
whatever the client wrote to the left of it is never believed. `X-Forwarded-For` is read
when present, else `Forwarded` (RFC 7239): a proxy that sets `Forwarded` must also drop any
`X-Forwarded-For` the client sent. From any other peer (and with no proxy configured, the
default) both headers are ignored: anyone can write them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TrustedProxies:
        """Addresses and CIDR ranges (validated by the settings already)."""
        return cls(tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries))

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def client_address(self, peer: str, headers: Headers) -> str:
        """The address the request came from, as far as it can be known."""
        peer_ip = _ip(peer)
        if peer_ip is None or not self.networks or not self.trusts(peer_ip):
            return peer
        client = peer_ip
        for hop in reversed(_forwarded_for(headers)):
            hop_ip = _ip(hop)
            if hop_ip is None:  # garbage where an address should be: stop at the last proxy
                break
            client = hop_ip
            if not self.trusts(hop_ip):
                break
        return str(client)


def _forwarded_for(headers: Headers) -> list[str]:
    """The addresses a request went through, oldest first."""
    forwarded_for = headers.getlist("x-forwarded-for")
    if forwarded_for:
        return [hop.strip() for value in forwarded_for for hop in value.split(",")]
    hops = []
    for value in headers.getlist("forwarded"):
        for element in value.split(","):
            for pair in element.split(";"):
                name, _, token = pair.strip().partition("=")
                if name.strip().lower() == "for":
                    hops.append(token.strip().strip('"'))
    return hops


def _ip(value: str) -> Address | None:
    """An address written as `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:80`."""
    value = value.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None
