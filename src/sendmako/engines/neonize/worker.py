"""The worker process: one WhatsApp session on neonize's sync client, driven over a socket.

    python -m sendmako.engines.neonize.worker --fd N        (started by the supervisor)
    python -m sendmako.engines.neonize.worker --migrate     (store URL on stdin)

One process per session because neonize can abort its whole process (`connection.py`):
here that ends one session, and the supervisor starts it again. The main thread reads
frames: pings are answered at once (the heartbeat proves the process is alive even while
an FFI call blocks), `shutdown` stops and exits, other requests run on a small pool.
The first request must be `start`, which carries the configuration (never the command
line: a PostgreSQL URL holds a password).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import sys
import threading
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from sendmako.engines.neonize import blocked
from sendmako.engines.neonize.errors import to_wire
from sendmako.engines.neonize.protocol import (
    Ended,
    EventFrame,
    FrameSocket,
    LogFrame,
    ProtocolError,
    Reply,
    Request,
    WireError,
)
from sendmako.errors import BadRequest, SendmakoError
from sendmako.model.events import EngineEvent

if TYPE_CHECKING:
    from sendmako.engines.neonize.convert import Ending

REQUEST_THREADS = 4
STOP_SECONDS = 1.5  # a clean stop gets this long; a dial in flight cannot be aborted
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class Worker:
    def __init__(self, channel: FrameSocket) -> None:
        self.channel = channel
        self.pool = ThreadPoolExecutor(REQUEST_THREADS, thread_name_prefix="request")
        self.connection: Any = None
        self.commands: Any = None
        self._exiting = threading.Lock()

    # -- what the connection reports (connection.Link) ----------------------------------

    def event(self, event: EngineEvent) -> None:
        self._send(EventFrame(event))

    def ended(self, ending: Ending) -> None:
        self._send(Ended(ending.detail, ending.retry, ending.retry_after))
        # Exit from another thread: this may be neonize's Go thread, inside a callback.
        threading.Thread(target=self.exit, name="exit", daemon=True).start()

    def _send(self, frame: Any) -> None:
        try:
            self.channel.send(frame)
        except OSError:
            self.exit()  # the server is gone: nobody to work for

    # -- the loop -----------------------------------------------------------------------

    def serve(self) -> None:
        while True:
            try:
                frame = self.channel.receive()
            except (OSError, ProtocolError):
                frame = None
            if frame is None:
                self.exit()
                return
            if not isinstance(frame, Request):
                continue
            if frame.op == "ping":
                self._send(Reply(frame.id, "pong"))
            elif frame.op == "shutdown":
                self._send(Reply(frame.id, None))
                self.exit()
                return
            elif frame.op == "start":
                self._answer(frame)  # before anything else: it builds the connection
            else:
                self.pool.submit(self._answer, frame)

    def _answer(self, request: Request) -> None:
        try:
            reply = Reply(request.id, self._handle(request.op, request.args))
        except SendmakoError as exc:
            reply = Reply(request.id, error=to_wire(exc))
        except Exception as exc:  # noqa: BLE001 - a request's outermost frame answers, always
            structlog.get_logger(__name__).error(
                "neonize.request_failed", op=request.op, error=f"{type(exc).__name__}: {exc}"
            )
            reply = Reply(request.id, error=WireError("internal", f"{type(exc).__name__}: {exc}"))
        self._send(reply)

    def _handle(self, op: str, args: dict[str, Any]) -> Any:
        if op == "start":
            return self._start(args)
        if self.connection is None:
            raise BadRequest("the worker has not been started")
        if op == "pair_code":
            return self.connection.pair_code(args["phone"])
        if op == "logout":
            return self.connection.logout()
        if op == "status":
            return {"state": self.connection.state.value, "pid": os.getpid()}
        if op == "perform":
            return self.commands.perform(args["action"], spool=args.get("spool"))
        raise BadRequest(f"unknown request {op!r}")

    def _start(self, args: dict[str, Any]) -> dict[str, Any]:
        from sendmako.engines.neonize.commands import Commands
        from sendmako.engines.neonize.connection import Connection, ConnectionConfig

        config = ConnectionConfig(
            session_id=args["session_id"],
            store=args["store"],
            device_jid=args.get("device_jid"),
            proxy=args.get("proxy"),
            shared_store=bool(args.get("shared_store")),
        )
        connection = Connection(config, self)
        resumed = connection.open()
        self.connection = connection
        self.commands = Commands(
            connection.client,
            session_id=config.session_id,
            lock=connection.lock,
            ready=connection.ready,
            recent=connection.recent,
            spool_dir=Path(args["spool_dir"]),
            own=lambda: connection.own,
            calls=connection.calls,
        )
        threading.Thread(target=connection.run, name="connect", daemon=True).start()
        return {"resumed": resumed, "pid": os.getpid()}

    def exit(self) -> None:
        """Stop the connection if it stops quickly, then end the process."""
        if not self._exiting.acquire(blocking=False):
            return
        if self.connection is not None:
            self.connection.stop(STOP_SECONDS)
        # os._exit: neonize's connect thread is not a daemon and may be stuck in a dial.
        os._exit(0)


# -- logs: forwarded to the server, which logs them with its own configuration ----------


def _forward_logs(channel: FrameSocket, level: str) -> None:
    def forward(_logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        name = str(event.pop("event", ""))
        fields = {key: _plain(value) for key, value in event.items()}
        with contextlib.suppress(OSError):  # the server is gone; the loop notices and exits
            channel.send(LogFrame(method, name, fields))
        raise structlog.DropEvent

    structlog.configure(
        processors=[forward],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        cache_logger_on_first_use=True,
    )

    class Forwarder(logging.Handler):
        # neonize and whatsmeow log through the standard library.
        def emit(self, record: logging.LogRecord) -> None:
            fields = {"logger": record.name, "message": record.getMessage()}
            with contextlib.suppress(OSError):
                channel.send(LogFrame(record.levelname.lower(), "neonize.log", fields))

    root = logging.getLogger()
    root.handlers[:] = [Forwarder()]
    # whatsmeow's INFO narrates every node; its warnings are what an operator needs.
    root.setLevel(max(_LEVELS[level], logging.WARNING))
    # neonize warns at every connect that ffmpeg is missing: only its own media helpers
    # need it, and workers build media messages themselves.
    logging.getLogger("neonize.utils.ffmpeg").setLevel(logging.ERROR)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def _migrate() -> int:
    """Create or upgrade whatsmeow's schema in the store named on stdin, alone."""
    from sendmako.engines.neonize.store import list_devices

    store = sys.stdin.readline().strip()
    try:
        devices = list_devices(store)
    except SendmakoError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"device store ready: {len(devices)} device(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sendmako.engines.neonize.worker")
    parser.add_argument("--fd", type=int, help="the socket to the server")
    parser.add_argument("--log-level", default="info", choices=sorted(_LEVELS))
    parser.add_argument("--migrate", action="store_true", help="migrate the store and exit")
    args = parser.parse_args(argv)
    blocked.block()  # before anything imports neonize
    if args.migrate:
        return _migrate()
    if args.fd is None:
        parser.error("--fd is required")
    serve(args.fd, args.log_level)
    return 0


def serve(fd: int, log_level: str) -> None:
    """Work for the server on socket `fd` until it says stop or goes away."""
    channel = FrameSocket(socket.socket(fileno=fd))
    _forward_logs(channel, log_level)
    Worker(channel).serve()


if __name__ == "__main__":
    sys.exit(main())
