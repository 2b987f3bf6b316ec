"""The send queue: order, pacing, capacity, cancelled requests, shutdown."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from sendmako.errors import OutcomeUnknown, TooManyRequests, Unavailable
from sendmako.ids import Jid
from sendmako.model.actions import SendResult
from sendmako.model.messages import MessageType, OutgoingMessage
from sendmako.sessions.queue import SendQueue, SentHook


def message(text: str) -> OutgoingMessage:
    return OutgoingMessage(to=Jid.user_jid("22241857975"), type=MessageType.TEXT, text=text)


class Engine:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.sent_at: list[float] = []  # time.monotonic() of each send
        self.release = asyncio.Event()
        self.release.set()
        self.started = asyncio.Event()  # a send is with the engine

    async def send(self, outgoing: OutgoingMessage) -> SendResult:
        self.started.set()
        await self.release.wait()
        self.sent.append(str(outgoing.text))
        self.sent_at.append(time.monotonic())
        return SendResult(f"id-{outgoing.text}", datetime.now(UTC))


async def a_send_on_the_wire(
    on_sent: SentHook | None = None,
) -> tuple[Engine, SendQueue, asyncio.Future[SendResult]]:
    """A queue whose engine holds its first message, "on the wire", until `release`."""
    engine = Engine()
    engine.release.clear()
    queue = SendQueue("user_1", engine.send, pacing_seconds=0)
    in_flight = queue.submit(message("on the wire"), on_sent)
    await engine.started.wait()
    return engine, queue, in_flight


async def test_a_cancelled_request_is_never_sent() -> None:
    """A caller that gave up while waiting (client disconnected) sends nothing."""
    engine = Engine()
    queue = SendQueue("user_1", engine.send, pacing_seconds=0)
    engine.release.clear()
    first = queue.submit(message("first"))
    second = queue.submit(message("second"))
    second.cancel()
    engine.release.set()
    assert (await first).message_id == "id-first"
    third = await queue.submit(message("third"))
    assert third.message_id == "id-third"
    assert engine.sent == ["first", "third"]
    await queue.close()


async def test_capacity_counts_everything_not_yet_sent() -> None:
    engine = Engine()
    engine.release.clear()
    queue = SendQueue("user_1", engine.send, pacing_seconds=0, capacity=2)
    in_flight = queue.submit(message("a"))
    await queue.wait_until(lambda waiting: waiting == 0, timeout=5)  # "a" is with the engine
    queue.submit(message("b"))
    queue.submit(message("c"))
    with pytest.raises(TooManyRequests) as caught:
        queue.submit(message("d"))
    assert caught.value.retry_after >= 1
    engine.release.set()
    await in_flight
    await queue.close()


async def test_closing_fails_what_was_never_sent_with_503() -> None:
    engine = Engine()
    queue = SendQueue("user_1", engine.send, pacing_seconds=60)
    await queue.submit(message("sent"))
    waiting = queue.submit(message("never"))
    await queue.close()
    with pytest.raises(Unavailable):
        await waiting
    assert engine.sent == ["sent"]
    with pytest.raises(Unavailable):
        queue.submit(message("late"))


async def test_closing_lets_the_send_in_progress_end_and_answers_it() -> None:
    """A message already with the engine (its session being deleted, say) goes out; its
    caller gets the answer and the sent hook runs, so it is stored."""
    hooked: list[str] = []
    engine, queue, in_flight = await a_send_on_the_wire(
        lambda result: hooked.append(result.message_id)
    )
    never = queue.submit(message("waiting"))
    closing = asyncio.create_task(queue.close())
    await queue.wait_until(lambda waiting: waiting == 1, timeout=5)
    engine.release.set()
    async with asyncio.timeout(5):  # before the fix, it was never answered
        await closing
        assert (await in_flight).message_id == "id-on the wire"
    assert hooked == ["id-on the wire"]
    with pytest.raises(Unavailable) as caught:
        await never
    assert caught.value.code == "session_stopping"
    assert engine.sent == ["on the wire"]


async def test_a_send_still_running_after_the_grace_is_an_unknown_outcome() -> None:
    _engine, queue, in_flight = await a_send_on_the_wire()
    await queue.close(grace=0)
    with pytest.raises(OutcomeUnknown) as caught:
        async with asyncio.timeout(5):
            await in_flight
    assert caught.value.status == 503
    assert "whether it reached WhatsApp is unknown" in caught.value.message


async def test_a_minimum_gap_spaces_a_message_beyond_the_pacing() -> None:
    """Bulk sends ask for 500 ms after the session's previous send, whoever sent it."""
    engine = Engine()
    queue = SendQueue("user_1", engine.send, pacing_seconds=0)
    first = queue.submit(message("single"))
    spaced = queue.submit(message("bulk"), min_gap=0.2)
    after = queue.submit(message("single again"))
    await asyncio.gather(first, spaced, after)
    assert engine.sent == ["single", "bulk", "single again"]
    assert engine.sent_at[1] - engine.sent_at[0] >= 0.2
    await queue.close()


async def test_closing_while_a_message_waits_for_its_gap_fails_it_unsent() -> None:
    engine = Engine()
    queue = SendQueue("user_1", engine.send, pacing_seconds=0)
    await queue.submit(message("sent"))
    spaced = queue.submit(message("spaced"), min_gap=60)
    await queue.wait_until(lambda waiting: waiting == 0, timeout=5)  # taken, now waiting
    await queue.close()
    with pytest.raises(Unavailable) as caught:
        await spaced
    assert caught.value.code == "session_stopping"
    assert engine.sent == ["sent"]


async def test_pacing_counts_from_the_last_send_before_the_queue_existed() -> None:
    """After a restart, the first send waits out what is left of the pacing."""
    engine = Engine()

    async def sent_a_moment_ago() -> float:
        return 0.05

    started = time.monotonic()
    queue = SendQueue("user_1", engine.send, pacing_seconds=0.3, last_send=sent_a_moment_ago)
    await queue.submit(message("first after the restart"))
    assert engine.sent_at[0] - started >= 0.25
    await queue.close()


async def test_an_unknown_last_send_never_stops_the_queue() -> None:
    engine = Engine()

    async def broken() -> float:
        raise OSError("database unreachable")

    queue = SendQueue("user_1", engine.send, pacing_seconds=0, last_send=broken)
    assert (await queue.submit(message("x"))).message_id == "id-x"
    await queue.close()


async def test_a_closer_that_gives_up_does_not_cut_the_closing_short() -> None:
    """A delete whose request is cancelled mid-way still ends the queue properly: the send
    in progress is answered, and so is every message waiting."""
    engine, queue, in_flight = await a_send_on_the_wire()
    waiting = queue.submit(message("waiting"))
    closer = asyncio.create_task(queue.close())
    await asyncio.sleep(0)  # one turn of the loop: the closer starts, and waits for the send
    closer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closer
    engine.release.set()
    async with asyncio.timeout(5):
        assert (await in_flight).message_id == "id-on the wire"
        with pytest.raises(Unavailable):
            await waiting
    assert engine.sent == ["on the wire"]


async def test_a_second_close_waits_for_the_first_to_end() -> None:
    """Stopping the server while a delete waits for a send does not return early."""
    engine, queue, in_flight = await a_send_on_the_wire()
    first = asyncio.create_task(queue.close())
    second = asyncio.create_task(queue.close())
    done, _ = await asyncio.wait({first, second}, timeout=0.05)
    assert not done  # both wait while the engine has the message
    engine.release.set()
    async with asyncio.timeout(5):
        await asyncio.gather(first, second)
    assert in_flight.done()
