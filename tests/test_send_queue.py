"""The send queue: order, pacing, capacity, cancelled requests, shutdown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from sendmako.engines.types import MessageType, OutgoingMessage, SendResult
from sendmako.errors import TooManyRequests, Unavailable
from sendmako.ids import Jid
from sendmako.send_queue import SendQueue


def message(text: str) -> OutgoingMessage:
    return OutgoingMessage(to=Jid.user_jid("22241857975"), type=MessageType.TEXT, text=text)


class Engine:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.release = asyncio.Event()
        self.release.set()

    async def send(self, outgoing: OutgoingMessage) -> SendResult:
        await self.release.wait()
        self.sent.append(str(outgoing.text))
        return SendResult(f"id-{outgoing.text}", datetime.now(UTC))


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
