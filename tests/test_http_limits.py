"""What the server bounds by itself, against a real `sendmako serve` over raw loopback
sockets: a request's head (its size and how long it may take), its body (how slowly it may
trickle), how many connections are served; and what must keep working: keep-alive,
pipelining, a large upload at a normal rate."""

from __future__ import annotations

import base64
import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from tests.contract.live import LiveServer, serve
from tests.rawhttp import Reader, connect, read_until_closed, request

pytestmark = pytest.mark.slow

MAX_HEAD = 64 * 1024  # the default
HEAD_TIMEOUT = 1.0
BODY_GAP = 1.0
BODY_GRACE = 2.0
BODY_MIN_RATE = 1024
KEEP_ALIVE = 5.0  # the default; longer than the idling below
# Slack for a busy machine when checking that something happened at a deadline.
LATE = 1.5


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "SENDMAKO_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
        "SENDMAKO_BODY_GAP_SECONDS": str(BODY_GAP),
        "SENDMAKO_BODY_RATE_GRACE_SECONDS": str(BODY_GRACE),
        "SENDMAKO_BODY_MIN_RATE": str(BODY_MIN_RATE),
        "SENDMAKO_KEEP_ALIVE_SECONDS": str(KEEP_ALIVE),
        "SENDMAKO_SANDBOX__RECEIPT_DELIVERED_SECONDS": "0",
        "SENDMAKO_SANDBOX__RECEIPT_READ_SECONDS": "0",
    }
    with serve(tmp_path_factory.mktemp("limits"), **env) as server:
        yield server


def auth(server: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.admin_key}"}


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def endless_header(url: str, megabytes: int) -> socket.socket:
    """A connection that sent a header line that never ends, `megabytes` of it (or until
    the server stopped reading). Returned open, with nothing read yet."""
    sock = connect(url)
    chunk = b"a" * (256 * 1024)
    try:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ")
        for _ in range(megabytes * 4):
            sock.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed: what it said is still to be read
    return sock


def test_an_endless_header_line_is_cut_at_the_limit_and_not_kept(live: LiveServer) -> None:
    """Just past the limit, the answer is 431 and the connection closes; five connections
    each sending 16 MB of one header line leave the server's memory where it was (it had
    grown by the size of each line: 263 MB for five 60 MB lines)."""
    sock = connect(live.url)
    sock.sendall(b"GET /health/live HTTP/1.1\r\nX-Filler: " + b"a" * MAX_HEAD)
    answer = read_until_closed(sock)
    assert status_of(answer) == 431, answer[:200]
    assert b'"code": "request_head_too_large"' in answer
    sock.close()

    process = psutil.Process(live.process.pid)
    warm = endless_header(live.url, 4)  # buffers the server keeps for any connection
    read_until_closed(warm)
    warm.close()
    before = process.memory_info().rss
    held = [endless_header(live.url, 16) for _ in range(5)]
    grown = process.memory_info().rss - before
    for sock in held:
        answer = read_until_closed(sock)
        assert status_of(answer) in (431, 0), answer[:200]  # 431, or closed
        sock.close()
    assert grown < 16 * 1024 * 1024, f"RSS grew by {grown / 1e6:.1f} MB"


def test_a_silent_connection_is_closed_at_the_head_timeout(live: LiveServer) -> None:
    """Connect and say nothing: closed, without an answer, once the head timeout passed."""
    sock = connect(live.url)
    started = time.monotonic()
    assert read_until_closed(sock) == b""
    assert HEAD_TIMEOUT * 0.9 <= time.monotonic() - started < HEAD_TIMEOUT + LATE
    sock.close()


def test_a_head_sent_byte_by_byte_is_cut_at_the_head_timeout(live: LiveServer) -> None:
    """A byte every tenth of the timeout: the head would take four timeouts to come.
    At the timeout the answer is 408 and the connection closes."""
    sock = connect(live.url)
    head = request("GET", "/health/live")
    started = time.monotonic()
    for byte in head:
        # The pause between two bytes, cut short if the server speaks (or closes).
        readable, _, _ = select.select([sock], [], [], HEAD_TIMEOUT / 10)
        if readable:
            break
        sock.send(bytes([byte]))
    answer = read_until_closed(sock)
    elapsed = time.monotonic() - started
    assert status_of(answer) == 408, answer[:200]
    assert b'"code": "request_timeout"' in answer
    assert HEAD_TIMEOUT * 0.9 <= elapsed < HEAD_TIMEOUT + LATE
    sock.close()


def test_each_request_on_a_keep_alive_connection_has_its_own_head_limits(
    live: LiveServer,
) -> None:
    """Two requests with heads of 3/4 of the limit each, the second sent after idling
    longer than the head timeout: both are answered, on the same connection."""
    sock = connect(live.url)
    reader = Reader(sock)
    big = {"X-Filler": "a" * (MAX_HEAD * 3 // 4)}
    sock.sendall(request("GET", "/health/live", headers=big))
    assert reader.response().status == 200
    time.sleep(HEAD_TIMEOUT * 1.5)  # idle, within the keep-alive timeout
    sock.sendall(request("GET", "/health/live", headers=big))
    answer = reader.response()
    assert answer.status == 200
    assert answer.headers.get("connection") != "close"
    sock.close()


def test_pipelined_requests_are_each_answered(live: LiveServer) -> None:
    """Three requests in one write, their heads together larger than the limit of one:
    three answers, in order, on a connection that stays open."""
    sock = connect(live.url)
    reader = Reader(sock)
    filler = {"X-Filler": "a" * (MAX_HEAD // 2)}
    sock.sendall(b"".join(request("GET", "/health/live", headers=filler) for _ in range(3)))
    assert [reader.response().status for _ in range(3)] == [200, 200, 200]
    sock.sendall(request("GET", "/health/live"))
    assert reader.response().status == 200
    sock.close()


def send_message_head(live: LiveServer, length: int, *, key: str | None = None) -> bytes:
    return request(
        "POST",
        "/api/send-message",
        headers={
            "Authorization": f"Bearer {key or live.admin_key}",
            "Content-Type": "application/json",
            "Content-Length": str(length),
        },
    )


def test_a_body_that_stops_coming_is_answered_408_and_closed(live: LiveServer) -> None:
    """Part of a body, then nothing: 408 once the gap allowed between two pieces passed,
    and the connection closes."""
    sock = connect(live.url)
    sock.sendall(send_message_head(live, 200) + b'{"to": "2')
    started = time.monotonic()
    answer = read_until_closed(sock)
    elapsed = time.monotonic() - started
    assert status_of(answer) == 408, answer[:300]
    assert b"No part of the request body came for 1 s." in answer
    assert b"connection: close" in answer.lower()
    assert BODY_GAP * 0.9 <= elapsed < BODY_GAP + LATE
    sock.close()


def test_a_body_trickling_below_the_rate_is_answered_408_and_closed(live: LiveServer) -> None:
    """A byte every quarter of the gap: never a gap, but 4 bytes/s. Once the grace passed,
    408, and the connection closes."""
    sock = connect(live.url)
    sock.sendall(send_message_head(live, 200))
    started = time.monotonic()
    while True:
        readable, _, _ = select.select([sock], [], [], BODY_GAP / 4)
        if readable or time.monotonic() - started > BODY_GRACE + 2 * LATE:
            break
        sock.send(b" ")
    answer = read_until_closed(sock)
    elapsed = time.monotonic() - started
    assert status_of(answer) == 408, answer[:300]
    assert b"The request body came slower than 1,024 bytes/s." in answer
    assert BODY_GRACE * 0.9 <= elapsed < BODY_GRACE + LATE
    sock.close()


def test_the_rest_of_a_body_answered_unread_must_come_in_time(live: LiveServer) -> None:
    """A request refused before its body is read (a wrong key: 401): the body keeps
    trickling, each byte within the keep-alive timeout. The connection closes once the
    head timeout passed after the answer."""
    sock = connect(live.url)
    sock.sendall(send_message_head(live, 10_000, key="wsa_wrong") + b"{")
    reader = Reader(sock)
    assert reader.response().status == 401
    answered = time.monotonic()
    closed = False
    while time.monotonic() - answered < HEAD_TIMEOUT + 2 * LATE:
        readable, _, _ = select.select([sock], [], [], HEAD_TIMEOUT / 4)
        if readable:
            closed = read_until_closed(sock) == b""
            break
        sock.send(b" ")
    assert closed
    assert HEAD_TIMEOUT * 0.9 <= time.monotonic() - answered < HEAD_TIMEOUT + LATE
    sock.close()


def test_a_large_upload_at_a_normal_rate_is_sent(live: LiveServer) -> None:
    """The largest document (70 MiB, 98 MB of JSON once in base64) sent inline to
    send-message from a quick local client: accepted, and the message goes out."""
    session = connected_sandbox_session(live)
    document = b"%PDF-1.4\n" + bytes(70 * 1024 * 1024 - 4096)
    body = json.dumps(
        {
            "to": "221781234567",
            "type": "document",
            "session_id": session,
            "filename": "large.pdf",
            "documentBase64": base64.b64encode(document).decode(),
        }
    ).encode()
    assert len(body) > 95_000_000
    answer = requests.post(
        f"{live.url}/api/send-message",
        data=body,
        headers={**auth(live), "Content-Type": "application/json"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["status"] == "sent"


def connected_sandbox_session(live: LiveServer) -> str:
    api = f"{live.url}/api"
    created = requests.post(
        f"{api}/whatsapp/sessions/",
        json={"session_name": "Large", "engine": "sandbox"},
        headers=auth(live),
        timeout=10,
    )
    assert created.status_code in (200, 201), created.text
    session_id: str = created.json()["session_id"]
    waited = requests.get(
        f"{api}/whatsapp/sessions/{session_id}/",
        params={"wait_for": "qr_ready", "timeout": "10"},
        headers=auth(live),
        timeout=15,
    )
    assert waited.json()["status"] == "qr_ready", waited.text
    scanned = requests.post(
        f"{api}/sandbox/sessions/{session_id}/scan",
        json={"phone_number": "+222 41 85 79 75"},
        headers=auth(live),
        timeout=10,
    )
    assert scanned.status_code == 200, scanned.text
    return session_id


def test_connections_beyond_the_limit_are_answered_503(tmp_path: Path) -> None:
    """With SENDMAKO_MAX_CONNECTIONS=3, three keep-alive connections are served; a request
    on a fourth is answered 503 and that connection closes."""
    with serve(tmp_path, SENDMAKO_MAX_CONNECTIONS="3") as server:
        readers = []
        for _ in range(3):
            reader = Reader(connect(server.url))
            reader.sock.sendall(request("GET", "/health/live"))
            assert reader.response().status == 200  # served: the server holds it now
            readers.append(reader)
        extra = connect(server.url)
        extra.sendall(request("GET", "/health/live"))
        answer = read_until_closed(extra)
        assert status_of(answer) == 503, answer[:200]
        extra.close()
        for reader in readers:
            reader.sock.close()
