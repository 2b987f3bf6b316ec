"""How worker processes come to be: forked from the template (`forkserver.py`), one per
session, or spawned afresh (`python -m ...worker`, only for comparisons and odd commands).

A forked worker is not the server's child but the template's: the template reaps it and
reports its exit code, and the server watches it through a pidfd (an exit is seen even
if the template itself is gone, and a signal never reaches a recycled pid).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
from collections import deque
from typing import Any

from sendmako import log
from sendmako.engines.neonize.process import (
    STDOUT_TAIL_LINES,
    Exit,
    FrameHandler,
    WorkerCommand,
    WorkerProcess,
    start_child,
)
from sendmako.errors import Unavailable

logger = log.get(__name__)

MAX_MESSAGE = 4096
TEMPLATE_READY_SECONDS = 60.0  # start Python, import everything a worker needs but Go
FORK_SECONDS = 10.0
REPORT_SECONDS = 2.0  # an exit seen on the pidfd, then its code from the template
TEMPLATE_STOP_SECONDS = 2.0


class TemplateFailed(Unavailable):
    """The template process could not be started, or died: `exit` says how."""

    def __init__(self, exit_: Exit) -> None:
        super().__init__(
            f"The WhatsApp worker template is not running ({exit_.cause}).",
            code="worker_template_failed",
        )
        self.exit = exit_


class ForkedProcess:
    """A worker forked by the template: what `WorkerProcess` needs of a process."""

    def __init__(self, pid: int, stdout: asyncio.StreamReader) -> None:
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self._pidfd = os.pidfd_open(pid)
        self._gone = asyncio.Event()
        self._reported = asyncio.Event()
        self._code: int | None = None
        asyncio.get_running_loop().add_reader(self._pidfd, self._on_exit)

    def _on_exit(self) -> None:
        asyncio.get_running_loop().remove_reader(self._pidfd)
        self._gone.set()

    def report(self, returncode: int | None) -> None:
        """The template's word on how it ended (None: the template is gone)."""
        if not self._reported.is_set():
            self._code = returncode
            self._reported.set()

    async def wait(self) -> int | None:
        await self._gone.wait()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REPORT_SECONDS):
                await self._reported.wait()
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1
        self.returncode = self._code
        return self._code

    def kill(self) -> None:
        if self._pidfd >= 0 and not self._gone.is_set():
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)


class WorkerTemplate:
    """The template process, seen from the server: started on first use, again if it
    died, asked for one worker at a time."""

    def __init__(self, command: WorkerCommand) -> None:
        self.command = command
        self._process: asyncio.subprocess.Process | None = None
        self._control: socket.socket | None = None
        self._reader: asyncio.Task[None] | None = None
        self._output: asyncio.Task[None] | None = None
        self._tail: deque[str] = deque(maxlen=STDOUT_TAIL_LINES)
        self._ids = itertools.count(1)
        # Forks asked for and not answered yet, by request id.
        self._pending: dict[int, asyncio.Future[ForkedProcess]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._ready: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()
        self.starts = 0  # template processes started, for the logs and tests

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def fork(self) -> tuple[ForkedProcess, socket.socket]:
        """A new worker process and the server's end of its socket."""
        async with self._lock:  # one fork at a time: the template answers in order anyway
            control = await self._running()
            ours, theirs = socket.socketpair()
            read_fd, write_fd = os.pipe()
            request_id = next(self._ids)
            future: asyncio.Future[ForkedProcess] = asyncio.get_running_loop().create_future()
            self._pending[request_id] = future
            try:
                message = json.dumps({"op": "fork", "id": request_id}).encode()
                socket.send_fds(control, [message], [theirs.fileno(), write_fd])
            except OSError:
                self._pending.pop(request_id, None)
                os.close(read_fd)
                ours.close()
                raise
            finally:
                theirs.close()
                os.close(write_fd)
        try:
            async with asyncio.timeout(FORK_SECONDS):
                child = await future
        except BaseException:
            ours.close()
            if self._pending.pop(request_id, None) is None and _forked_child(future):
                _forked_child(future).kill()  # type: ignore[union-attr]
            os.close(read_fd)
            raise
        # Its stdout and stderr (a Go panic lands there), read like a spawned worker's.
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(child.stdout), pipe
        )
        return child, ours

    async def close(self) -> None:
        """Stop the template (its workers are stopped by their supervisors)."""
        process, control = self._process, self._control
        if control is not None:
            # The template exits when its server is gone; our reader sees the end too.
            with contextlib.suppress(OSError):
                control.shutdown(socket.SHUT_RDWR)
        if process is not None and process.returncode is None:
            try:
                async with asyncio.timeout(TEMPLATE_STOP_SECONDS):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for task in (self._reader, self._output):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # -- the template process -------------------------------------------------------------

    async def _running(self) -> socket.socket:
        process, control = self._process, self._control
        if process is not None and process.returncode is None and control is not None:
            return control
        if process is not None:  # it died: its exit says why, for the log
            await self._wait_gone()
        return await self._start()

    async def _start(self) -> socket.socket:
        command = self.command
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = await start_child(command, command.template_argv, ours, theirs)
        ours.setblocking(False)
        self.starts += 1
        self._process, self._control = process, ours
        self._tail.clear()
        self._ready = asyncio.get_running_loop().create_future()
        self._output = asyncio.create_task(self._read_output(process), name="neonize-template-out")
        self._reader = asyncio.create_task(self._read_control(ours), name="neonize-template")
        try:
            async with asyncio.timeout(TEMPLATE_READY_SECONDS):
                await asyncio.shield(self._ready)
        except (TimeoutError, TemplateFailed) as exc:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            outcome = await self._wait_gone()
            if isinstance(exc, TemplateFailed):
                raise
            raise TemplateFailed(outcome) from exc
        logger.info("neonize.template_started", pid=process.pid, starts=self.starts)
        return ours

    async def _wait_gone(self) -> Exit:
        process = self._process
        assert process is not None
        await process.wait()
        if self._output is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._output
        return Exit(
            pid=process.pid,
            returncode=process.returncode,
            ended=None,
            output_tail=tuple(self._tail),
        )

    async def _read_output(self, process: asyncio.subprocess.Process) -> None:
        stream = process.stdout
        assert stream is not None
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            if text:
                self._tail.append(text)
                logger.debug("neonize.template_output", line=text)

    async def _read_control(self, control: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            while data := await loop.sock_recv(control, MAX_MESSAGE):
                self._on_message(json.loads(data))
        except (OSError, ValueError):
            pass
        finally:
            await self._gone(control)

    def _on_message(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "ready":
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
        elif op == "forked":
            pending = self._pending.pop(int(message["id"]), None)
            if pending is None:
                return  # a fork given up on (timed out): its worker exits once alone
            pid = int(message["pid"])
            try:
                # Registered now, before the next message (which may be its exit).
                child = ForkedProcess(pid, asyncio.StreamReader())
            except OSError as exc:  # gone and reaped already: no pidfd to be had
                pending.set_exception(exc)
                return
            self._children[pid] = child
            if not pending.done():
                pending.set_result(child)
        elif op == "fork_failed":
            pending = self._pending.pop(int(message["id"]), None)
            if pending is not None and not pending.done():
                pending.set_exception(OSError(f"fork failed: {message.get('error')}"))
        elif op == "exited":
            ended = self._children.pop(int(message["pid"]), None)
            if ended is not None:
                ended.report(message.get("returncode"))

    async def _gone(self, control: socket.socket) -> None:
        """The control socket closed: the template exited (or is being closed)."""
        if self._control is control:
            self._control = None
        control.close()
        process = self._process
        outcome = await self._wait_gone() if process is not None else None
        if self._ready is not None and not self._ready.done() and outcome is not None:
            self._ready.set_exception(TemplateFailed(outcome))
        for pending in self._pending.values():
            if not pending.done():
                pending.set_exception(
                    TemplateFailed(outcome or Exit(pid=0, returncode=None, ended=None))
                )
        self._pending.clear()
        for child in self._children.values():
            child.report(None)  # nobody left to say how they end
        self._children.clear()


def _forked_child(future: asyncio.Future[ForkedProcess]) -> ForkedProcess | None:
    if future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return None


class Launcher:
    """Starts the workers of one engine."""

    def __init__(self, command: WorkerCommand) -> None:
        self.command = command
        self.template = WorkerTemplate(command) if command.forked else None

    async def launch(self, session_id: str, on_frame: FrameHandler) -> WorkerProcess:
        if self.template is None:
            return await WorkerProcess.spawn(self.command, session_id=session_id, on_frame=on_frame)
        process, sock = await self.template.fork()
        try:
            reader, writer = await asyncio.open_unix_connection(sock=sock)
        except BaseException:
            process.kill()
            sock.close()
            raise
        return WorkerProcess(process, reader, writer, session_id=session_id, on_frame=on_frame)

    async def close(self) -> None:
        if self.template is not None:
            await self.template.close()
