"""Keeps one session's worker process running: starts it, watches it, restarts it.

A worker ends in one of four ways, and the supervisor answers each:

- it said `ended` with `retry` (WhatsApp unreachable, refused, a temporary ban): a new
  worker after `retry_after`, or after the backoff;
- it said `ended` without `retry` (logged out, stream replaced, client outdated): no new
  worker until `restart_now` (the session waits for a person);
- it crashed (a Go abort, a signal) or hung (no heartbeat answer): the crash is logged
  with its cause and the worker's last output lines, then a new worker after the backoff;
- it was stopped: by `stop` (nothing follows) or by `restart_now` (a new one at once).

Backing off restarts the process rather than reconnecting inside it: neonize leaks a
database pool on every connect/stop cycle of one client.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sendmako import log, metrics
from sendmako.concurrency.changes import Changes
from sendmako.engines.neonize.launcher import Launcher, TemplateFailed
from sendmako.engines.neonize.process import Exit, WorkerProcess
from sendmako.engines.neonize.protocol import Ended, Frame
from sendmako.engines.neonize.starts import StartGate
from sendmako.errors import SendmakoError, Unavailable

logger = log.get(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential delays: initial, initial*factor, ... up to maximum."""

    initial: float = 2.0
    factor: float = 2.0
    maximum: float = 120.0

    def delay(self, attempt: int) -> float:
        return float(min(self.maximum, self.initial * self.factor ** max(attempt, 0)))


@dataclass(frozen=True, slots=True)
class Policy:
    backoff: Backoff = Backoff()
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 15.0
    start_timeout: float = 60.0  # spawn, import neonize, open the device store
    stop_grace: float = 2.0  # then SIGKILL: shutdown stays under 5 s with a dial in flight
    stable_after: float = 300.0  # a worker that lived this long resets the backoff


class Listener(Protocol):
    """The session a supervisor works for."""

    def start_args(self) -> dict[str, Any]:
        """The `start` request's arguments for the next worker (read at each start)."""
        ...

    async def worker_started(self, worker: WorkerProcess, answer: dict[str, Any]) -> None: ...

    async def worker_frame(self, frame: Frame) -> None: ...

    async def worker_exited(self, outcome: Exit, restart_in: float | None) -> None:
        """`restart_in`: seconds until the next worker, None when none will start."""
        ...


class Supervisor:
    def __init__(
        self,
        session_id: str,
        launcher: Launcher,
        listener: Listener,
        *,
        policy: Policy,
        starts: StartGate | None = None,
    ) -> None:
        self.session_id = session_id
        self.launcher = launcher
        self.listener = listener
        self.policy = policy
        self.crash_streak = 0  # consecutive crashes and failed starts, for health
        self.last_exit: Exit | None = None
        self.restarts = 0
        self._starts = starts or StartGate(1, float("inf"))
        self._worker: WorkerProcess | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._restart_requested = False
        self._stopping = False
        self._stopping_worker: asyncio.Task[Exit] | None = None
        self._accepted = False  # the current worker answered `start`
        self.started_pids: list[int] = []  # every worker that accepted `start`, in order
        self._changes = Changes()
        self._log = logger.bind(session_id=session_id)

    @property
    def worker(self) -> WorkerProcess | None:
        """The running worker, once it accepted `start`."""
        worker = self._worker
        return worker if worker is not None and self._accepted and worker.alive else None

    async def wait_for_start(self, count: int, timeout: float) -> int:
        """Wait until `count` workers in all have accepted `start`; the newest one's pid.
        (Workers may come and go quickly, e.g. while WhatsApp cannot be reached.)"""
        await self.wait_until(lambda supervisor: len(supervisor.started_pids) >= count, timeout)
        return self.started_pids[-1]

    async def wait_until(self, predicate: Callable[[Supervisor], bool], timeout: float) -> None:
        """Wait until `predicate(self)` holds; checked when a worker starts or ends."""
        await self._changes.wait_until(lambda: predicate(self), timeout)

    def start(self) -> None:
        if self._task is None:
            # A fresh context: the loop outlives the request that started it, whose log
            # context (request_id) must not tag every later log line of this session.
            self._task = asyncio.create_task(
                self._run(), name=f"neonize-{self.session_id}", context=contextvars.Context()
            )

    async def stop(self) -> None:
        """Stop the worker (killing it after the grace period) and the loop; no restart."""
        self._stopping = True
        self._wake.set()
        task = self._task
        if task is None:
            return
        # Not a bare cancel: a cancel that lands mid-spawn could orphan a process. The loop
        # ends by itself once its current worker is gone.
        while not task.done():
            worker = self._worker
            if worker is not None:
                await worker.stop(self.policy.stop_grace)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), 0.2)

    def restart_now(self) -> None:
        """End the current worker (if any) and start a fresh one without waiting."""
        self._restart_requested = True
        self._wake.set()
        worker = self._worker
        if worker is not None:
            # The loop awaits this worker's exit; the task is kept only so it is not lost.
            self._stopping_worker = asyncio.create_task(worker.stop(self.policy.stop_grace))

    async def request(self, op: str, args: dict[str, Any] | None = None, *, timeout: float) -> Any:
        worker = self.worker
        if worker is None:
            raise Unavailable(
                f"Session {self.session_id} is not connected (its WhatsApp worker is starting).",
                code="session_not_connected",
            )
        return await worker.request(op, args, timeout=timeout)

    # -- the loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            self._restart_requested = False
            self._wake.clear()
            began = time.monotonic()
            outcome = await self._one_worker()
            if self._stopping:
                return
            if time.monotonic() - began >= self.policy.stable_after:
                attempt = 0
            delay = self._delay_after(outcome, attempt)
            if delay is not None and not self._restart_requested:
                attempt += 1
            self.last_exit = outcome
            await self.listener.worker_exited(outcome, delay)
            if delay is None:
                await self._wake.wait()  # until restart_now() or stop()
                attempt = 0
            elif delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
            self.restarts += 1

    def _delay_after(self, outcome: Exit, attempt: int) -> float | None:
        if self._restart_requested:
            self.crash_streak = 0
            self._changes.notify()
            return 0.0
        if outcome.crashed:
            metrics.WORKER_CRASHES.inc()
            self.crash_streak += 1
            self._changes.notify()
            delay = self.policy.backoff.delay(attempt)
            self._log.error(
                "neonize.worker_crashed",
                pid=outcome.pid,
                cause=outcome.cause,
                last_output=list(outcome.output_tail[-10:]),
                restart_in=delay,
            )
            return delay
        self.crash_streak = 0
        self._changes.notify()
        if outcome.ended is None or not outcome.ended.retry:
            return None
        if outcome.ended.retry_after is not None:
            return max(outcome.ended.retry_after, self.policy.backoff.initial)
        return self.policy.backoff.delay(attempt)

    async def _one_worker(self) -> Exit:
        worker: WorkerProcess | None = None
        self._accepted = False
        try:
            async with self._starts.slot():  # a server restart starts its workers steadily
                if self._stopping:
                    return Exit(pid=0, returncode=None, ended=None, stopped=True)
                worker = await self.launcher.launch(self.session_id, self.listener.worker_frame)
                self._worker = worker
                answer = await worker.request(
                    "start", self.listener.start_args(), timeout=self.policy.start_timeout
                )
        except (OSError, SendmakoError, TimeoutError) as exc:
            reason = f"the WhatsApp worker could not start: {_describe(exc)}"
            if isinstance(exc, TemplateFailed):  # how the template died says the most
                reason = f"the WhatsApp worker could not start ({exc.exit.cause})"
                return replace(exc.exit, ended=Ended(reason, retry=True), start_failed=True)
            if worker is None:
                return Exit(
                    pid=0, returncode=None, ended=Ended(reason, retry=True), start_failed=True
                )
            died = isinstance(exc, Unavailable) and exc.code == "worker_exited"
            outcome = await worker.stop(self.policy.stop_grace)
            self._worker = None
            if died:  # it exited by itself: how says more than "it exited"
                reason = f"the WhatsApp worker could not start ({outcome.cause})"
            return replace(outcome, ended=Ended(reason, retry=True), start_failed=True)
        self._accepted = True
        metrics.WORKER_STARTS.inc()
        self.started_pids.append(worker.pid)
        self._changes.notify()
        worker.start_heartbeat(self.policy.heartbeat_interval, self.policy.heartbeat_timeout)
        self._log.info("neonize.worker_started", pid=worker.pid, resumed=answer.get("resumed"))
        await self.listener.worker_started(worker, answer)
        outcome = await worker.wait()
        self._worker = None
        return outcome


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SendmakoError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"
