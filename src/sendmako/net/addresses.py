"""Which addresses a request made on a user's behalf may reach: public unicast addresses,
plus what the operator allows (`SENDMAKO_ALLOW_PRIVATE_HOSTS`). Pure policy; `guard.py`
applies it to every connection."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance-metadata endpoints hand out credentials: refused even when a private range
# that contains them is allowed; only the exact address, allowed by itself, opens one.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS VPC DNS
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::253",
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and reaches (mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_blocked(address: IPAddress) -> str | None:
    """Why an address is off limits by default (None: a public unicast address)."""
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = why_blocked(inner)
        return None if reason is None else f"{reason} (inside an IPv6 address)"
    checks = (
        (address in METADATA_ADDRESSES, "cloud metadata"),
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        # Shared (CGNAT), benchmarking, documentation and other special-purpose ranges.
        (not address.is_global, "not publicly routable"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """What may be connected to: public addresses, plus what the operator allows."""

    allowed_hosts: frozenset[str] = frozenset()  # names; "*.example.com" for subdomains
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, entries: Iterable[str]) -> AddressPolicy:
        """From `SENDMAKO_ALLOW_PRIVATE_HOSTS` entries: names, addresses or CIDR ranges."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """None when `host` may be reached at `address`; else the reason it may not."""
        reason = why_blocked(address)
        if reason is None:
            return None
        if address in METADATA_ADDRESSES:
            exact = any(n.num_addresses == 1 and address in n for n in self.allowed_networks)
            return None if exact else reason
        if self._host_allowed(host) or any(address in n for n in self.allowed_networks):
            return None
        return reason

    def _host_allowed(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        if name in self.allowed_hosts:
            return True
        return any(
            pattern.startswith("*.") and name.endswith(pattern[1:])
            for pattern in self.allowed_hosts
        )
