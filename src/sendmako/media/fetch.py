"""Downloads on a user's behalf: a size cap enforced while streaming, timeouts, redirects
followed one by one (each hop checked again), the content type read from the bytes.

Every connection goes through the private-address guard (net/guard.py, inside the shared
guarded client). `Fetcher.open` streams (decrypt-media verifies while it downloads); `Fetcher.fetch`
returns the whole file (send-message). Errors follow the API contract, each naming the field
the URL came in:

    refused by the guard or the host allow-list, bad URL    400 BadRequest   (field)
    larger than the limit (declared or counted)             400 BadRequest   (names the limit)
    unreachable, timed out, not 2xx, broken off             422 OperationFailed (names the status)
    too slow (under the minimum rate once past its grace)   422 OperationFailed (download_too_slow)
    this account already downloading its share at once     429 TooManyRequests (downloads_busy)

Downloads are bounded per account and in all (`DownloadLimits`): at most `per_account` of
one account's go on at once (the account the request works for: concurrency/acting.py),
`total` in all, handed out in turn (concurrency/fair.py). They use their own outbound
pool (wiring.py), apart from webhook deliveries, so slow downloads never hold a webhook's
connection.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from urllib.parse import unquote

from yarl import URL

from sendmako import log
from sendmako.concurrency.acting import acting_for
from sendmako.concurrency.fair import FairSlots
from sendmako.errors import BadRequest, OperationFailed, TooManyRequests
from sendmako.media.sniff import SNIFF_BYTES, sniff
from sendmako.net.client import (
    Answer,
    ConnectError,
    ConnectTimeout,
    HttpClient,
    ProtocolError,
    Timeout,
    Timeouts,
    TransportError,
)
from sendmako.net.hosts import HostAllowList, InvalidURL, parse_url, under_prefix

logger = log.get(__name__)

MB = 1 << 20

# Where the sandbox engine serves the encrypted files of its simulated messages, under the
# server's public URL (outside /api: like WhatsApp's CDN, the URL needs no API key; the
# mediaKey is what protects the file). decrypt-media always fetches from there.
SANDBOX_MEDIA_PATH = "/media/sandbox/"

# WhatsApp's CDN, for a decrypt-media request that gives only directPath.
WHATSAPP_MEDIA_ORIGIN = "https://mmg.whatsapp.net"

USER_AGENT = "Sendmako media fetcher"
# identity: bodies are counted against the size caps as sent (a compressed one is refused).
HEADERS = {"Accept-Encoding": "identity", "User-Agent": USER_AGENT}


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
    # Past `rate_grace` seconds from the answer's head, the body must have come at
    # `min_rate` bytes/s on average: a byte every few seconds is cut off long before the
    # read or total timeout.
    min_rate: float = 8 * 1024
    rate_grace: float = 10.0


# The media pool's connections (wiring.py); downloads in all at once.
MEDIA_CONNECTIONS = 100


@dataclass(frozen=True, slots=True)
class DownloadLimits:
    total: int = MEDIA_CONNECTIONS
    per_account: int = 8
    queue_seconds: float = 10.0  # waiting for one of the account's slots, then 429


# -- which hosts ---------------------------------------------------------------------------


def sandbox_media_prefix(public_url: str) -> str:
    """The sandbox's media URL prefix for a server reached at `public_url`."""
    return public_url.rstrip("/") + SANDBOX_MEDIA_PATH


@dataclass(frozen=True, slots=True)
class TrustedPrefix:
    """URLs under `prefix` are fetched with `client` instead of the guarded one: the
    server's own sandbox media, often on a loopback address the guard refuses."""

    prefix: str
    client: HttpClient


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
        answer: Answer,
        *,
        field: str,
        limit: SizeLimit,
        deadline: float,
        clock: Callable[[], float],
        total_timeout: float,
        min_rate: float = 0.0,
        rate_grace: float = 0.0,
    ) -> None:
        self.url = answer.url
        self.headers = answer.headers
        self.declared_length = _content_length(answer.headers)
        self._answer = answer
        self._field = field
        self._limit = limit
        self._deadline = deadline
        self._clock = clock
        self._total_timeout = total_timeout
        self._min_rate = min_rate
        self._rate_grace = rate_grace
        self._started = clock()
        self.received = 0

    @property
    def declared_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.split(";", 1)[0].strip().lower() or None if value else None

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives. Raises (400) as soon as it passes the limit: nothing past
        the limit is read. The read timeout bounds each wait; the total timeout is checked
        after each piece (a trickle of bytes cannot keep the download alive forever), and
        each wait ends when the average rate would fall under the minimum."""
        host = _host(self.url)
        pieces = aiter(self._answer.chunks())
        try:
            while True:
                try:
                    async with asyncio.timeout(self._rate_wait()):
                        chunk = await anext(pieces)
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    raise too_slow_rate(self._field, host, self._min_rate) from exc
                self.received += len(chunk)
                if self.received > self._limit.max_bytes:
                    raise too_large(self._field, self._limit)
                if self._clock() > self._deadline:
                    raise too_slow(self._field, host, self._total_timeout)
                yield chunk
        except TransportError as exc:
            raise download_failed(self._field, host, exc) from exc
        if self.declared_length is not None and self.received != self.declared_length:
            raise OperationFailed(
                f"{self._field}: download failed: {host} sent {self.received} of the "
                f"{self.declared_length} bytes it announced.",
                code="download_failed",
            )

    def _rate_wait(self) -> float | None:
        """How long the next piece may take before the body falls under the minimum rate:
        by then `received` bytes must be `min_rate` per second past the grace."""
        if self._min_rate <= 0:
            return None
        due = self._started + self._rate_grace + self.received / self._min_rate
        return max(0.0, due - self._clock())


def too_large(field: str, limit: SizeLimit) -> BadRequest:
    return BadRequest(
        f"{field}: the file is larger than the {limit}.", field=field, code="media_too_large"
    )


def too_slow(field: str, host: str, total: float) -> OperationFailed:
    return OperationFailed(
        f"{field}: download failed: {host} took longer than {total:g} s.",
        code="download_timeout",
    )


def too_slow_rate(field: str, host: str, rate: float) -> OperationFailed:
    return OperationFailed(
        f"{field}: download failed: {host} sent the file slower than the minimum of "
        f"{human_size(int(rate))}/s.",
        code="download_too_slow",
    )


def download_failed(field: str, host: str, exc: TransportError) -> OperationFailed:
    if isinstance(exc, Timeout):
        phase = "connect" if isinstance(exc, ConnectTimeout) else "read"
        return OperationFailed(
            f"{field}: download failed: {host} did not answer in time ({phase} timeout).",
            code="download_timeout",
        )
    if isinstance(exc, ConnectError):
        detail = "could not be reached"
    elif isinstance(exc, ProtocolError):
        detail = "broke off the download or answered something that is not HTTP"
    else:
        detail = f"failed ({type(exc).__name__})"
    return OperationFailed(f"{field}: download failed: {host} {detail}.", code="download_failed")


def _content_length(headers: Mapping[str, str]) -> int | None:
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
        client: HttpClient,
        *,
        timeouts: FetchTimeouts | None = None,
        max_redirects: int = 5,
        trusted: TrustedPrefix | None = None,
        clock: Callable[[], float] | None = None,
        limits: DownloadLimits | None = None,
    ) -> None:
        self._client = client
        self.limits = limits if limits is not None else DownloadLimits()
        self._slots = FairSlots(
            total=self.limits.total,
            per_owner=self.limits.per_account,
            per_group=self.limits.per_account,
        )
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
        only those hosts are fetched, at every hop. Counted to the account the task works
        for: 429 when its downloads keep all its slots for `queue_seconds`."""
        owner = acting_for()
        async with AsyncExitStack() as slot:
            try:
                async with asyncio.timeout(self.limits.queue_seconds):
                    await slot.enter_async_context(self._slots.slot(owner=owner, group=owner))
            except TimeoutError as exc:
                raise _busy(field, self.limits) from exc
            async with self._open(url, field=field, limit=limit, allow=allow) as download:
                yield download

    @asynccontextmanager
    async def _open(
        self, url: str, *, field: str, limit: SizeLimit, allow: HostAllowList | None
    ) -> AsyncIterator[Download]:
        clock = self._clock or asyncio.get_running_loop().time
        deadline = clock() + self.timeouts.total
        timeouts = Timeouts(connect=self.timeouts.connect, read=self.timeouts.read)
        current = _parse(url, field)
        for _hop in range(self._max_redirects + 1):
            host = _check(current, field, allow)
            client = self._client_for(current)
            async with AsyncExitStack() as stack:
                try:
                    # The total timeout covers the answer's head too (and an in-process answer).
                    async with asyncio.timeout(max(0.0, deadline - clock())):
                        answer = await stack.enter_async_context(
                            client.request("GET", current, headers=HEADERS, timeouts=timeouts)
                        )
                except TimeoutError as exc:
                    raise too_slow(field, host, self.timeouts.total) from exc
                except BadRequest as exc:  # the guard refused the address
                    raise BadRequest(f"{field}: {exc.message}", field=field, code=exc.code) from exc
                except TransportError as exc:
                    raise download_failed(field, host, exc) from exc
                if answer.status in _REDIRECTS and "location" in answer.headers:
                    current = _redirect_target(current, answer.headers["location"], field)
                    logger.debug("fetch.redirect", field=field, status=answer.status)
                    continue
                yield self._accept(answer, field=field, limit=limit, deadline=deadline, clock=clock)
                return
        raise OperationFailed(
            f"{field}: download failed: more than {self._max_redirects} redirects.",
            code="download_failed",
        )

    def _client_for(self, url: URL) -> HttpClient:
        trusted = self._trusted
        if trusted is not None and under_prefix(url, trusted.prefix):
            return trusted.client
        return self._client

    def _accept(
        self,
        answer: Answer,
        *,
        field: str,
        limit: SizeLimit,
        deadline: float,
        clock: Callable[[], float],
    ) -> Download:
        host = _host(answer.url)
        if not 200 <= answer.status < 300:
            raise OperationFailed(
                f"{field}: download failed: {host} answered HTTP {answer.status}.",
                code="download_failed",
            )
        encoding = answer.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            # We asked for identity; decoding a compressed body could expand it past any cap.
            raise OperationFailed(
                f"{field}: download failed: {host} sent a {encoding}-encoded body.",
                code="download_failed",
            )
        download = Download(
            answer,
            field=field,
            limit=limit,
            deadline=deadline,
            clock=clock,
            total_timeout=self.timeouts.total,
            min_rate=self.timeouts.min_rate,
            rate_grace=self.timeouts.rate_grace,
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


def _busy(field: str, limits: DownloadLimits) -> TooManyRequests:
    return TooManyRequests(
        f"{field}: this account already has {limits.per_account} downloads under way; "
        "try again once one has finished.",
        retry_after=limits.queue_seconds,
        code="downloads_busy",
    )


def _parse(url: str, field: str) -> URL:
    try:
        parsed = parse_url(url.strip())
    except InvalidURL as exc:
        raise BadRequest(f"{field}: not a valid URL.", field=field) from exc
    return parsed


def _host(url: URL) -> str:
    """The host as messages show it (every URL requested has one: `_check`)."""
    return url.host or "(no host)"


def _check(url: URL, field: str, allow: HostAllowList | None) -> str:
    """Refuse what is not to be fetched; the URL's host."""
    if url.scheme not in ("http", "https") or not url.host:
        raise BadRequest(f"{field}: only http and https URLs can be fetched.", field=field)
    if allow is not None and not allow.allows(url):
        raise BadRequest(
            f"{field}: {url.scheme}://{url.host} is not a media host this server fetches from "
            f"({_allow_hint(url, allow)}).",
            field=field,
            code="host_not_allowed",
        )
    return url.host


def _allow_hint(url: URL, allow: HostAllowList) -> str:
    """What the operator can do about a refused host: add it, or write the scheme when an
    entry allows the host over another scheme only."""
    entry = allow.other_scheme(url)
    if entry is None:
        return "the operator can add it to SENDMAKO_MEDIA_HOSTS"
    hint = f"SENDMAKO_MEDIA_HOSTS allows {entry.place} over {entry.scheme} only"
    if not entry.scheme_written:
        hint += f": its entry {entry} has no scheme, which means https"
    return f"{hint}; to allow {url.scheme}, write the scheme: {url.scheme}://{entry.place}"


def _redirect_target(current: URL, location: str, field: str) -> URL:
    invalid = OperationFailed(
        f"{field}: download failed: {_host(current)} redirected to an invalid URL.",
        code="download_failed",
    )
    try:
        target = parse_url(str(current.join(parse_url(location.strip()))))
    except InvalidURL as exc:
        raise invalid from exc
    if target.scheme in ("http", "https") and not target.host:
        raise invalid
    return target


_DISPOSITION_NAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def _filename(headers: Mapping[str, str], url: URL) -> str | None:
    disposition = headers.get("content-disposition", "")
    found = _DISPOSITION_NAME.findall(disposition)
    name = unquote(found[-1]) if found else unquote(url.path.rsplit("/", 1)[-1])
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or None
