"""A real webhook receiver on 127.0.0.1 (a thread), recording what it is sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Delivery:
    event_id: str
    delivery_header: str
    event: str
    body: dict[str, object]
    received_at: float


@dataclass
class Received:
    deliveries: list[Delivery] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, delivery: Delivery) -> None:
        with self.changed:
            self.deliveries.append(delivery)
            self.changed.notify_all()

    def wait_until(self, predicate: object, timeout: float) -> None:
        assert callable(predicate)
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError(f"only {len(self.deliveries)} deliveries arrived")

    def count(self) -> int:
        with self.changed:
            return len(self.deliveries)


@contextmanager
def receiver() -> Iterator[tuple[str, Received]]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parsed = json.loads(body)
            received.add(
                Delivery(
                    event_id=str(parsed["id"]),
                    delivery_header=self.headers["X-Sendmako-Delivery"],
                    event=self.headers["X-Sendmako-Event"],
                    body=parsed,
                    received_at=time.time(),
                )
            )
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:  # keep test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
