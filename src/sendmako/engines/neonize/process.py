"""One worker process seen from the server: spawn it, exchange frames, watch it, end it.

`WorkerProcess` lives as long as one OS process. Restarting is the supervisor's business
(`supervisor.py`); this module only reports how the process ended (`Exit`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sendmako import log
from sendmako.engines.neonize.errors import from_wire
from sendmako.engines.neonize.protocol import (
    HEADER_SIZE,
    Ended,
    Frame,
    ProtocolError,
    Reply,
    Request,
    body_length,
    pack,
    unpack,
)
from sendmako.errors import Unavailable

logger = log.get(__name__)

STDOUT_TAIL_LINES = 25
# Lines of the Go core's own prints that must not reach logs (a linking code is a secret).
_SECRET_LINES = ("Pair Code",)

FrameHandler = Callable[[Frame], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WorkerCommand:
    """How to start a worker process."""

    cwd: Path
    log_level: str = "info"
    python: str = sys.executable
    # On top of the server's environment.
    # - Two malloc arenas: Go and Python threads would otherwise each get one, for a little
    #   more memory per worker and nothing gained.
    # - neonize 0.5.2 tags every one-to-one send as a bot's (`<bot biz_bot="1"/>`, read from
    #   this variable on each send), which shows an AI/bot label in the recipient's chat: a
    #   gateway's messages are its users' own.
    env: dict[str, str] = field(
        default_factory=lambda: {"MALLOC_ARENA_MAX": "2", "NEONIZE_BOT_TAG": "off"}
    )
    # Forked from a template process (`forkserver.py`), which shares the Python side of
    # every worker; False spawns each worker afresh (kept to measure the difference).
    forked: bool = True

    def argv(self, fd: int) -> list[str]:
        module = "sendmako.engines.neonize.worker"
        return [self.python, "-m", module, "--fd", str(fd), "--log-level", self.log_level]

    def template_argv(self, fd: int) -> list[str]:
        module = "sendmako.engines.neonize.forkserver"
        return [self.python, "-m", module, "--fd", str(fd), "--log-level", self.log_level]


class Process(Protocol):
    """What a worker's supervisor needs of its OS process: an asyncio subprocess, or one
    forked by the template (`launcher.ForkedProcess`)."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    @property
    def stdout(self) -> asyncio.StreamReader | None: ...

    async def wait(self) -> int | None: ...

    def kill(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Exit:
    """How a worker process ended."""

    pid: int
    returncode: int | None
    ended: Ended | None  # what the worker said before exiting, if anything
    hung: bool = False  # killed because it stopped answering the heartbeat
    stopped: bool = False  # the server asked it to stop
    output_tail: tuple[str, ...] = ()  # its last stdout/stderr lines (Go panics land there)
    start_failed: bool = False  # it never accepted `start` (`ended` says why)

    @property
    def crashed(self) -> bool:
        return self.start_failed or (not self.stopped and self.ended is None)

    @property
    def cause(self) -> str:
        if self.start_failed and self.ended is not None:
            return self.ended.reason
        if self.hung:
            return "stopped answering its heartbeat, killed"
        code = self.returncode
        if code is None:
            return "unknown exit"
        if code < 0:
            try:
                how = signal.Signals(-code).name
            except ValueError:
                how = f"signal {-code}"
        else:
            how = f"exit code {code}"
        # A Go `fatal error` or `panic` (neonize's crashes) prints its reason, then aborts.
        if any(line.startswith(("fatal error", "panic:")) for line in self.output_tail):
            return f"Go runtime aborted ({how})"
        return f"killed by {how}" if code < 0 else how


class WorkerProcess:
    def __init__(
        self,
        process: Process,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        session_id: str,
        on_frame: FrameHandler,
    ) -> None:
        self.process = process
        self.pid = process.pid
        self.session_id = session_id
        self._reader = reader
        self._writer = writer
        self._on_frame = on_frame
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ended: Ended | None = None
        self._hung = False
        self._stopped = False
        self._closed = False
        self._tail: deque[str] = deque(maxlen=STDOUT_TAIL_LINES)
        self._log = logger.bind(session_id=session_id, pid=process.pid)
        self._tasks = [
            asyncio.create_task(self._read_frames(), name=f"neonize-frames-{self.pid}"),
            asyncio.create_task(self._read_output(), name=f"neonize-output-{self.pid}"),
        ]
        self._heartbeat: asyncio.Task[None] | None = None
        self._exit: asyncio.Task[Exit] = asyncio.create_task(self._wait_exit())

    @classmethod
    async def spawn(
        cls, command: WorkerCommand, *, session_id: str, on_frame: FrameHandler
    ) -> WorkerProcess:
        ours, theirs = socket.socketpair()
        process = await start_child(command, command.argv, ours, theirs)
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        return cls(process, reader, writer, session_id=session_id, on_frame=on_frame)

    # -- requests -----------------------------------------------------------------------

    async def request(self, op: str, args: dict[str, Any] | None = None, *, timeout: float) -> Any:
        """Send a request and return its result; the worker's error is raised as ours.
        Raises TimeoutError when no answer comes in time, Unavailable if the worker dies."""
        if self._closed:
            raise Unavailable(
                f"Session {self.session_id}: its WhatsApp worker has exited.",
                code="worker_exited",
            )
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            try:
                self._writer.write(pack(Request(request_id, op, args or {})))
                await self._writer.drain()
            except (ConnectionError, OSError) as exc:
                raise Unavailable(
                    f"Session {self.session_id}: its WhatsApp worker is gone.",
                    code="worker_exited",
                ) from exc
            # TimeoutError is an OSError: it must stay out of the clause above.
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._pending.pop(request_id, None)

    def start_heartbeat(self, interval: float, timeout: float) -> None:
        """Ping every `interval` seconds; a worker silent for `timeout` is killed as hung."""

        async def beat() -> None:
            while not self._closed:
                await asyncio.sleep(interval)
                try:
                    await self.request("ping", timeout=timeout)
                except TimeoutError:
                    self._hung = True
                    self._log.error("neonize.worker_hung", timeout=timeout)
                    self.kill()
                    return
                except Unavailable:
                    return

        self._heartbeat = asyncio.create_task(beat(), name=f"neonize-heartbeat-{self.pid}")

    # -- ending -------------------------------------------------------------------------

    async def wait(self) -> Exit:
        return await asyncio.shield(self._exit)

    async def stop(self, grace: float) -> Exit:
        """Ask the worker to stop; kill it if it has not exited within `grace` seconds."""
        self._stopped = True
        if self.alive:
            with contextlib.suppress(OSError, RuntimeError):
                # Not waiting for the answer: the exit is what counts, within one deadline.
                self._writer.write(pack(Request(next(self._ids), "shutdown", {})))
            try:
                async with asyncio.timeout(grace):
                    await asyncio.shield(self._exit)
            except TimeoutError:
                self._log.warning("neonize.worker_kill", reason="did not stop in time")
                self.kill()
        return await self.wait()

    def kill(self) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    @property
    def alive(self) -> bool:
        # A forked worker whose exit code nobody could tell stays returncode None.
        return self.process.returncode is None and not self._closed

    # -- tasks --------------------------------------------------------------------------

    async def _read_frames(self) -> None:
        try:
            while True:
                header = await self._reader.readexactly(HEADER_SIZE)
                frame = unpack(await self._reader.readexactly(body_length(header)))
                if isinstance(frame, Reply):
                    self._resolve(frame)
                    continue
                if isinstance(frame, Ended):
                    self._ended = frame
                try:
                    await self._on_frame(frame)
                except Exception as exc:  # noqa: BLE001 - one bad event must not stop the pump
                    self._log.error("neonize.frame_failed", error=f"{type(exc).__name__}: {exc}")
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass  # the worker closed its end: it is exiting
        except ProtocolError as exc:
            self._log.error("neonize.protocol_error", error=str(exc))
            self.kill()

    def _resolve(self, reply: Reply) -> None:
        future = self._pending.get(reply.id)
        if future is None or future.done():
            return
        if reply.error is not None:
            future.set_exception(from_wire(reply.error))
        else:
            future.set_result(reply.result)

    async def _read_output(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            if not text or any(secret in text for secret in _SECRET_LINES):
                continue
            self._tail.append(text)
            self._log.debug("neonize.worker_output", line=text)

    async def _wait_exit(self) -> Exit:
        await self.process.wait()
        self._closed = True
        # Frames written just before exiting (an `ended`) are still in the socket: drain.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await asyncio.gather(*self._tasks, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        self._writer.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(
                    Unavailable(
                        f"Session {self.session_id}: its WhatsApp worker exited; try again.",
                        code="worker_exited",
                    )
                )
        return Exit(
            pid=self.pid,
            returncode=self.process.returncode,
            ended=self._ended,
            hung=self._hung,
            stopped=self._stopped,
            output_tail=tuple(self._tail),
        )


async def start_child(
    command: WorkerCommand,
    argv: Callable[[int], list[str]],
    ours: socket.socket,
    theirs: socket.socket,
) -> asyncio.subprocess.Process:
    """A child process (a worker, or the template that forks them) holding `theirs`, the
    other end of our socket, whose number its `argv` names. Our copy of `theirs` is
    closed; `ours` too if the child could not start."""
    try:
        return await asyncio.create_subprocess_exec(
            *argv(theirs.fileno()),
            pass_fds=(theirs.fileno(),),
            cwd=command.cwd,
            env={**os.environ, **command.env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            # Its own session: a Ctrl+C on the server's terminal must not reach it before
            # the server stops it in order.
            start_new_session=True,
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
