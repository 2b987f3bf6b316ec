"""Downloads are bounded per account and in time: a server sending a byte every few
moments is cut off at the minimum rate, and one account's downloads in flight never take
another account's turn. Against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sendmako.concurrency.acting import act_for
from sendmako.errors import OperationFailed, TooManyRequests
from sendmako.media.fetch import DownloadLimits, FetchedFile, Fetcher, FetchTimeouts, SizeLimit
from sendmako.net.addresses import AddressPolicy
from sendmako.net.guarded import build_client
from tests.media.origin import Exchange, Origin
from tests.network import RecordingSockets, resolving

SMALL = SizeLimit(64 * 1024, "tests")


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    resolver, _ = resolving({})
    client = build_client(
        AddressPolicy.allowing(["127.0.0.1"]), resolver=resolver, sockets=RecordingSockets()
    )
    yield Fetcher(
        client,
        timeouts=FetchTimeouts(read=30.0, min_rate=1000, rate_grace=0.5),
        limits=DownloadLimits(total=10, per_account=2, queue_seconds=0.3),
    )
    await client.close()


def trickle(origin: Origin, path: str, every: float) -> str:
    """A head announcing 1,000 bytes, then one byte every `every` seconds."""

    async def handler(exchange: Exchange) -> None:
        await exchange.head(200, {"Content-Length": "1000"})
        for _ in range(1000):
            if not await exchange.write(b"x"):
                return
            await asyncio.sleep(every)  # the server's pace, not a wait for the test

    return origin.route(path, handler)


async def test_a_byte_every_few_moments_is_cut_off_at_the_minimum_rate(
    origin: Origin, fetcher: Fetcher
) -> None:
    """A byte every 0.2 s is under the 1,000 B/s floor once past the 0.5 s grace: cut
    off within about a second, long before the 30 s read timeout would."""
    url = trickle(origin, "/trickle", every=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OperationFailed) as excinfo:
        await fetcher.fetch(url, field="imageUrl", limit=SMALL)
    took = loop.time() - started
    assert excinfo.value.code == "download_too_slow"
    assert excinfo.value.message == (
        "imageUrl: download failed: 127.0.0.1 sent the file slower than the minimum of "
        "1000 bytes/s."
    )
    assert took < 3.0
    assert origin.requests[0].sent < 20


async def test_a_steady_download_over_the_grace_is_not_cut(
    origin: Origin, fetcher: Fetcher
) -> None:
    """100 bytes every 0.05 s (2,000 B/s) for a second: above the floor, delivered whole."""

    async def handler(exchange: Exchange) -> None:
        await exchange.head(200, {"Content-Length": "2000"})
        for _ in range(20):
            await exchange.write(b"y" * 100)
            await asyncio.sleep(0.05)

    url = origin.route("/steady", handler)
    fetched = await fetcher.fetch(url, field="imageUrl", limit=SMALL)
    assert fetched.content == b"y" * 2000


async def test_one_accounts_downloads_in_flight_leave_another_accounts_alone(
    origin: Origin, fetcher: Fetcher
) -> None:
    """Alice has her two downloads stalled: her third is 429 downloads_busy after the
    queue wait; Bob's goes through meanwhile."""
    both = asyncio.Event()  # both of hers reached the server

    async def stall(exchange: Exchange) -> None:
        if len(origin.requests) == 2:
            both.set()
        await exchange.head(200, {"Content-Length": "100"})
        await origin.released.wait()

    stalled = origin.route("/stall", stall)
    small = origin.file("/small", b"z" * 100)

    async def download(account: int, url: str) -> FetchedFile:
        act_for(account)
        return await fetcher.fetch(url, field="imageUrl", limit=SMALL)

    alices = [asyncio.create_task(download(1, stalled)) for _ in range(2)]
    async with asyncio.timeout(5):
        await both.wait()
    with pytest.raises(TooManyRequests) as excinfo:
        await download(1, small)
    assert excinfo.value.code == "downloads_busy"
    assert excinfo.value.message.startswith("imageUrl: this account already has 2 downloads")
    bobs = await download(2, small)
    assert bobs.content == b"z" * 100
    origin.released.set()
    for task in alices:
        with pytest.raises(OperationFailed):
            await task
