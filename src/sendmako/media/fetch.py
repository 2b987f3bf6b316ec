"""Downloads on a user's behalf: a size cap enforced while streaming, timeouts, redirects
followed one by one (each hop checked again), the content type read from the bytes.

Every connection goes through the private-address guard (`guard.py`, inside the shared
client). `Fetcher.open` streams (decrypt-media verifies while it downloads); `Fetcher.fetch`
returns the whole file (send-message). Errors follow the API contract, each naming the field
the URL came in:

    refused by the guard or the host allow-list, bad URL    400 BadRequest   (field)
    larger than the limit (declared or counted)             400 BadRequest   (names the limit)
    unreachable, timed out, not 2xx, broken off             422 OperationFailed (names the status)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import unquote

import httpx

from sendmako import log
from sendmako.errors import BadRequest, OperationFailed
from sendmako.media.sniff import SNIFF_BYTES, sniff
from sendmako.net.hosts import HostAllowList, parse_url, under_prefix

logger = log.get(__name__)

MB = 1 << 20

# Where the sandbox engine serves the encrypted files of its simulated messages, under the
# server's public URL (outside /api: like WhatsApp's CDN, the URL needs no API key; the
# mediaKey is what protects the file). decrypt-media always fetches from there.
SANDBOX_MEDIA_PATH = "/media/sandbox/"

# WhatsApp's CDN, for a decrypt-media request that gives only directPath.
WHATSAPP_MEDIA_ORIGIN = "https://mmg.whatsapp.net"

USER_AGENT = "Sendmako media fetcher"


@dataclass(frozen=True, slots=True)
class SizeLimit:
    max_bytes: int
    what: str  # "images": the message says "the 16 MB limit for images"

    def __str__(self) -> str:
        return f"{human_size(self.max_bytes)} limit for {self.what}"


# API.md "Messages": the largest file of each message type.
MEDIA_LIMITS = {
    "image": SizeLimit(16 * MB, "images"),
    "video": SizeLimit(50 * MB, "videos"),
    "audio": SizeLimit(15 * MB, "audio"),
    "document": SizeLimit(70 * MB, "documents"),
    "sticker": SizeLimit(1 * MB, "stickers"),
}


def human_size(size: int) -> str:
    if size % MB == 0:
        return f"{size // MB} MB"
    if size >= MB:
        return f"{size / MB:.1f} MB"
    return f"{size} bytes"


@dataclass(frozen=True, slots=True)
class FetchTimeouts:
    connect: float = 10.0  # resolving the name and opening the connection
    read: float = 30.0  # between two pieces of the answer
    total: float = 300.0  # the whole download, so a trickling server cannot hold us forever


# -- which hosts ---------------------------------------------------------------------------


def sandbox_media_prefix(public_url: str) -> str:
    """The sandbox's media URL prefix for a server reached at `public_url`."""
    return public_url.rstrip("/") + SANDBOX_MEDIA_PATH


@dataclass(frozen=True, slots=True)
class TrustedPrefix:
    """URLs under `prefix` are fetched with `client` instead of the guarded one: the
    server's own sandbox media, often on a loopback address the guard refuses."""

    prefix: str
    client: httpx.AsyncClient


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class FetchedFile:
    content: bytes
    mimetype: str  # read from the bytes; else the server's Content-Type; else octet-stream
    sniffed: str | None  # what the bytes say, None when not recognised
    declared_type: str | None  # the server's Content-Type, without parameters
    filename: str | None  # from Content-Disposition, else the URL's last path segment
    url: str  # after redirects

    def __repr__(self) -> str:
        return f"FetchedFile({self.mimetype}, {len(self.content)} bytes)"


class Download:
    """An answer being downloaded: its headers, then its body through `chunks()`."""

    def __init__(
        self,
        response: httpx.Response,
        *,
        field: str,
        limit: SizeLimit,
        deadline: float,
        clock: Callable[[], float],
        total_timeout: float,
    ) -> None:
        self.url = response.url
        self.headers = response.headers
        self.declared_length = _content_length(response.headers)
        self._response = response
        self._field = field
        self._limit = limit
        self._deadline = deadline
        self._clock = clock
        self._total_timeout = total_timeout
        self.received = 0

    @property
    def declared_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.split(";", 1)[0].strip().lower() or None if value else None

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives. Raises (400) as soon as it passes the limit: nothing past
        the limit is read. The read timeout bounds each wait; the total timeout is checked
        after each piece (a trickle of bytes cannot keep the download alive forever)."""
        host = self.url.host
        try:
            async for chunk in self._response.aiter_raw():
                self.received += len(chunk)
                if self.received > self._limit.max_bytes:
                    raise too_large(self._field, self._limit)
                if self._clock() > self._deadline:
                    raise too_slow(self._field, host, self._total_timeout)
                yield chunk
        except httpx.HTTPError as exc:
            raise download_failed(self._field, host, exc) from exc
        if self.declared_length is not None and self.received != self.declared_length:
            raise OperationFailed(
                f"{self._field}: download failed: {host} sent {self.received} of the "
                f"{self.declared_length} bytes it announced.",
                code="download_failed",
            )


def too_large(field: str, limit: SizeLimit) -> BadRequest:
    return BadRequest(
        f"{field}: the file is larger than the {limit}.", field=field, code="media_too_large"
    )


def too_slow(field: str, host: str, total: float) -> OperationFailed:
    return OperationFailed(
        f"{field}: download failed: {host} took longer than {total:g} s.",
        code="download_timeout",
    )


def download_failed(field: str, host: str, exc: Exception) -> OperationFailed:
    if isinstance(exc, httpx.TimeoutException):
        phase = "connect" if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout) else "read"
        return OperationFailed(
            f"{field}: download failed: {host} did not answer in time ({phase} timeout).",
            code="download_timeout",
        )
    if isinstance(exc, httpx.ConnectError):
        detail = "could not be reached"
    elif isinstance(exc, httpx.RemoteProtocolError):
        detail = "broke off the download or answered something that is not HTTP"
    else:
        detail = f"failed ({type(exc).__name__})"
    return OperationFailed(f"{field}: download failed: {host} {detail}.", code="download_failed")


def _content_length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


# -- the fetcher ---------------------------------------------------------------------------

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Fetcher:
    """Downloads URLs given by users. One per process, around the shared guarded client."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeouts: FetchTimeouts | None = None,
        max_redirects: int = 5,
        trusted: TrustedPrefix | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._client = client
        self.timeouts = timeouts if timeouts is not None else FetchTimeouts()
        self._max_redirects = max_redirects
        self._trusted = trusted
        self._clock = clock

    @asynccontextmanager
    async def open(
        self,
        url: str,
        *,
        field: str,
        limit: SizeLimit,
        allow: HostAllowList | None = None,
    ) -> AsyncIterator[Download]:
        """Follow redirects to a 2xx answer and hand over its body as a `Download`.

        `field` names the request field the URL came from, in every error. With `allow`,
        only those hosts are fetched, at every hop."""
        clock = self._clock or asyncio.get_running_loop().time
        deadline = clock() + self.timeouts.total
        timeout = httpx.Timeout(
            self.timeouts.read, connect=self.timeouts.connect, pool=self.timeouts.connect
        )
        current = _parse(url, field)
        for _hop in range(self._max_redirects + 1):
            _check(current, field, allow)
            client = self._client_for(current)
            request = client.build_request(
                "GET",
                current,
                headers={"Accept-Encoding": "identity", "User-Agent": USER_AGENT},
                timeout=timeout,
            )
            try:
                # The total timeout covers the answer's head too (and an in-process answer).
                async with asyncio.timeout(max(0.0, deadline - clock())):
                    response = await client.send(request, stream=True)
            except TimeoutError as exc:
                raise too_slow(field, current.host, self.timeouts.total) from exc
            except BadRequest as exc:  # the guard refused the address
                raise BadRequest(f"{field}: {exc.message}", field=field, code=exc.code) from exc
            except httpx.HTTPError as exc:
                raise download_failed(field, current.host, exc) from exc
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = _redirect_target(current, response.headers["location"], field)
                    logger.debug("fetch.redirect", field=field, status=response.status_code)
                    continue
                yield self._accept(
                    response,
                    url=current,
                    field=field,
                    limit=limit,
                    deadline=deadline,
                    clock=clock,
                )
                return
            finally:
                await response.aclose()
        raise OperationFailed(
            f"{field}: download failed: more than {self._max_redirects} redirects.",
            code="download_failed",
        )

    def _client_for(self, url: httpx.URL) -> httpx.AsyncClient:
        trusted = self._trusted
        if trusted is not None and under_prefix(url, trusted.prefix):
            return trusted.client
        return self._client

    def _accept(
        self,
        response: httpx.Response,
        *,
        url: httpx.URL,
        field: str,
        limit: SizeLimit,
        deadline: float,
        clock: Callable[[], float],
    ) -> Download:
        if not 200 <= response.status_code < 300:
            raise OperationFailed(
                f"{field}: download failed: {url.host} answered HTTP {response.status_code}.",
                code="download_failed",
            )
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            # We asked for identity; decoding a compressed body could expand it past any cap.
            raise OperationFailed(
                f"{field}: download failed: {url.host} sent a {encoding}-encoded body.",
                code="download_failed",
            )
        download = Download(
            response,
            field=field,
            limit=limit,
            deadline=deadline,
            clock=clock,
            total_timeout=self.timeouts.total,
        )
        if download.declared_length is not None and download.declared_length > limit.max_bytes:
            raise BadRequest(
                f"{field}: the file is {human_size(download.declared_length)}, larger than the "
                f"{limit}.",
                field=field,
                code="media_too_large",
            )
        return download

    async def fetch(
        self,
        url: str,
        *,
        field: str,
        limit: SizeLimit,
        allow: HostAllowList | None = None,
    ) -> FetchedFile:
        """The whole file in memory (at most `limit`), with its type read from the bytes."""
        async with self.open(url, field=field, limit=limit, allow=allow) as download:
            pieces = [chunk async for chunk in download.chunks()]
        content = b"".join(pieces)
        sniffed = sniff(content[:SNIFF_BYTES])
        declared = download.declared_type
        return FetchedFile(
            content=content,
            mimetype=sniffed or declared or "application/octet-stream",
            sniffed=sniffed,
            declared_type=declared,
            filename=_filename(download.headers, download.url),
            url=str(download.url),
        )


def _parse(url: str, field: str) -> httpx.URL:
    try:
        parsed = parse_url(url.strip())
    except httpx.InvalidURL as exc:
        raise BadRequest(f"{field}: not a valid URL.", field=field) from exc
    return parsed


def _check(url: httpx.URL, field: str, allow: HostAllowList | None) -> None:
    if url.scheme not in ("http", "https") or not url.host:
        raise BadRequest(f"{field}: only http and https URLs can be fetched.", field=field)
    if allow is not None and not allow.allows(url):
        raise BadRequest(
            f"{field}: {url.scheme}://{url.host} is not a media host this server fetches from "
            "(the operator can add it to SENDMAKO_MEDIA_HOSTS).",
            field=field,
            code="host_not_allowed",
        )


def _redirect_target(current: httpx.URL, location: str, field: str) -> httpx.URL:
    try:
        return parse_url(str(current.join(location.strip())))
    except httpx.InvalidURL as exc:
        raise OperationFailed(
            f"{field}: download failed: {current.host} redirected to an invalid URL.",
            code="download_failed",
        ) from exc


_DISPOSITION_NAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def _filename(headers: httpx.Headers, url: httpx.URL) -> str | None:
    disposition = headers.get("content-disposition", "")
    found = _DISPOSITION_NAME.findall(disposition)
    name = unquote(found[-1]) if found else unquote(url.path.rsplit("/", 1)[-1])
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or None
