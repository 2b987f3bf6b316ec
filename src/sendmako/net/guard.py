"""The private-address guard for every outgoing request made on a user's behalf (media
downloads, webhooks): no loopback, private, link-local, multicast, unspecified, reserved or
cloud-metadata address, unless the operator allows it (`SENDMAKO_ALLOW_PRIVATE_HOSTS`).

The check sits at the connection level, in the function the HTTP transport (http1.py) opens
every connection with: the guard resolves the name itself, checks every address, then
connects to the checked address. The address
checked is the address connected to, so a DNS answer that changes between a check and a
connect (DNS rebinding) cannot slip through, and every redirect hop, being a new
connection, is checked again. The resolver and the opener under the guard are injectable,
so tests can return any address from a name and see that nothing was connected to.

    build_client(policy) -> httpx.AsyncClient     one per process, shared
      Http1Transport (http1.py)  ->  Guard.connect: resolve -> refuse? -> open(address)
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import (
    Awaitable,
    Callable,
    Sequence,
)

import httpx

from sendmako import log
from sendmako.errors import BadRequest
from sendmako.net.addresses import AddressPolicy, IPAddress
from sendmako.net.hosts import parse_url
from sendmako.net.http1 import READ_BYTES, Http1Transport, Streams

logger = log.get(__name__)

Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The operating system's resolver (getaddrinfo, in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


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
    except httpx.InvalidURL as exc:
        raise BadRequest(f"{field}: not a valid URL ({exc}).", field=field) from exc
    # The ASCII (IDNA) form: the name the transport resolves and connects to.
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = list(await resolver(host, port))
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


async def open_tcp(
    address: str, port: int, context: ssl.SSLContext | None, server_hostname: str
) -> Streams:
    """Connect to `address` (already checked); with TLS, the certificate is checked against
    the name the URL gave."""
    return await asyncio.open_connection(
        address,
        port,
        ssl=context,
        server_hostname=server_hostname if context is not None else None,
        limit=READ_BYTES,
    )


# (checked address, port, TLS context or None, the URL's host name) -> an open connection.
Opener = Callable[[str, int, ssl.SSLContext | None, str], Awaitable[Streams]]


class Guard:
    """Opens connections for the HTTP transport: resolves, checks every address, then
    connects to a checked address. Refusal raises `BadRequest` (code
    `address_not_allowed`) before any connection is tried."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver = system_resolver,
        opener: Opener = open_tcp,
    ) -> None:
        self.policy = policy
        self._resolve = resolver
        self._open = opener

    async def connect(
        self, host: str, port: int, context: ssl.SSLContext | None, timeout: float | None
    ) -> Streams:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        addresses = await self._addresses(host, port, deadline)
        for address in addresses:
            reason = self.policy.refusal(host, address)
            if reason is not None:
                logger.warning(
                    "guard.refused", host=host, address=str(address), port=port, reason=reason
                )
                raise address_refused(host, reason)
        failure: OSError | None = None
        for address in addresses:
            try:
                async with asyncio.timeout_at(deadline):
                    return await self._open(str(address), port, context, host)
            except TimeoutError:
                raise
            except OSError as exc:  # try the next address, like getaddrinfo users
                failure = exc
        assert failure is not None
        raise failure

    async def _addresses(self, host: str, port: int, deadline: float | None) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass  # a name: resolve it
        async with asyncio.timeout_at(deadline):
            try:
                addresses = list(await self._resolve(host, port))
            except OSError as exc:
                raise OSError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise OSError(f"{host} has no address")
        return addresses


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying context, built once: loading the CA bundle takes a while."""
    return httpx.create_ssl_context()


def build_client(
    policy: AddressPolicy,
    *,
    resolver: Resolver = system_resolver,
    opener: Opener = open_tcp,
    timeout: httpx.Timeout | None = None,
) -> httpx.AsyncClient:
    """The guarded client: one per process, shared by everything that fetches on a user's
    behalf. Redirects are not followed (callers follow them, each hop checked again), and
    the environment's proxy settings are ignored (a proxy would bypass the guard)."""
    return httpx.AsyncClient(
        transport=Http1Transport(
            Guard(policy, resolver=resolver, opener=opener).connect,
            ssl_context=default_ssl_context,
        ),
        follow_redirects=False,
        trust_env=False,
        timeout=timeout if timeout is not None else httpx.Timeout(30.0, connect=10.0),
    )
