"""An ASGI app in this process behind the client interface: the server's own sandbox media,
fetched from the very app that serves it (its public URL is often loopback, which the guard
refuses, or not reachable from the server itself). Nothing goes over the network, so the
guard has nothing to check; httpx's ASGI transport does the ASGI side."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from starlette.types import ASGIApp
from yarl import URL

from sendmako.net.client import Answer, HttpClient, Timeouts, TransportError


class AppClient(HttpClient):
    def __init__(self, app: ASGIApp) -> None:
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), trust_env=False
        )

    @asynccontextmanager
    async def request(
        self,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeouts: Timeouts,  # in process: the caller's total timeout is enough
    ) -> AsyncIterator[Answer]:
        request = self._client.build_request(method, str(url), headers=headers, content=body)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from exc
        try:
            yield _Answer(response, url)
        finally:
            await response.aclose()

    async def close(self) -> None:
        await self._client.aclose()


class _Answer(Answer):
    def __init__(self, response: httpx.Response, url: URL) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.url = url
        self._response = response

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            raise TransportError(str(exc) or type(exc).__name__) from exc
