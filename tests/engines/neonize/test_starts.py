"""Starting many workers: a steady stream at the configured rate, never more at once than
allowed, with its progress logged (a server restarting with all its numbers)."""

from __future__ import annotations

import asyncio

import structlog

from sendmako.engines.neonize.starts import StartGate


class Clock:
    """A clock that only moves when a start waits its turn."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_starts_begin_at_the_configured_rate_and_no_more_run_at_once() -> None:
    clock = Clock()
    gate = StartGate(3, 4.0, clock=clock, sleep=clock.sleep, progress_seconds=1.0)
    began: list[float] = []
    inside = 0
    most_inside = 0
    release = asyncio.Event()

    async def start() -> None:
        nonlocal inside, most_inside
        async with gate.slot():
            began.append(clock.now)
            inside += 1
            most_inside = max(most_inside, inside)
            await release.wait()
            inside -= 1

    with structlog.testing.capture_logs() as logs:
        tasks = [asyncio.create_task(start()) for _ in range(12)]
        while len(began) < 3:  # noqa: ASYNC110 - lets the three first starts in, no time passes
            await asyncio.sleep(0)
        assert gate.waiting == 9
        release.set()
        await asyncio.gather(*tasks)

    assert most_inside == 3
    assert began == [100.0 + i * 0.25 for i in range(12)]  # 4 per second, none early
    progress = [log for log in logs if log["event"] == "neonize.workers_starting"]
    assert progress
    assert all(log["waiting"] + log["started"] + log["running"] <= 12 for log in progress)
    done = [log for log in logs if log["event"] == "neonize.workers_started"]
    assert [(log["started"], log["seconds"]) for log in done] == [(12, 2.8)]


async def test_a_start_given_up_while_queued_leaves_the_count_right() -> None:
    clock = Clock()
    gate = StartGate(1, 1000.0, clock=clock, sleep=clock.sleep)
    hold = asyncio.Event()

    async def first() -> None:
        async with gate.slot():
            await hold.wait()

    async def queued() -> None:
        async with gate.slot():
            raise AssertionError("never entered: cancelled while queued")

    running = asyncio.create_task(first())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(queued())
    await asyncio.sleep(0)
    assert (gate.running, gate.waiting) == (1, 1)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert (gate.running, gate.waiting) == (1, 0)
    hold.set()
    await running
    assert (gate.running, gate.waiting) == (0, 0)


async def test_one_restart_alone_logs_no_summary() -> None:
    clock = Clock()
    gate = StartGate(4, 20.0, clock=clock, sleep=clock.sleep)
    with structlog.testing.capture_logs() as logs:
        async with gate.slot():
            pass
    assert not [log for log in logs if log["event"].startswith("neonize.workers_")]
