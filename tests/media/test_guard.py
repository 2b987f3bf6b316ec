"""The private-address guard: what it refuses, what the operator can allow, and that it
decides on the resolved address before any connection is attempted (and to that address).

No test here connects anywhere but loopback: names come from an injected resolver, and the
socket factory records attempts (and makes sockets for loopback only)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from sendmako.errors import BadRequest, OperationFailed
from sendmako.media.fetch import SizeLimit
from sendmako.net.addresses import AddressPolicy, why_blocked
from sendmako.net.guard import Guard
from tests.media.conftest import FetcherFactory
from tests.media.origin import Origin
from tests.network import RecordingSockets, resolving

LIMIT = SizeLimit(1 << 20, "tests")

BLOCKED = {
    "127.0.0.1": "loopback",
    "127.9.9.9": "loopback",
    "::1": "loopback",
    "10.0.0.1": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "fc00::1": "private",
    "169.254.1.1": "link-local",
    "fe80::1": "link-local",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "0.0.0.0": "unspecified",  # noqa: S104 - an address under test, not a bind
    "::": "unspecified",
    "240.0.0.1": "reserved",
    "100.64.0.1": "not publicly routable",  # carrier-grade NAT
    "198.18.0.1": "private",  # benchmarking
    "169.254.169.254": "cloud metadata",
    "169.254.170.2": "cloud metadata",
    "fd00:ec2::254": "cloud metadata",
    "100.100.100.200": "cloud metadata",
    "192.0.0.192": "cloud metadata",
    "::ffff:127.0.0.1": "loopback (inside an IPv6 address)",
    "::ffff:10.0.0.1": "private (inside an IPv6 address)",
    "::ffff:169.254.169.254": "cloud metadata (inside an IPv6 address)",
    "2002:a00:1::1": "private (inside an IPv6 address)",  # 6to4 of 10.0.0.1
    "64:ff9b::a9fe:a9fe": "cloud metadata (inside an IPv6 address)",  # NAT64
}


@pytest.mark.parametrize(("address", "reason"), BLOCKED.items())
def test_every_blocked_family_is_named(address: str, reason: str) -> None:
    """Each kind of non-public address is blocked, with its kind as the reason."""
    assert why_blocked(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    """Public unicast addresses (also an IPv4-mapped public one) are not blocked."""
    assert why_blocked(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", BLOCKED)
async def test_a_name_resolving_to_a_blocked_address_is_refused_before_connecting(
    address: str, make_fetcher: FetcherFactory
) -> None:
    """The guard checks what the name resolves to, and refuses before any connection."""
    sockets = RecordingSockets(real=False)
    resolver, asked = resolving({"media.example.com": [address]})
    fetcher = make_fetcher(allow=[], resolver=resolver, sockets=sockets)
    with pytest.raises(BadRequest) as excinfo:
        await fetcher.fetch("https://media.example.com/a.jpg", field="imageUrl", limit=LIMIT)
    assert excinfo.value.field == "imageUrl"
    assert excinfo.value.code == "address_not_allowed"
    assert excinfo.value.message.startswith("imageUrl: the URL's host media.example.com")
    assert address not in excinfo.value.message  # the kind is told, never the address
    assert asked == ["media.example.com"]
    assert sockets.attempts == []


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "169.254.169.254",
        "[::1]",
        "[fd00:ec2::254]",
        "[::ffff:127.0.0.1]",
        "[fe80::1%25eth0]",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
    ],
)
async def test_a_literal_blocked_address_is_refused_before_connecting(
    address: str, make_fetcher: FetcherFactory
) -> None:
    """An address written in the URL is checked the same way, with no resolution."""
    sockets = RecordingSockets(real=False)
    resolver, asked = resolving({})
    fetcher = make_fetcher(allow=[], resolver=resolver, sockets=sockets)
    with pytest.raises(BadRequest):
        await fetcher.fetch(f"http://{address}/latest/meta-data/", field="url", limit=LIMIT)
    assert asked == []
    assert sockets.attempts == []


async def test_one_private_address_among_public_ones_refuses_the_name(
    make_fetcher: FetcherFactory,
) -> None:
    """A name answering a public and a private address is refused whole."""
    sockets = RecordingSockets(real=False)
    resolver, _ = resolving({"mixed.example": ["93.184.216.34", "10.0.0.7"]})
    fetcher = make_fetcher(allow=[], resolver=resolver, sockets=sockets)
    with pytest.raises(BadRequest):
        await fetcher.fetch("https://mixed.example/x", field="url", limit=LIMIT)
    assert sockets.attempts == []


async def test_the_connection_goes_to_the_address_that_was_checked(
    make_fetcher: FetcherFactory,
) -> None:
    """The socket is made for the checked address, not the name (no second resolution
    that DNS rebinding could answer differently)."""
    sockets = RecordingSockets(real=False)  # records the attempt, connects nowhere
    resolver, asked = resolving({"cdn.example": ["93.184.216.34"]})
    fetcher = make_fetcher(allow=[], resolver=resolver, sockets=sockets)
    with pytest.raises(OperationFailed) as excinfo:  # the test sockets refuse to connect
        await fetcher.fetch("https://cdn.example:8443/x", field="url", limit=LIMIT)
    assert "could not be reached" in excinfo.value.message
    assert asked == ["cdn.example"]
    assert sockets.attempts == [("93.184.216.34", 8443)]


def test_the_operator_can_allow_names_and_ranges() -> None:
    """Allowed names, addresses and CIDR ranges open those private addresses, no others."""
    policy = AddressPolicy.allowing(["intranet.local", "*.corp.example", "10.0.0.0/8", "::1"])
    private = ipaddress.ip_address("192.168.0.9")
    assert policy.refusal("intranet.local", private) is None
    assert policy.refusal("files.corp.example", private) is None
    assert policy.refusal("elsewhere.example", private) == "private"
    assert policy.refusal("x.example", ipaddress.ip_address("10.20.30.40")) is None
    assert policy.refusal("x.example", ipaddress.ip_address("::1")) is None
    assert policy.refusal("x.example", ipaddress.ip_address("127.0.0.1")) == "loopback"


def test_a_wide_range_never_opens_the_metadata_service() -> None:
    """169.254.0.0/16 or a name allowed does not unlock 169.254.169.254; the address does."""
    metadata = ipaddress.ip_address("169.254.169.254")
    wide = AddressPolicy.allowing(["169.254.0.0/16", "metadata.google.internal"])
    assert wide.refusal("metadata.google.internal", metadata) == "cloud metadata"
    assert wide.refusal("x", ipaddress.ip_address("169.254.3.3")) is None
    exact = AddressPolicy.allowing(["169.254.169.254"])
    assert exact.refusal("x", metadata) is None


async def test_a_name_the_operator_allowed_may_resolve_privately(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """An allowed name reaches its private address; the same address written in a URL is
    still refused (the name's approval is for its own requests only)."""
    sockets = RecordingSockets()
    resolver, asked = resolving({"media.internal": ["127.0.0.1"]})
    fetcher = make_fetcher(allow=["media.internal"], resolver=resolver, sockets=sockets)
    origin.file("/a.pdf", b"%PDF")
    fetched = await fetcher.fetch(origin.url("/a.pdf", "media.internal"), field="url", limit=LIMIT)
    assert fetched.content == b"%PDF"
    with pytest.raises(BadRequest) as excinfo:
        await fetcher.fetch(origin.url("/a.pdf"), field="url", limit=LIMIT)
    assert "loopback" in excinfo.value.message
    assert asked == ["media.internal"]
    assert sockets.attempts == [("127.0.0.1", origin.port)]


@pytest.mark.parametrize(
    ("sockaddr", "reason"),
    [
        (("10.0.0.1", 80), "private"),
        (("::1", 80, 0, 0), "loopback"),
        (("fe80::1%eth0", 80, 0, 2), "link-local"),
        (("not-an-address", 80), "malformed"),
    ],
)
def test_the_last_gate_refuses_what_nobody_approved(
    sockaddr: tuple[object, ...], reason: str
) -> None:
    """Whatever aiohttp connects to without asking the resolver (an address written in the
    URL) meets the socket factory: an address the policy refuses gets no socket."""
    sockets = RecordingSockets(real=False)
    guard = Guard(AddressPolicy.allowing(["127.0.0.1"]), sockets=sockets)
    family = socket.AF_INET6 if len(sockaddr) == 4 else socket.AF_INET
    with pytest.raises(BadRequest) as excinfo:
        guard.socket((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
    assert excinfo.value.code == "address_not_allowed"
    assert f"a {reason} address" in excinfo.value.message
    assert sockets.attempts == []
