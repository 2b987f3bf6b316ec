"""The guarded client: aiohttp under the private-address guard (guard.py), one per process,
for any URL a user gave us (media downloads, webhook deliveries).

aiohttp, a maintained HTTP stack, parses the answers of user-chosen hosts; its
TCPConnector takes the guard as its resolver and socket factory. (httpx's pool, httpcore,
cost about ten times aiohttp's CPU per webhook-sized POST here, and webhook delivery is
nothing but such requests.) What the session is set to, and why:

- no proxy from the environment (`trust_env=False`): a proxy would connect for us, unguarded;
- no redirect followed (`allow_redirects=False`): callers follow them, each hop checked;
- no DNS cache: every new connection is resolved, and checked, by the guard;
- no cookie jar: one client serves every user, and a cookie one user's host sets must not
  go out with another user's request;
- no decompression, and `Accept-Encoding: identity`: bodies are counted against size caps
  as they arrive, and a compressed one could expand past any cap;
- TLS verified, against the name in the URL (the socket goes to the checked address).

Every failure leaves as the error tree of client.py (or the guard's `BadRequest`): aiohttp's
exceptions are mapped here and nowhere else.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import aiohttp
import certifi
from yarl import URL

from sendmako.net.addresses import AddressPolicy
from sendmako.net.client import (
    Answer,
    ConnectError,
    ConnectTimeout,
    HttpClient,
    ProtocolError,
    ReadError,
    ReadTimeout,
    Timeouts,
    TransportError,
)
from sendmako.net.guard import Guard, Resolver, Sockets, plain_socket, system_resolver

# Reads take whatever the socket has, up to this much buffered: a 70 MB download is then a
# few hundred pieces, not the thousand-odd that aiohttp's default 64 KB buffer hands over.
READ_BYTES = 1 << 20
MAX_CONNECTIONS = 100  # of one pool (each user of outbound HTTP has its own: wiring.py)
# Below the 5 s that Node.js and others keep an idle connection: reusing one the server is
# closing at that moment fails the request (aiohttp retries only idempotent methods).
KEEPALIVE_SECONDS = 4.0

# What aiohttp (and the sockets under it) may raise; mapped by `_mapped`. RuntimeError: uvloop
# raises it where asyncio raises OSError (aiohappyeyeballs passes it on), and so does a
# session closed under a request at shutdown.
_FAILURES = (aiohttp.ClientError, OSError, TimeoutError, ValueError, RuntimeError)


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """A verifying context, built once (loading the CA bundle takes a while): the CAs of
    `SSL_CERT_FILE` or `SSL_CERT_DIR` when set, else certifi's bundle, as httpx chose them."""
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


class GuardedClient(HttpClient):
    """aiohttp, every connection opened through the guard. The session is made on first
    use, inside the running event loop."""

    def __init__(self, guard: Guard, *, connections: int = MAX_CONNECTIONS) -> None:
        self.guard = guard
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @asynccontextmanager
    async def request(
        self,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeouts: Timeouts,
    ) -> AsyncIterator[Answer]:
        if self._closed:  # a late request at shutdown must not open a new session
            raise TransportError("the client is closed")
        session = self._session or self._open()
        Guard.new_request()
        try:
            response = await session.request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(connect=timeouts.connect, sock_read=timeouts.read),
            )
        except _FAILURES as exc:
            raise _mapped(exc) from exc
        try:
            yield _Answer(response, url)
        finally:
            # Back to the pool if the body was read to its end, else closed.
            response.release()

    async def close(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            resolver=self.guard,
            socket_factory=self.guard.socket,
            use_dns_cache=False,
            ssl=default_ssl_context(),
            limit=self.connections,
            keepalive_timeout=KEEPALIVE_SECONDS,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,
            read_bufsize=READ_BYTES,
            headers={"Accept-Encoding": "identity"},
        )
        return self._session


class _Answer(Answer):
    def __init__(self, response: aiohttp.ClientResponse, url: URL) -> None:
        self.status = response.status
        self.headers = response.headers
        self.url = url
        self._content = response.content

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            try:
                data = await self._content.readany()
            except _FAILURES as exc:
                raise _mapped(exc) from exc
            if not data:
                return
            yield data


# aiohttp's messages may quote what the server sent: they end in webhook attempt logs.
DETAIL_CHARS = 200


def _mapped(exc: Exception) -> TransportError:
    detail = str(exc) or type(exc).__name__
    if len(detail) > DETAIL_CHARS:
        detail = detail[: DETAIL_CHARS - 1] + "…"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeout(detail)
    if isinstance(exc, TimeoutError):  # a read timeout (SocketTimeoutError)
        return ReadTimeout(detail)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(detail)
    if isinstance(
        exc,
        aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError,
    ):
        return ProtocolError(detail)
    if isinstance(exc, OSError):
        return ReadError(detail)
    return TransportError(detail)  # a URL or request aiohttp refuses to send


def build_client(
    policy: AddressPolicy,
    *,
    resolver: Resolver = system_resolver,
    sockets: Sockets = plain_socket,
    connections: int = MAX_CONNECTIONS,
) -> GuardedClient:
    """A guarded client with its own pool of at most `connections`: one per kind of work
    (webhooks, media), so one kind filling its pool (slow downloads, say) leaves the
    other's alone."""
    return GuardedClient(Guard(policy, resolver=resolver, sockets=sockets), connections=connections)
