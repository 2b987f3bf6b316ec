"""Real worker processes and real neonize, forced offline: the session reports
`connecting` with the reason and retries with capped backoff, sends answer 503, a worker
killed with SIGKILL is restarted while other sessions keep answering, and stopping takes
under 5 seconds even with a dial in flight."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import psutil
import pytest
import structlog

from sendmako.engines.neonize.engine import NeonizeEngine
from sendmako.engines.neonize.process import WorkerCommand
from sendmako.engines.neonize.protocol import EventFrame
from sendmako.errors import OperationFailed, Unavailable
from sendmako.ids import Jid
from sendmako.model.actions import RequestPairCode
from sendmako.model.events import (
    QrCodeChanged,
)
from sendmako.model.messages import MessageType, OutgoingMessage
from sendmako.model.statuses import SessionStatus
from sendmako.settings import Settings
from sendmako.storage.db import Database
from tests.engines.neonize.workers import (
    Recorder,
    blackhole_proxy,
    closed_port_proxy,
    neonize_engine,
    neonize_settings,
    open_session,
    started_worker_pid,
)

pytestmark = pytest.mark.slow


async def test_unreachable_whatsapp_is_connecting_with_the_reason_and_backs_off(
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    async with neonize_engine(tmp_path, neonize_settings(closed_port_proxy())) as engine:
        session = open_session(engine, recorder, 1)
        await session.start()

        def retried() -> bool:
            details = [s.detail or "" for s in recorder.statuses("user_1")]
            return sum("retrying in" in d for d in details) >= 4

        await recorder.wait(retried, timeout=30)
        statuses = recorder.statuses("user_1")
        assert {s.status for s in statuses} == {SessionStatus.CONNECTING}
        retries = [s.detail for s in statuses if s.detail and "retrying in" in s.detail]
        assert all(
            d.startswith("cannot reach WhatsApp: proxyconnect tcp: dial tcp 127.0.0.1:")
            and "connection refused" in d
            for d in retries
        )
        # Capped exponential backoff: 0.3, 0.6, 1.2, then 1.2 again.
        assert [d.rsplit("retrying in ", 1)[1] for d in retries[:4]] == [
            "0.3 s",
            "0.6 s",
            "1.2 s",
            "1.2 s",
        ]

        with pytest.raises(Unavailable) as caught:
            await session.perform(
                OutgoingMessage(Jid.user_jid("22241857975"), MessageType.TEXT, "x")
            )
        assert caught.value.status == 503
        assert "Session user_1 is not connected" in caught.value.message
        assert "cannot reach WhatsApp" in caught.value.message
        with pytest.raises(OperationFailed) as refused:
            await session.perform(RequestPairCode("22241857975"))
        assert refused.value.code == "session_state"

        began = time.monotonic()
        await session.stop()
        assert time.monotonic() - began < 5
        assert (await engine.health()).ok


async def test_a_killed_worker_is_restarted_while_other_sessions_keep_answering(
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    with blackhole_proxy() as proxy:
        async with neonize_engine(tmp_path, neonize_settings(proxy)) as engine:
            sessions = [open_session(engine, recorder, n) for n in (1, 2, 3)]
            for session in sessions:
                await session.start()
            pids = [await started_worker_pid(session) for session in sessions]
            assert len(set(pids)) == 3
            victim, *others = sessions

            with structlog.testing.capture_logs() as logs:
                starts = len(victim.supervisor.started_pids)
                os.kill(pids[0], signal.SIGKILL)
                replaced = asyncio.create_task(victim.supervisor.wait_for_start(starts + 1, 20))
                answers = []
                while not replaced.done():  # the others answer all along the restart
                    answers += [await other.worker_status() for other in others]
                new_pid = await replaced
            assert new_pid not in pids

            assert len(answers) >= 2
            assert {a["pid"] for a in answers} == set(pids[1:])  # same processes all along
            crash = next(log for log in logs if log["event"] == "neonize.worker_crashed")
            assert crash["cause"] == "killed by SIGKILL"
            assert crash["pid"] == pids[0]
            assert crash["session_id"] == "user_1"
            details = [s.detail or "" for s in recorder.statuses("user_1")]
            assert any(
                "the WhatsApp worker crashed (killed by SIGKILL); retrying in" in d for d in details
            )
            assert all(not recorder.statuses(o.spec.session_id)[1:] for o in others)
            assert (await engine.health()).ok  # one crash is no crash loop

            began = time.monotonic()
            await asyncio.gather(*(session.stop() for session in sessions))
            assert time.monotonic() - began < 5  # every worker is mid-dial: killed if it must
            for pid in [new_pid, *pids[1:]]:
                with pytest.raises(ProcessLookupError):
                    os.kill(pid, 0)


async def test_an_unscanned_qr_restarts_the_login_in_a_fresh_worker(tmp_path: Path) -> None:
    """whatsmeow does not report QR expiry: our timer does, and a new worker takes over."""
    recorder = Recorder()
    with blackhole_proxy() as proxy:
        settings = neonize_settings(proxy, qr_timeout_seconds=0.5)
        async with neonize_engine(tmp_path, settings) as engine:
            session = open_session(engine, recorder, 1)
            await session.start()
            first = await started_worker_pid(session)
            # What the worker sends when WhatsApp hands out a code (it cannot, offline).
            await session.worker_frame(EventFrame(QrCodeChanged("2@abc,def", 60)))
            assert session.status is SessionStatus.QR_READY

            await recorder.wait(
                lambda: any(
                    "QR code expired" in (s.detail or "") for s in recorder.statuses("user_1")
                )
            )
            second = await session.supervisor.wait_for_start(2, timeout=20)
            assert second != first
            await session.stop()


async def test_a_hung_worker_is_killed_and_restarted(tmp_path: Path) -> None:
    """A worker that stops answering its heartbeat (here: SIGSTOP) is killed, then replaced."""
    recorder = Recorder()
    with blackhole_proxy() as proxy:
        settings = neonize_settings(proxy, heartbeat_seconds=0.2, heartbeat_timeout_seconds=1.0)
        async with neonize_engine(tmp_path, settings) as engine:
            session = open_session(engine, recorder, 1)
            await session.start()
            frozen = await started_worker_pid(session)
            with structlog.testing.capture_logs() as logs:
                os.kill(frozen, signal.SIGSTOP)
                replacement = await session.supervisor.wait_for_start(2, timeout=20)
                assert replacement != frozen
            crash = next(log for log in logs if log["event"] == "neonize.worker_crashed")
            assert crash["cause"] == "stopped answering its heartbeat, killed"
            with pytest.raises(ProcessLookupError):
                os.kill(frozen, 0)
            await session.stop()


async def test_a_crash_looping_worker_is_logged_with_its_output_and_degrades_health(
    tmp_path: Path,
) -> None:
    """A worker that dies like a Go abort, again and again: each crash is logged with the
    cause and the last output lines, and /health reports the loop."""
    fake_python = tmp_path / "python"
    fake_python.write_text(
        "#!/bin/sh\necho 'fatal error: concurrent map writes'\necho 'goroutine 1 [running]:'\n"
        "exit 2\n"
    )
    fake_python.chmod(0o755)
    settings = neonize_settings(closed_port_proxy())
    app_settings = Settings(data_dir=tmp_path / "data", neonize=settings)
    db = Database(app_settings.effective_database_url)
    command = WorkerCommand(cwd=tmp_path, python=str(fake_python))
    engine = NeonizeEngine(db, app_settings, worker_command=command)
    await engine.start()
    recorder = Recorder()
    try:
        session = open_session(engine, recorder, 1)
        with structlog.testing.capture_logs() as logs:
            await session.start()
            await session.supervisor.wait_until(lambda s: s.crash_streak >= 3, timeout=20)
        crash = next(log for log in logs if log["event"] == "neonize.worker_crashed")
        assert (
            crash["cause"]
            == "the WhatsApp worker could not start (Go runtime aborted (exit code 2))"
        )
        assert crash["last_output"] == [
            "fatal error: concurrent map writes",
            "goroutine 1 [running]:",
        ]
        health = await engine.health()
        assert not health.ok
        assert health.detail.startswith("1 of 1 workers crash-looping: user_1")
        await session.stop()
    finally:
        await engine.stop()
        await db.close()


async def test_workers_never_tag_sends_as_a_bots(tmp_path: Path) -> None:
    """neonize 0.5.2 marks every one-to-one send as a bot's (an AI label in the chat)
    unless NEONIZE_BOT_TAG is off in the worker's environment."""
    recorder = Recorder()
    # A proxy that never answers: the worker stays, dialling, while we read its environment.
    with blackhole_proxy() as proxy:
        async with neonize_engine(tmp_path, neonize_settings(proxy)) as engine:
            session = open_session(engine, recorder, 1)
            await session.start()
            pid = await started_worker_pid(session)
            assert psutil.Process(pid).environ()["NEONIZE_BOT_TAG"] == "off"
            await session.stop()
