"""A client whose answers come from a plain function, in process: nothing is connected to
(httpx's MockTransport, for our interface). Tests give the webhook dispatcher one as its
receiver; the function may also raise a `TransportError` (a `ReadTimeout`, say) to stand
for a failure on the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from sendmako.net.client import Answer, HttpClient, Timeouts


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: URL
    headers: CIMultiDictProxy[str]  # names are case-insensitive
    body: bytes


@dataclass(frozen=True, slots=True)
class Response:
    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response | Awaitable[Response]]


class MockClient(HttpClient):
    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    @asynccontextmanager
    async def request(
        self,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeouts: Timeouts,  # nothing to wait for: the handler answers at once
    ) -> AsyncIterator[Answer]:
        request = Request(method, url, CIMultiDictProxy(CIMultiDict(headers or {})), body or b"")
        answered = self._handler(request)
        response = answered if isinstance(answered, Response) else await answered
        yield _Answer(response, url)


class _Answer(Answer):
    def __init__(self, response: Response, url: URL) -> None:
        self.status = response.status
        self.headers = CIMultiDictProxy(CIMultiDict(response.headers))
        self.url = url
        body = response.body
        self._body = body.encode() if isinstance(body, str) else body

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._body:
            yield self._body
