"""The private-address guard for every outgoing request made on a user's behalf (media
downloads, webhooks): no loopback, private, link-local, multicast, unspecified, reserved or
cloud-metadata address, unless the operator allows it (`SENDMAKO_ALLOW_PRIVATE_HOSTS`).

The check sits at the connection level, inside httpcore's network backend: the guard resolves
the name itself, checks every address, then connects to the checked address. The address
checked is the address connected to, so a DNS answer that changes between a check and a
connect (DNS rebinding) cannot slip through, and every redirect hop, being a new
connection, is checked again. The resolver and the inner backend are injectable, so tests
can return any address from a name and see that nothing was connected to.

    build_client(policy) -> httpx.AsyncClient     one per process, shared
      GuardedTransport (httpx)  ->  httpcore pool  ->  GuardedBackend.connect_tcp
                                                         resolve -> refuse? -> connect(address)
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Sequence,
)

import httpcore
import httpx

from sendmako import log
from sendmako.errors import BadRequest
from sendmako.media.addresses import AddressPolicy, IPAddress

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
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)
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


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks, then connects to the checked
    address. Refusal raises `BadRequest` (code `address_not_allowed`) before any connect."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver = system_resolver,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self._resolve = resolver
        self._backend = backend if backend is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
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
        failure: Exception | None = None
        for address in addresses:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                # The deadline is enforced here too, whatever the inner backend does with it.
                async with asyncio.timeout_at(deadline):
                    stream = await self._backend.connect_tcp(
                        str(address),
                        port,
                        timeout=remaining,
                        local_address=local_address,
                        socket_options=socket_options,
                    )
                return _LargeReads(stream)
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(f"connecting to {host} timed out") from exc
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:  # try the next address, like getaddrinfo users
                failure = exc
        assert failure is not None
        raise failure

    async def _addresses(self, host: str, port: int, deadline: float | None) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass  # a name: resolve it
        try:
            async with asyncio.timeout_at(deadline):
                addresses = list(await self._resolve(host, port))
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        return addresses

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable through the guard")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


# httpcore asks for 64 KB per read, whatever is waiting: on a 70 MB download that is over a
# thousand trips through h11, httpcore and httpx, which cost more CPU than the bytes. Reads
# here take whatever the socket has, up to this much; httpcore hands each read whole to its
# HTTP parser, which takes any amount.
LARGE_READ_BYTES = 1 << 20


class _LargeReads(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max(max_bytes, LARGE_READ_BYTES), timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _LargeReads(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> object:
        return self._stream.get_extra_info(info)


# httpcore's errors as httpx's, most specific first (what httpx's own transport does).
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _mapped(exc: Exception) -> Exception:
    for source, target in _ERRORS:
        if isinstance(exc, source):
            return target(str(exc))
    return exc


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except Exception as exc:  # noqa: BLE001 - translated to httpx's errors, else re-raised
            mapped = _mapped(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying context, built once: loading the CA bundle takes a while."""
    return httpx.create_ssl_context()


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's HTTP/1.1 transport over a connection pool whose connections go through
    `GuardedBackend`. No proxy (a proxy would do the connecting, unguarded)."""

    def __init__(
        self,
        backend: GuardedBackend,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
        max_keepalive_connections: int = 20,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self.backend = backend
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context if ssl_context is not None else default_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await self._pool.handle_async_request(core_request)
        except Exception as exc:  # noqa: BLE001 - translated to httpx's errors, else re-raised
            mapped = _mapped(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


def build_client(
    policy: AddressPolicy,
    *,
    resolver: Resolver = system_resolver,
    backend: httpcore.AsyncNetworkBackend | None = None,
    timeout: httpx.Timeout | None = None,
) -> httpx.AsyncClient:
    """The guarded client: one per process, shared by everything that fetches on a user's
    behalf. Redirects are not followed (callers follow them, each hop checked again), and
    the environment's proxy settings are ignored (a proxy would bypass the guard)."""
    return httpx.AsyncClient(
        transport=GuardedTransport(GuardedBackend(policy, resolver=resolver, backend=backend)),
        follow_redirects=False,
        trust_env=False,
        timeout=timeout if timeout is not None else httpx.Timeout(30.0, connect=10.0),
    )
