"""The message protocol between the server and a neonize worker process.

Frames travel over a Unix socketpair, never stdout: neonize's Go core prints to stdout on
its own. Each frame is a 4-byte big-endian length, then one JSON object:

    request  server -> worker  {"k": "req", "id": 7, "op": "perform", "args": {...}}
    reply    worker -> server  {"k": "rep", "id": 7, "ok": true, "result": ...}
                               {"k": "rep", "id": 7, "ok": false, "error": {...}}
    event    worker -> server  {"k": "evt", "event": <an events.py dataclass>}
    ended    worker -> server  {"k": "end", "reason": "...", "retry": true, "retry_after": null}
    log      worker -> server  {"k": "log", "level": "warning", "event": "...", "fields": {}}

`ended` says the WhatsApp connection is over and the worker is about to exit: `retry` tells
the supervisor whether to start a new worker (after `retry_after` seconds, or its backoff).

Values are our own dataclasses (`model/`), tagged with their class name so the other side
rebuilds the same type. Only the types that the worker's actions (`actions.py`), their
answers and the engine events are made of decode, so a frame can never name an arbitrary
class; that list is derived from theirs, never written out. Bytes travel as base64. Media
files (up to 70 MB) never travel in a frame: the server spools them to a file under the
data directory and only the file's generated name crosses (`SPOOL_NAME`).
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any, get_args

from sendmako.engines.neonize.actions import WORKER_ACTIONS
from sendmako.model.actions import RequestPairCode, result_type
from sendmako.model.events import EngineEvent
from sendmako.model.wire import WireCodec, WireFormatError

MAX_FRAME_BYTES = 32 * 1024 * 1024
_HEADER = struct.Struct(">I")
# Spool files are named by the server (never by a user): 32 hex digits and a suffix.
SPOOL_NAME = re.compile(r"^[0-9a-f]{32}\.bin$")


# What may cross: the worker's actions and their answers, the pairing code, and the events.
CODEC = WireCodec(
    [
        *WORKER_ACTIONS,
        *(result_type(kind) for kind in WORKER_ACTIONS),
        RequestPairCode,
        *get_args(EngineEvent),
    ]
)


class ProtocolError(WireFormatError):
    """A frame that does not follow this protocol (a bug, or a worker gone mad)."""


# -- values -----------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """Our value as JSON-ready data (model/wire.py)."""
    return CODEC.encode(value)


def decode(data: Any) -> Any:
    """The inverse of `encode`."""
    try:
        return CODEC.decode(data)
    except WireFormatError as exc:
        raise ProtocolError(str(exc)) from exc


# -- frames -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    op: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WireError:
    """An error raised in the worker, rebuilt as one of `errors.py` on the server."""

    kind: str  # unavailable, operation_failed, bad_request, not_found, internal
    message: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    id: int
    result: Any = None
    error: WireError | None = None


@dataclass(frozen=True, slots=True)
class EventFrame:
    event: Any  # one of the events.py dataclasses


@dataclass(frozen=True, slots=True)
class Ended:
    reason: str
    retry: bool
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class LogFrame:
    level: str
    event: str
    fields: dict[str, Any] = field(default_factory=dict)


Frame = Request | Reply | EventFrame | Ended | LogFrame


def to_wire(frame: Frame) -> dict[str, Any]:
    if isinstance(frame, Request):
        return {"k": "req", "id": frame.id, "op": frame.op, "args": encode(frame.args)}
    if isinstance(frame, Reply):
        if frame.error is not None:
            error = dataclasses.asdict(frame.error)
            return {"k": "rep", "id": frame.id, "ok": False, "error": error}
        return {"k": "rep", "id": frame.id, "ok": True, "result": encode(frame.result)}
    if isinstance(frame, EventFrame):
        return {"k": "evt", "event": encode(frame.event)}
    if isinstance(frame, Ended):
        return {
            "k": "end",
            "reason": frame.reason,
            "retry": frame.retry,
            "retry_after": frame.retry_after,
        }
    return {"k": "log", "level": frame.level, "event": frame.event, "fields": frame.fields}


def from_wire(data: Any) -> Frame:
    try:
        kind = data["k"]
        if kind == "req":
            args = decode(data["args"])
            if not isinstance(args, dict):
                raise ProtocolError("request args must be an object")
            return Request(int(data["id"]), str(data["op"]), args)
        if kind == "rep":
            if data["ok"]:
                return Reply(int(data["id"]), decode(data["result"]))
            return Reply(int(data["id"]), error=WireError(**data["error"]))
        if kind == "evt":
            return EventFrame(decode(data["event"]))
        if kind == "end":
            return Ended(str(data["reason"]), bool(data["retry"]), data.get("retry_after"))
        if kind == "log":
            return LogFrame(str(data["level"]), str(data["event"]), dict(data["fields"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"malformed frame: {exc}") from exc
    raise ProtocolError(f"unknown frame kind {kind!r}")


def pack(frame: Frame) -> bytes:
    body = json.dumps(to_wire(frame), separators=(",", ":"), default=str).encode()
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(body)} bytes is over the {MAX_FRAME_BYTES} limit")
    return _HEADER.pack(len(body)) + body


def unpack(body: bytes) -> Frame:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from exc
    return from_wire(data)


def body_length(header: bytes) -> int:
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {length} bytes announced, over the limit")
    return int(length)


HEADER_SIZE = _HEADER.size


class FrameSocket:
    """The worker's end: blocking reads on one thread, writes from any thread."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._write_lock = threading.Lock()

    def send(self, frame: Frame) -> None:
        data = pack(frame)
        with self._write_lock:
            self.sock.sendall(data)

    def receive(self) -> Frame | None:
        """The next frame, or None when the server closed its end."""
        header = self._read_exactly(HEADER_SIZE)
        if header is None:
            return None
        body = self._read_exactly(body_length(header))
        if body is None:
            return None
        return unpack(body)

    def _read_exactly(self, size: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self.sock.recv(min(size - len(chunks), 1 << 20))
            if not chunk:
                return None
            chunks += chunk
        return bytes(chunks)
