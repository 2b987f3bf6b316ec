"""Downloads on a user's behalf: size caps while streaming, timeouts, redirects, errors.

Every test talks to a real server on 127.0.0.1 or to nothing at all: non-loopback names come
from an injected resolver, and their connection attempts go to a socket factory that only
records them."""

from __future__ import annotations

import asyncio
import itertools
import socket

import pytest

from sendmako.errors import BadRequest, OperationFailed
from sendmako.media.fetch import (
    MB,
    MEDIA_LIMITS,
    Fetcher,
    FetchTimeouts,
    SizeLimit,
    download_failed,
)
from sendmako.net.addresses import AddressPolicy, IPAddress
from sendmako.net.client import ReadError
from sendmako.net.guarded import build_client
from sendmako.net.hosts import HostAllowList
from tests.media.conftest import FetcherFactory
from tests.media.files import jpeg_bytes, pdf_bytes
from tests.media.origin import Exchange, Origin
from tests.network import RecordingSockets, port_that_never_accepts, resolving

SMALL = SizeLimit(64 * 1024, "tests")


async def test_fetches_a_file_and_reads_its_type_from_the_bytes(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """A JPEG served as octet-stream comes back whole, typed image/jpeg, named from the URL."""
    photo = jpeg_bytes()
    url = origin.file("/files/holiday.jpg", photo, headers={"Content-Type": "application/x-bin"})
    fetched = await make_fetcher().fetch(url, field="imageUrl", limit=MEDIA_LIMITS["image"])
    assert fetched.content == photo
    assert fetched.mimetype == "image/jpeg"
    assert fetched.declared_type == "application/x-bin"
    assert fetched.filename == "holiday.jpg"


async def test_unknown_bytes_keep_the_declared_type(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """Bytes no signature knows keep the server's Content-Type; the disposition names it."""
    url = origin.file(
        "/x",
        b"just some text",
        headers={
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Disposition": 'attachment; filename="notes.txt"',
        },
    )
    fetched = await make_fetcher().fetch(url, field="documentUrl", limit=SMALL)
    assert (fetched.mimetype, fetched.sniffed, fetched.filename) == (
        "text/plain",
        None,
        "notes.txt",
    )


# -- size limits -----------------------------------------------------------------------------


async def test_declared_length_over_the_limit_is_refused_before_the_body(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """An honest Content-Length over the limit: 400 naming the limit, no body read."""
    url = origin.stall("/big", headers={"Content-Length": str(16 * MB + 1)})
    with pytest.raises(BadRequest) as excinfo:
        await make_fetcher().fetch(url, field="imageUrl", limit=MEDIA_LIMITS["image"])
    assert excinfo.value.field == "imageUrl"
    assert excinfo.value.code == "media_too_large"
    assert "16 MB limit for images" in excinfo.value.message


@pytest.mark.parametrize("kind", sorted(MEDIA_LIMITS))
async def test_each_media_limit_holds_without_a_declared_length(
    kind: str, origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """Chunked bodies one byte over each type's limit: refused, nothing past it handed on."""
    limit = MEDIA_LIMITS[kind]
    url = origin.chunked(f"/{kind}", bytes(limit.max_bytes + 1))
    handed_on: list[int] = []
    with pytest.raises(BadRequest) as excinfo:
        await drain(make_fetcher(), url, f"{kind}Url", limit, handed_on)
    assert 0 < sum(handed_on) <= limit.max_bytes
    assert excinfo.value.field == f"{kind}Url"
    assert str(limit) in excinfo.value.message


async def drain(fetcher: Fetcher, url: str, field: str, limit: SizeLimit, sizes: list[int]) -> None:
    """Read a download to its end, noting the size of each piece handed on."""
    async with fetcher.open(url, field=field, limit=limit) as download:
        async for chunk in download.chunks():
            sizes.append(len(chunk))  # noqa: PERF401 - pieces read before the error count too


async def test_exactly_the_limit_is_accepted(origin: Origin, make_fetcher: FetcherFactory) -> None:
    """A sticker of exactly 1 MB, sent without a length, is fine."""
    url = origin.chunked("/sticker", bytes(MB))
    fetched = await make_fetcher().fetch(url, field="stickerUrl", limit=MEDIA_LIMITS["sticker"])
    assert len(fetched.content) == MB


async def test_a_body_ended_by_closing_is_capped_too(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """No Content-Length and no chunking (the body ends at close): still cut at the limit."""
    url = origin.file("/close", bytes(4 * SMALL.max_bytes), length=None)
    with pytest.raises(BadRequest) as excinfo:
        await make_fetcher().fetch(url, field="url", limit=SMALL)
    assert excinfo.value.code == "media_too_large"


@pytest.mark.parametrize("close", [True, False])
async def test_a_content_length_under_the_truth_never_reads_past_it(
    close: bool, origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """A server announcing 100 bytes and sending 4x the limit: bytes after the end of an
    answer are not HTTP (aiohttp refuses them, whether the server said it would close the
    connection or not): 422, and nothing past the announced 100 bytes handed on."""
    body = bytes(range(100)) + bytes(4 * SMALL.max_bytes)
    url = origin.file("/liar", body, length=100, close=close)
    handed_on: list[int] = []
    with pytest.raises(OperationFailed) as excinfo:
        await drain(make_fetcher(), url, "url", SMALL, handed_on)
    assert excinfo.value.code == "download_failed"
    assert sum(handed_on) <= 100


async def test_a_content_length_over_the_truth_is_a_failed_download(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """A server announcing more than it sends before closing: 422, not a short file."""
    url = origin.file("/short", b"only this", length=1000)
    with pytest.raises(OperationFailed) as excinfo:
        await make_fetcher().fetch(url, field="documentUrl", limit=SMALL)
    assert excinfo.value.message.startswith("documentUrl: download failed")


async def test_a_compressed_body_is_refused(origin: Origin, make_fetcher: FetcherFactory) -> None:
    """A gzip body (we asked for identity) could expand past any cap: 422."""
    url = origin.file("/gz", b"\x1f\x8b" + bytes(20), headers={"Content-Encoding": "gzip"})
    with pytest.raises(OperationFailed) as excinfo:
        await make_fetcher().fetch(url, field="url", limit=SMALL)
    assert "gzip" in excinfo.value.message
    assert origin.requests[0].headers["accept-encoding"] == "identity"


# -- upstream failures -----------------------------------------------------------------------


async def test_a_non_2xx_answer_names_the_status(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """404 upstream: 422 whose message names the status."""
    url = origin.file("/gone", b"nope", status=404)
    with pytest.raises(OperationFailed) as excinfo:
        await make_fetcher().fetch(url, field="videoUrl", limit=SMALL)
    assert excinfo.value.message == "videoUrl: download failed: 127.0.0.1 answered HTTP 404."


async def test_an_unreachable_host_is_a_failed_download(make_fetcher: FetcherFactory) -> None:
    """Nothing listening on the port: 422, could not be reached."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OperationFailed) as excinfo:
        await make_fetcher().fetch(f"http://127.0.0.1:{port}/x", field="url", limit=SMALL)
    assert "could not be reached" in excinfo.value.message


async def test_a_stalled_body_hits_the_read_timeout(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """Headers, then silence: 422 read timeout."""
    url = origin.stall("/stall")
    fetcher = make_fetcher(timeouts=FetchTimeouts(read=0.2))
    with pytest.raises(OperationFailed) as excinfo:
        await fetcher.fetch(url, field="audioUrl", limit=SMALL)
    assert excinfo.value.code == "download_timeout"
    assert "read timeout" in excinfo.value.message


async def test_a_connection_that_never_opens_hits_the_connect_timeout(
    make_fetcher: FetcherFactory,
) -> None:
    """A connect that hangs is abandoned after the connect timeout: 422."""
    sockets = RecordingSockets()
    fetcher = make_fetcher(sockets=sockets, timeouts=FetchTimeouts(connect=0.2))
    with port_that_never_accepts() as port, pytest.raises(OperationFailed) as excinfo:
        await fetcher.fetch(f"http://127.0.0.1:{port}/x", field="url", limit=SMALL)
    assert "connect timeout" in excinfo.value.message
    assert sockets.attempts == [("127.0.0.1", port)]


async def test_a_name_that_never_resolves_hits_the_connect_timeout(
    make_fetcher: FetcherFactory,
) -> None:
    """Resolution counts toward the connect timeout."""

    async def hang(_host: str, _port: int) -> list[IPAddress]:
        await asyncio.Event().wait()
        return []

    sockets = RecordingSockets(real=False)
    fetcher = make_fetcher(resolver=hang, sockets=sockets, timeouts=FetchTimeouts(connect=0.2))
    with pytest.raises(OperationFailed) as excinfo:
        await fetcher.fetch("https://slow-dns.example/x", field="url", limit=SMALL)
    assert "connect timeout" in excinfo.value.message
    assert sockets.attempts == []


async def test_a_download_over_the_total_time_is_abandoned(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """A server trickling bytes forever is cut at the total timeout (clock injected)."""
    ticks = itertools.count(0, 100.0)  # every reading of the clock is 100 s later
    url = origin.file("/trickle", bytes(2 * MB))
    fetcher = make_fetcher(timeouts=FetchTimeouts(total=150.0), clock=lambda: next(ticks))
    with pytest.raises(OperationFailed) as excinfo:
        await fetcher.fetch(url, field="url", limit=MEDIA_LIMITS["document"])
    assert excinfo.value.message == "url: download failed: 127.0.0.1 took longer than 150 s."


# -- redirects -------------------------------------------------------------------------------


async def test_redirects_are_followed(origin: Origin, make_fetcher: FetcherFactory) -> None:
    """Two hops (relative and absolute) lead to the file."""
    origin.file("/final.pdf", pdf_bytes())
    origin.redirect("/two", origin.url("/final.pdf"), status=301)
    url = origin.redirect("/one", "/two", status=307)
    fetched = await make_fetcher().fetch(url, field="documentUrl", limit=SMALL)
    assert fetched.content == pdf_bytes()
    assert fetched.url.endswith("/final.pdf")
    assert [r.path for r in origin.requests] == ["/one", "/two", "/final.pdf"]


async def test_redirects_are_bounded(origin: Origin, make_fetcher: FetcherFactory) -> None:
    """A redirect loop stops after 5 hops: 422."""
    url = origin.redirect("/loop", "/loop")
    with pytest.raises(OperationFailed) as excinfo:
        await make_fetcher().fetch(url, field="url", limit=SMALL)
    assert "more than 5 redirects" in excinfo.value.message
    assert len(origin.requests) == 6


@pytest.mark.parametrize("target", ["http://127.0.0.2:{port}/x", "http://[::1]:{port}/x"])
async def test_a_redirect_to_loopback_is_refused_before_connecting(
    target: str, origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """127.0.0.1 is allowed; its redirect to another loopback address is not followed."""
    sockets = RecordingSockets()
    url = origin.redirect("/hop", target.format(port=origin.port))
    with pytest.raises(BadRequest) as excinfo:
        await make_fetcher(sockets=sockets).fetch(url, field="imageUrl", limit=SMALL)
    assert excinfo.value.field == "imageUrl"
    assert "loopback" in excinfo.value.message
    assert sockets.attempts == [("127.0.0.1", origin.port)]


async def test_a_redirect_to_a_name_resolving_privately_is_refused(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """The redirect target's name is resolved and checked like the first URL."""
    sockets = RecordingSockets()
    resolver, asked = resolving({"intranet.example": ["10.1.2.3"]})
    url = origin.redirect("/hop", "http://intranet.example/admin")
    with pytest.raises(BadRequest) as excinfo:
        await make_fetcher(sockets=sockets, resolver=resolver).fetch(url, field="url", limit=SMALL)
    assert "private" in excinfo.value.message
    assert asked == ["intranet.example"]
    assert sockets.attempts == [("127.0.0.1", origin.port)]


async def test_a_redirect_off_the_allow_list_is_refused(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """With an allow-list, every hop must be on it."""
    sockets = RecordingSockets()
    allow = HostAllowList.parse(["http://127.0.0.1"])
    url = origin.redirect("/hop", "https://elsewhere.example/file")
    with pytest.raises(BadRequest) as excinfo:
        await make_fetcher(sockets=sockets).fetch(url, field="url", limit=SMALL, allow=allow)
    assert excinfo.value.code == "host_not_allowed"
    assert sockets.attempts == [("127.0.0.1", origin.port)]


@pytest.mark.parametrize(
    "location", ["https:foo", "https://", "http://[/", "http://exa mple.com/", "https://xn--/"]
)
async def test_a_redirect_to_an_invalid_url_is_a_failed_download(
    location: str, origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """A Location without a host, or one no parser can read: 422, nothing followed."""
    sockets = RecordingSockets()
    url = origin.redirect("/hop", location)
    with pytest.raises(OperationFailed) as excinfo:
        await make_fetcher(sockets=sockets).fetch(url, field="url", limit=SMALL)
    assert excinfo.value.message == "url: download failed: 127.0.0.1 redirected to an invalid URL."
    assert sockets.attempts == [("127.0.0.1", origin.port)]


async def test_a_location_with_our_scheme_and_no_slashes_is_relative(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """`Location: http:foo` has no host: read as relative (RFC 3986 allows it for the
    current scheme), on the same host, checked like any hop."""
    origin.file("/dir/foo", b"found")
    url = origin.redirect("/dir/hop", "http:foo")
    fetched = await make_fetcher().fetch(url, field="url", limit=SMALL)
    assert fetched.content == b"found"
    assert [r.path for r in origin.requests] == ["/dir/hop", "/dir/foo"]


# -- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "not a url at all",
        "http://[/",
        "https:foo",
        "http:///x",
        "http://exa mple.com/x",
        "http://\x00.example/x",
        "http://[::1/x",
    ],
)
async def test_only_http_urls_are_fetched(url: str, make_fetcher: FetcherFactory) -> None:
    """Other schemes, URLs without a host and non-URLs: 400 naming the field, nothing
    attempted."""
    sockets = RecordingSockets()
    with pytest.raises(BadRequest) as excinfo:
        await make_fetcher(sockets=sockets).fetch(url, field="documentUrl", limit=SMALL)
    assert excinfo.value.field == "documentUrl"
    assert sockets.attempts == []


async def test_proxy_settings_in_the_environment_are_ignored(
    origin: Origin, make_fetcher: FetcherFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy would connect on our behalf, unguarded: the client never uses one."""
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    sockets = RecordingSockets()
    url = origin.file("/direct", b"direct")
    fetched = await make_fetcher(sockets=sockets).fetch(url, field="url", limit=SMALL)
    assert fetched.content == b"direct"
    assert sockets.attempts == [("127.0.0.1", origin.port)]


async def test_cookies_are_never_sent_back(origin: Origin, make_fetcher: FetcherFactory) -> None:
    """One client serves every user: a cookie a host sets is dropped, never sent with the
    next request to it (which may be another user's)."""
    first = origin.file("/first", b"a", headers={"Set-Cookie": "session=alices; Path=/"})
    second = origin.file("/second", b"b")
    fetcher = make_fetcher()
    await fetcher.fetch(first, field="url", limit=SMALL)
    await fetcher.fetch(second, field="url", limit=SMALL)
    assert [r.path for r in origin.requests] == ["/first", "/second"]
    assert "cookie" not in origin.requests[1].headers


async def test_an_entry_without_a_scheme_says_it_allows_https_only(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """The operator wrote `127.0.0.1` and an http URL on it is refused: the refusal says
    the entry allows https only, and how to allow http."""
    sockets = RecordingSockets()
    url = origin.file("/x", b"x")
    allow = HostAllowList.parse(["127.0.0.1"])
    with pytest.raises(BadRequest) as excinfo:
        await make_fetcher(sockets=sockets).fetch(url, field="url", limit=SMALL, allow=allow)
    assert excinfo.value.code == "host_not_allowed"
    assert excinfo.value.message == (
        "url: http://127.0.0.1 is not a media host this server fetches from "
        "(SENDMAKO_MEDIA_HOSTS allows 127.0.0.1 over https only: its entry 127.0.0.1 has no "
        "scheme, which means https; to allow http, write the scheme: http://127.0.0.1)."
    )
    assert sockets.attempts == []


async def test_a_handler_error_reaches_the_caller_as_a_failed_download(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """A server that closes without answering: 422."""

    async def hang_up(exchange: Exchange) -> None:
        exchange.writer.close()

    url = origin.route("/hangup", hang_up)
    with pytest.raises(OperationFailed) as excinfo:
        await make_fetcher().fetch(url, field="url", limit=SMALL)
    assert excinfo.value.code == "download_failed"


# What a broken or hostile server may answer instead of HTTP (the hand-written parser's
# cases, kept for the library that replaced it).
NOT_HTTP = {
    "another protocol": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    "a status that is not a number": b"HTTP/1.1 20x OK\r\n\r\n",
    "a length that is not a number": b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n",
    "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "a header line without a colon": b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    "a header line too long": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000,
    "a body shorter than its length": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    "a chunk size that is not hexadecimal": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    ),
    # int("-1", 16) is -1: a body "until the end" that no size limit would see coming.
    "a negative chunk size": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n" + b"x" * 9
    ),
    "a chunk longer than its size": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n"
    ),
    "a chunked body cut short": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
}


@pytest.mark.parametrize("answer", NOT_HTTP.values(), ids=NOT_HTTP.keys())
async def test_an_answer_that_is_not_http_is_a_failed_download(
    answer: bytes, origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """Whatever the server sends instead of HTTP: 422 naming the host, never a 500."""
    url = origin.raw("/broken", answer)
    with pytest.raises(OperationFailed) as excinfo:
        await make_fetcher().fetch(url, field="url", limit=SMALL)
    assert excinfo.value.code == "download_failed"
    assert excinfo.value.message == (
        "url: download failed: 127.0.0.1 broke off the download or answered something "
        "that is not HTTP."
    )


def test_download_errors_are_transport_errors_mapped() -> None:
    """A ReadError (any transport error) reads as a failed download naming the host."""
    error = download_failed("url", "cdn.example", ReadError("reset"))
    assert error.message == "url: download failed: cdn.example failed (ReadError)."


async def test_an_answer_whose_head_never_ends_hits_the_total_timeout(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """A server that keeps the status line coming but never finishes the head: 422."""

    async def endless_head(exchange: Exchange) -> None:
        exchange.writer.write(b"HTTP/1.1 200 OK\r\n")
        await origin.released.wait()

    url = origin.route("/head", endless_head)
    fetcher = make_fetcher(timeouts=FetchTimeouts(read=30.0, total=0.2))
    with pytest.raises(OperationFailed) as excinfo:
        await fetcher.fetch(url, field="url", limit=SMALL)
    assert excinfo.value.message == "url: download failed: 127.0.0.1 took longer than 0.2 s."


async def test_endless_informational_answers_hit_the_total_timeout(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """`103 Early Hints` after `103 Early Hints`, never the answer: each arrives within the
    read timeout, so only the total timeout ends it: 422."""

    async def hints(exchange: Exchange) -> None:
        while not origin.released.is_set():
            if not await exchange.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"):
                return
            await asyncio.sleep(0)  # let the client read: the point is that it never ends

    url = origin.route("/hints", hints)
    fetcher = make_fetcher(timeouts=FetchTimeouts(read=30.0, total=0.3))
    with pytest.raises(OperationFailed) as excinfo:
        await fetcher.fetch(url, field="url", limit=SMALL)
    assert excinfo.value.message == "url: download failed: 127.0.0.1 took longer than 0.3 s."


async def test_a_chunked_body_with_endless_trailers_never_ends_well(
    origin: Origin, make_fetcher: FetcherFactory
) -> None:
    """Trailers after the last chunk that go on and on: refused (422), not piled up."""
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
        + b"X-Trailer: yes\r\n" * 100_000
    )
    url = origin.raw("/trailers", answer)
    with pytest.raises(OperationFailed) as excinfo:
        await make_fetcher().fetch(url, field="url", limit=SMALL)
    assert excinfo.value.code == "download_failed"


async def test_a_download_after_the_client_closed_is_a_failed_download(
    origin: Origin,
) -> None:
    """At shutdown, a late request neither opens a new connection pool nor answers 500."""
    sockets = RecordingSockets()
    client = build_client(AddressPolicy.allowing(["127.0.0.1"]), sockets=sockets)
    await client.close()
    with pytest.raises(OperationFailed) as excinfo:
        await Fetcher(client).fetch(origin.file("/x", b"x"), field="url", limit=SMALL)
    assert excinfo.value.message == "url: download failed: 127.0.0.1 failed (TransportError)."
    assert sockets.attempts == []
