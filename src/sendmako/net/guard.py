"""The private-address guard for every outgoing request made on a user's behalf (media
downloads, webhooks): no loopback, private, link-local, multicast, unspecified, reserved or
cloud-metadata address, unless the operator allows it (`SENDMAKO_ALLOW_PRIVATE_HOSTS`).

The check sits at the connection level, in the two hooks aiohttp's TCPConnector opens every
connection with (guarded.py builds the connector):

- its resolver is `Guard.resolve`: the guard resolves the name itself (an injectable
  `Resolver`), refuses the whole name if any of its addresses is off limits (by the
  policy, which may allow a name), and hands aiohttp only checked addresses, which it
  connects to without resolving again. A DNS answer that changes between a check and a
  connect (DNS rebinding) cannot slip through.
- its socket factory is `Guard.socket`, called for every connection attempt with the very
  address about to be connected to: the last gate. An address the resolver approved for
  this request passes; any other (an address written in the URL, which aiohttp connects to
  without asking the resolver) must be allowed on its own. So whatever aiohttp takes for
  an address, the address checked is the address connected to.

Every redirect hop is a new request (callers follow redirects themselves), so it is checked
again. A refusal raises `BadRequest` (code `address_not_allowed`) before any connection is
tried. The resolver and what makes the sockets are injectable: tests answer any address
from a name and count the connection attempts, which only ever go to loopback.

    build_client(policy) -> GuardedClient (guarded.py)     one per process, shared
      aiohttp ClientSession -> TCPConnector
        resolver:        Guard.resolve  name -> Resolver -> refuse? -> approve (this task)
        socket_factory:  Guard.socket   address -> approved, or allowed alone? -> Sockets
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar

from aiohttp import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult

from sendmako import log
from sendmako.errors import BadRequest
from sendmako.net.addresses import AddressPolicy, IPAddress
from sendmako.net.hosts import InvalidURL, parse_url, port_of

logger = log.get(__name__)

# (name, port) -> its addresses. Raises OSError when the name cannot be resolved.
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
# An address about to be connected to (as getaddrinfo gives it) -> a new socket for it.
Sockets = Callable[[AddrInfoType], socket.socket]


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The operating system's resolver (getaddrinfo, in a thread)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (ValueError, UnicodeError) as exc:  # a name getaddrinfo cannot even take
        raise OSError(f"not a name that can be resolved: {exc}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def plain_socket(addr_info: AddrInfoType) -> socket.socket:
    """A new TCP socket for the address (what aiohttp makes without a socket factory)."""
    family, type_, proto, _name, _sockaddr = addr_info
    return socket.socket(family, type_, proto)


def address_refused(host: str, reason: str) -> BadRequest:
    # The message says the kind of address, not the address: the caller is an API user, and
    # the operator's internal DNS is none of their business (the log has the address).
    return BadRequest(
        f"the URL's host {host} points to a {reason} address, which this server does not "
        "fetch (the operator can allow it with SENDMAKO_ALLOW_PRIVATE_HOSTS).",
        code="address_not_allowed",
    )


async def check_destination(
    url: str, policy: AddressPolicy, resolver: Resolver, *, field: str
) -> None:
    """Refuse, before anything is sent, a URL whose host is or resolves to an address the
    policy forbids (e.g. a webhook URL when it is saved; delivery checks again, since the
    name may resolve differently by then)."""
    try:
        parsed = parse_url(url)
    except InvalidURL as exc:
        raise BadRequest(f"{field}: not a valid URL ({exc}).", field=field) from exc
    # The ASCII (IDNA) form: the name the client resolves and connects to.
    host = parsed.raw_host
    if not host:
        raise BadRequest(f"{field}: the URL has no host.", field=field)
    try:
        addresses = [_address(host)]
    except ValueError:
        try:
            addresses = list(await resolver(host, port_of(parsed)))
        except OSError as exc:
            raise BadRequest(
                f"{field}: the host {host} could not be resolved ({exc.strerror or exc})",
                field=field,
                code="host_unresolved",
            ) from exc
    for address in addresses:
        reason = policy.refusal(host, address)
        if reason is not None:
            refused = address_refused(host, reason)
            raise BadRequest(f"{field}: {refused.message}", field=field, code=refused.code)


def _address(host: str) -> IPAddress:
    """The address `host` is written as (an IPv6 zone dropped); ValueError for a name."""
    return ipaddress.ip_address(host.split("%", 1)[0])


# The addresses the resolver approved for the request this task is making. aiohttp resolves
# and makes the sockets in the request's own task (or in tasks started from it, which see
# the value too); an address not found here is judged on its own, which can only refuse more.
_approved: ContextVar[frozenset[IPAddress]] = ContextVar("approved", default=frozenset())


class Guard(AbstractResolver):
    """aiohttp's resolver and socket factory in one: resolves and checks names, then checks
    again every address a connection is attempted to. Refusal raises `BadRequest` (code
    `address_not_allowed`) before any connection is tried."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver = system_resolver,
        sockets: Sockets = plain_socket,
    ) -> None:
        self.policy = policy
        self._resolve = resolver
        self._sockets = sockets

    @staticmethod
    def new_request() -> None:
        """Forget what was approved for this task's previous request."""
        _approved.set(frozenset())

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = list(await self._resolve(host, port))
        except OSError as exc:
            raise OSError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise OSError(f"{host} has no address")
        for address in addresses:
            self._check(host, address)
        _approved.set(frozenset(addresses))
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        return

    def socket(self, addr_info: AddrInfoType) -> socket.socket:
        """Called for every connection attempt, with the address about to be connected."""
        host = str(addr_info[4][0])
        try:
            address = _address(host)
        except ValueError:  # not an address at all: nothing the policy could allow
            logger.warning("guard.refused", host=host, reason="not an address")
            raise address_refused(host, "malformed") from None
        if address not in _approved.get():
            self._check(host, address)  # an address written in the URL
        return self._sockets(addr_info)

    def _check(self, host: str, address: IPAddress) -> None:
        reason = self.policy.refusal(host, address)
        if reason is not None:
            logger.warning("guard.refused", host=host, address=str(address), reason=reason)
            raise address_refused(host, reason)
