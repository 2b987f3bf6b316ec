"""HTTP/1.1 over a raw loopback socket, for tests that send what no client library would:
heads that never end, bodies that trickle, pipelined requests."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# How long a test waits for the server to answer or close: the deadline of every read.
DEADLINE = 15.0


def connect(url: str, *, timeout: float = DEADLINE) -> socket.socket:
    parts = urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "localhost"), "loopback only"
    return socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (recv returns b"", or
    the connection is reset after what was read). Times out at the socket's timeout."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Reader:
    """Reads responses one after another from a keep-alive connection."""

    sock: socket.socket
    buffer: bytes = field(default=b"")

    def response(self) -> Response:
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Response(int(status_line.split()[1]), headers, body)

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a whole response came")
        self.buffer += chunk


def request(method: str, path: str, *, headers: dict[str, str] | None = None) -> bytes:
    """A request head (to be followed by a body, if `headers` announce one)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
