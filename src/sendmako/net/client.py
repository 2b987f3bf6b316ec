"""The HTTP client interface that media downloads and webhook deliveries use, and its
errors. Three implementations, like httpx's transports:

    HttpClient          request(method, url, ...) -> async context of an Answer
    ├── GuardedClient   (guarded.py) aiohttp under the private-address guard: any URL a
    │                   user gave us
    ├── AppClient       (inprocess.py) an ASGI app in this process: the server's own
    │                   sandbox media
    └── MockClient      (mock.py) a plain function answers: tests

No library type crosses this interface: answers are `Answer`s, failures below HTTP are the
tree below, and a refusal by the guard is `sendmako.errors.BadRequest` (code
`address_not_allowed`), raised before any connection is tried. Callers map these to the
API's errors, naming the request field the URL came from.

    TransportError          nothing usable came back: the exchange failed below HTTP
    ├── ConnectError        no connection (refused, unreachable, no such name, TLS failed)
    ├── Timeout
    │   ├── ConnectTimeout  resolving and connecting took longer than the connect timeout
    │   └── ReadTimeout     the answer (its head or the next piece of its body) stalled
    ├── ProtocolError       the server broke off, or answered something that is not HTTP
    └── ReadError           the connection failed otherwise (reset while reading)

Redirects are never followed here: a 3xx is an answer like any other, and callers that
follow redirects request each hop themselves, so each hop is checked again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from yarl import URL


class TransportError(Exception):
    """The exchange failed below HTTP: nothing usable came back."""


class ConnectError(TransportError):
    """No connection could be opened."""


class Timeout(TransportError):
    """A timeout of the client's own (connect or read); a caller's total timeout is the
    caller's `asyncio.timeout`."""


class ConnectTimeout(Timeout):
    """Resolving the name and opening the connection took too long."""


class ReadTimeout(Timeout):
    """The answer stalled: no byte of it for longer than the read timeout."""


class ProtocolError(TransportError):
    """The server broke off the answer, or answered something that is not HTTP."""


class ReadError(TransportError):
    """The connection failed otherwise."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float  # resolving the name and opening the connection (or waiting for one)
    read: float  # between two pieces of the answer, its head included


class Answer(ABC):
    """An answer whose head has arrived; its body arrives through `chunks()`."""

    status: int
    headers: Mapping[str, str]  # names are case-insensitive
    url: URL

    @abstractmethod
    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, as sent (never decompressed). A reader may stop early:
        leaving the context then closes the connection rather than reuse it."""


class HttpClient(ABC):
    """Sends requests; one per process, shared (its connections are kept alive)."""

    @abstractmethod
    def request(
        self,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeouts: Timeouts,
    ) -> AbstractAsyncContextManager[Answer]:
        """Send one request (no redirect followed) and hand over its answer once the head
        has arrived. Raises a `TransportError`, or `BadRequest` when the guard refuses the
        address; nothing else."""

    async def close(self) -> None:
        """Close the connections kept for later requests."""
        return
