"""Workers forked from the template process: each is still one session in one process
with its own Go runtime, a SIGKILL ends only that session, and the template's own death
ends none (the next worker comes from a new template)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import psutil
import pytest
import structlog

from sendmako.engines.neonize.engine import NeonizeEngine
from sendmako.engines.neonize.session import NeonizeSession
from tests.engines.neonize.workers import (
    Recorder,
    blackhole_proxy,
    neonize_engine,
    neonize_settings,
    open_session,
    started_worker_pid,
)

pytestmark = pytest.mark.slow
GO_LIBRARY = "neonize-linux"


def maps_go(pid: int) -> bool:
    return GO_LIBRARY in Path(f"/proc/{pid}/maps").read_text()


def template_pid(engine: NeonizeEngine) -> int:
    template = engine.launcher.template
    assert template is not None
    assert template.pid is not None
    return template.pid


async def answers_while(
    others: list[NeonizeSession], until: asyncio.Task[int]
) -> list[dict[str, object]]:
    """What the other sessions' workers say, asked over and over until `until` is done."""
    answers = []
    while not until.done():
        answers += [await other.worker_status() for other in others]
    return answers


async def test_a_forked_worker_that_is_sigkilled_restarts_and_its_neighbours_notice_nothing(
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    with blackhole_proxy() as proxy:
        async with neonize_engine(tmp_path, neonize_settings(proxy)) as engine:
            sessions = [open_session(engine, recorder, n) for n in (1, 2, 3)]
            for session in sessions:
                await session.start()
            pids = [await started_worker_pid(session) for session in sessions]
            template = template_pid(engine)
            # One process per session, each forked from the template, each with its own
            # Go runtime; the template never loads Go.
            assert len(set(pids)) == 3
            assert {psutil.Process(pid).ppid() for pid in pids} == {template}
            assert all(maps_go(pid) for pid in pids)
            assert not maps_go(template)
            fresh = await sessions[1].worker_status()
            victim, *others = sessions
            before = {o.spec.session_id: len(recorder.events[o.spec.session_id]) for o in others}

            with structlog.testing.capture_logs() as logs:
                os.kill(pids[0], signal.SIGKILL)
                replaced = asyncio.create_task(victim.supervisor.wait_for_start(2, 20))
                answers = await answers_while(others, replaced)
                new_pid = await replaced

            crash = next(log for log in logs if log["event"] == "neonize.worker_crashed")
            assert (crash["cause"], crash["pid"]) == ("killed by SIGKILL", pids[0])
            # The neighbours: the same processes answered all along, and reported nothing.
            assert answers
            assert {a["pid"] for a in answers} == set(pids[1:])
            assert {o.spec.session_id: len(recorder.events[o.spec.session_id]) for o in others} == (
                before
            )
            # The replacement: from the same template, as good as a fresh worker.
            assert new_pid not in pids
            assert psutil.Process(new_pid).ppid() == template
            assert engine.launcher.template is not None
            assert engine.launcher.template.starts == 1
            assert maps_go(new_pid)
            assert await victim.worker_status() == {**fresh, "pid": new_pid}
            for session in sessions:
                await session.stop()
            for pid in [new_pid, *pids[1:]]:
                with pytest.raises(psutil.NoSuchProcess):
                    psutil.Process(pid).status()


async def test_workers_outlive_a_dead_template_and_the_next_one_comes_from_a_new_one(
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    with blackhole_proxy() as proxy:
        async with neonize_engine(tmp_path, neonize_settings(proxy)) as engine:
            first, second = (open_session(engine, recorder, n) for n in (1, 2))
            await first.start()
            await second.start()
            pids = [await started_worker_pid(first), await started_worker_pid(second)]
            old_template = template_pid(engine)

            os.kill(old_template, signal.SIGKILL)
            # Gone, or already reaped by the launcher (then there is nothing left to wait for).
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(old_template).wait(10)
            assert [(await s.worker_status())["pid"] for s in (first, second)] == pids

            os.kill(pids[0], signal.SIGKILL)  # its exit code is lost with the template
            new_pid = await first.supervisor.wait_for_start(2, 20)
            assert psutil.Process(new_pid).ppid() == template_pid(engine) != old_template
            assert engine.launcher.template is not None
            assert engine.launcher.template.starts == 2
            assert (await second.worker_status())["pid"] == pids[1]
            await first.stop()
            await second.stop()
