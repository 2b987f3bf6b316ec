"""Background work: failures are logged, never raised; idle waits for the work; close
cancels it, also work that has not started."""

from __future__ import annotations

import asyncio
import inspect

import pytest
import structlog

from sendmako.concurrency.background import Background


async def test_idle_waits_for_the_work() -> None:
    background = Background("test")
    done: list[int] = []
    release = asyncio.Event()

    async def work(n: int) -> None:
        await release.wait()
        done.append(n)

    background.spawn(work(1))
    background.spawn(work(2))
    with pytest.raises(TimeoutError):
        await background.idle(timeout=0.01)
    release.set()
    await background.idle()
    assert sorted(done) == [1, 2]


async def test_a_failure_is_logged_with_its_context() -> None:
    background = Background("test")

    async def fail() -> None:
        raise RuntimeError("boom")

    with structlog.testing.capture_logs() as logs:
        background.spawn(fail(), session_id="user_1")
        await background.idle()
    assert [(e["event"], e["session_id"], e["log_level"]) for e in logs] == [
        ("test.failed", "user_1", "error")
    ]


async def test_close_cancels_work_started_or_not() -> None:
    """No coroutine is left never awaited (warnings are errors in this suite)."""
    background = Background("test")
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    running, waiting, late = forever(), forever(), forever()
    background.spawn(running)
    await started.wait()
    background.spawn(waiting)  # not started yet
    await background.close()
    await background.idle()
    background.spawn(late)  # after close: dropped
    states = [inspect.getcoroutinestate(work) for work in (running, waiting, late)]
    assert states == [inspect.CORO_CLOSED] * 3
    await background.idle()
