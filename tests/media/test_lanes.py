"""Lanes: one stream of pieces, each consumer on its own thread, memory bounded, and no
thread left running once the block is left, however it is left."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Callable

import pytest

from sendmako.media.crypto import MediaType, PlaintextReader, derive_keys, encrypt
from sendmako.media.decrypt import DecryptedMedia
from sendmako.media.lanes import Lanes, outlive_cancellation


def assert_no_lane_left() -> None:
    """Every lane thread ends (each has signalled it is done before it returns, so one
    may still be on its way out: joined, not just looked at)."""
    for thread in threading.enumerate():
        if thread.name == "media-lane":
            thread.join(timeout=10)
            assert not thread.is_alive()


async def let_others_run() -> None:
    """Gives every ready task its turns: what is asserted next could not change anyway
    while the test holds its gate, so this only lets a wrong implementation show itself."""
    for _ in range(20):
        await asyncio.sleep(0)


def held(gate: threading.Event) -> None:
    """Waits for the test to open `gate`; a test that fails before it does must not hang."""
    if not gate.wait(timeout=10):
        raise TimeoutError("the test never opened the gate")


def gated(
    seen: list[bytes], gate: threading.Event, inside: threading.Event | None = None
) -> Callable[[bytes], None]:
    """A consumer that holds each piece until `gate` opens (and says when it holds one)."""

    def consume(piece: bytes) -> None:
        if inside is not None:
            inside.set()
        held(gate)
        seen.append(piece)

    return consume


def release_when_stopping(lanes: Lanes, gate: threading.Event) -> None:
    deadline = time.monotonic() + 10  # a regression fails the test, it never hangs the run
    while not lanes.stopping and time.monotonic() < deadline:
        time.sleep(0.001)
    gate.set()


async def test_every_consumer_sees_every_piece_in_order() -> None:
    pieces = [bytes([n]) * (n + 1) for n in range(200)]
    seen: list[list[bytes]] = [[], [], []]
    async with Lanes([part.append for part in seen], max_pending=64) as lanes:
        for piece in pieces:
            await lanes.put(piece)
    assert seen == [pieces, pieces, pieces]
    assert_no_lane_left()


async def test_put_waits_while_the_slowest_consumer_is_too_far_behind() -> None:
    fast: list[bytes] = []
    slow: list[bytes] = []
    gate = threading.Event()
    async with Lanes([fast.append, gated(slow, gate)], max_pending=10) as lanes:
        await lanes.put(b"a" * 8)  # 8 pending: within the bound
        second = asyncio.ensure_future(lanes.put(b"b" * 8))  # 16 pending: must wait
        await let_others_run()
        # The slow consumer is held inside its first piece: nothing can have released it.
        assert not second.done()
        assert lanes.pending == 16
        gate.set()
        await second
    assert slow == fast == [b"a" * 8, b"b" * 8]
    assert_no_lane_left()


async def test_a_consumers_error_stops_the_stream_and_is_raised() -> None:
    written: list[bytes] = []
    given = 0

    def disk_full(_piece: bytes) -> None:
        raise OSError(28, "No space left on device")

    async def stream() -> None:
        nonlocal given
        async with Lanes([written.append, disk_full], max_pending=1) as lanes:
            for _ in range(1000):
                await lanes.put(b"x")
                given += 1

    with pytest.raises(OSError, match="No space left"):
        await stream()
    # The second piece waits for the first to be consumed, which fails: it is refused, and
    # nothing after it is handed out.
    assert given == 1
    assert len(written) <= 2
    assert_no_lane_left()


async def test_leaving_by_an_error_skips_what_is_queued_and_waits_for_the_threads() -> None:
    seen: list[bytes] = []
    gate = threading.Event()
    inside = threading.Event()

    async def stream() -> None:
        async with Lanes([gated(seen, gate, inside)], max_pending=1 << 20) as lanes:
            for piece in (b"first", b"second", b"third"):
                await lanes.put(piece)
            await asyncio.to_thread(inside.wait)  # the consumer holds the first piece
            # It is let go only once the block is being left.
            threading.Thread(target=release_when_stopping, args=(lanes, gate), daemon=True).start()
            raise ValueError("the download broke")

    with pytest.raises(ValueError, match="the download broke"):
        await stream()
    # The piece in hand was finished; the two still queued were skipped.
    assert seen == [b"first"]
    assert_no_lane_left()


async def test_a_cancelled_stream_leaves_only_once_its_threads_are_done() -> None:
    seen: list[bytes] = []
    gate, inside = threading.Event(), threading.Event()

    async def stream() -> None:
        async with Lanes([gated(seen, gate, inside)], max_pending=1 << 20) as lanes:
            await lanes.put(b"first")
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.ensure_future(stream())
    await asyncio.to_thread(inside.wait)
    task.cancel()
    await let_others_run()
    assert not task.done()  # its lane is still inside the piece: the task waits for it
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [b"first"]
    assert_no_lane_left()


class GatedReader:
    """A PlaintextReader whose second read blocks until the test lets it go."""

    def __init__(self, reader: PlaintextReader, gate: threading.Event) -> None:
        self.length = reader.length
        self._reader = reader
        self._gate = gate
        self.reads = 0

    def read(self) -> bytes:
        self.reads += 1
        if self.reads == 2:
            held(self._gate)
        return self._reader.read()


def gated_media(gate: threading.Event) -> tuple[DecryptedMedia, io.BytesIO]:
    media = encrypt(b"x" * 100_000, MediaType.DOCUMENT)
    keys = derive_keys(media.media_key, MediaType.DOCUMENT)
    spool = io.BytesIO(media.file)
    reader = GatedReader(PlaintextReader(spool, len(media.file), keys, block_size=4096), gate)
    decrypted = DecryptedMedia(reader, spool, "application/pdf", MediaType.DOCUMENT)  # type: ignore[arg-type]
    return decrypted, spool


def cancel_the_client(task: asyncio.Task[None]) -> None:
    task.cancel()


def cancel_every_task(_task: asyncio.Task[None]) -> None:
    """What asyncio.run does on the way out of a server."""
    for other in asyncio.all_tasks():
        if other is not asyncio.current_task():
            other.cancel()


@pytest.mark.parametrize("cancel", [cancel_the_client, cancel_every_task])
async def test_a_stream_cancelled_while_the_next_block_is_read_never_closes_the_spool_under_it(
    cancel: Callable[[asyncio.Task[None]], None],
) -> None:
    gate = threading.Event()
    decrypted, spool = gated_media(gate)
    first = asyncio.Event()

    async def client() -> None:
        async for _piece in decrypted.chunks():
            first.set()  # then asks for the next block, which is held at the gate

    task = asyncio.ensure_future(client())
    await first.wait()
    cancel(task)
    await let_others_run()
    assert not spool.closed  # the read of the second block is still using it
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert spool.closed


async def test_a_stream_closed_between_blocks_waits_for_the_block_read_ahead() -> None:
    gate = threading.Event()
    decrypted, spool = gated_media(gate)
    chunks = decrypted.chunks()
    await anext(chunks)  # the second block is now being read ahead, held at the gate
    closing = asyncio.ensure_future(chunks.aclose())  # what the server does when it stops
    await let_others_run()
    assert not closing.done()
    assert not spool.closed
    gate.set()
    await closing
    assert spool.closed


async def test_lanes_that_cannot_all_start_stop_the_ones_that_did() -> None:
    started = 0

    def start(thread: threading.Thread) -> None:
        nonlocal started
        if started == 1:
            raise RuntimeError("can't start new thread")
        started += 1
        thread.start()

    with pytest.raises(RuntimeError, match="can't start new thread"):
        await Lanes([list[bytes]().append] * 3, max_pending=1, start_thread=start).__aenter__()
    assert_no_lane_left()


async def test_waiting_out_a_future_someone_else_cancelled_is_no_cancellation() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(future.cancel)
    await outlive_cancellation(future)  # returns: this task was not cancelled
    assert future.cancelled()
