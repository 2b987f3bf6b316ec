"""The media CPU pool: one account's long jobs wait for their own turn, another account's
job goes through; past the queue wait, 429 media_busy."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from sendmako.concurrency.acting import act_for
from sendmako.errors import TooManyRequests
from sendmako.media.work import MediaWork


async def test_one_accounts_long_jobs_leave_the_pool_to_another() -> None:
    work = MediaWork(threads=2, per_account=1, queue_seconds=5.0)
    release, started = threading.Event(), threading.Event()
    running: list[str] = []

    def long_job(name: str) -> str:
        running.append(name)
        started.set()
        release.wait(10)
        return name

    async def as_account(account: int, job: Callable[[str], str], name: str) -> str:
        act_for(account)
        return await work.run(job, name)

    alices = [asyncio.create_task(as_account(1, long_job, f"long{n}")) for n in range(3)]
    assert await asyncio.to_thread(started.wait, 5)
    assert await as_account(2, str.upper, "bob's photo") == "BOB'S PHOTO"
    assert running == ["long0"], "alice's others wait for her turn"
    release.set()
    assert await asyncio.gather(*alices) == ["long0", "long1", "long2"]
    work.close()


async def test_a_turn_that_does_not_come_in_time_is_429() -> None:
    work = MediaWork(threads=1, per_account=1, queue_seconds=0.2)
    release = threading.Event()
    act_for(1)
    first = asyncio.create_task(work.run(release.wait, 10))
    await asyncio.sleep(0)
    with pytest.raises(TooManyRequests) as excinfo:
        await work.run(len, "x")
    assert excinfo.value.code == "media_busy"
    release.set()
    assert await first is True
    work.close()
