"""Starts a real `sendmako serve` for a benchmark, on a fresh data directory."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from sendmako.model.send_policy import SendPolicy

REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    url: str
    key: str
    pid: int
    data_dir: Path

    def call(
        self, method: str, path: str, body: object | None = None, key: str | None = None
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback URL we started
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {key or self.key}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read())


def wait_until_idle(
    pid: int, *, busy_below: float = 0.1, window: float = 0.25, timeout: float = 60
) -> None:
    """Wait until the server has settled (under `busy_below` of a core for `window`
    seconds): work a measured phase left behind, like receipts still due, must not be
    billed to the next phase."""
    process = psutil.Process(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(process.cpu_times()[:2])
        time.sleep(window)
        if sum(process.cpu_times()[:2]) - before < busy_below * window:
            return
    raise RuntimeError(f"the server stayed busy for {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(module: str = "sendmako", **env: str) -> Iterator[Server]:
    """`python -m <module> serve`: `sendmako`, or a bench module that wraps it."""
    with tempfile.TemporaryDirectory(prefix="sendmako-bench-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        environment = {
            **os.environ,
            "SENDMAKO_DATA_DIR": str(data_dir),
            "SENDMAKO_PORT": str(port),
            "SENDMAKO_ENGINES": "sandbox",
            "SENDMAKO_DEFAULT_ENGINE": "sandbox",
            "SENDMAKO_LOG_LEVEL": "warning",
            "SENDMAKO_LOG_FORMAT": "json",
            # What is measured is the server's own work, not the send policy's waiting:
            # no delay, no typing, no cap (README "Not getting banned").
            "SENDMAKO_SEND_POLICY": json.dumps(SendPolicy.unlimited().to_stored()),
            # The server runs in its data directory: `-m bench.*` needs the repository on the path.
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])
            ),
            **env,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", module, "serve"],
            env=environment,
            cwd=data_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            key = _ready(process, port)
            yield Server(f"http://127.0.0.1:{port}", key, process.pid, data_dir)
        finally:
            process.terminate()
            process.wait(timeout=20)


def _ready(process: subprocess.Popen[str], port: int) -> str:
    """The admin key printed at the first start, once the server says it is ready."""
    assert process.stdout is not None
    key = ""
    for line in process.stdout:
        if "API key:" in line:
            key = line.split("API key:")[1].strip()
        if f"Sendmako ready on http://127.0.0.1:{port}" in line:
            # Keep draining output so the server never blocks on a full pipe.
            threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
            return key
    raise RuntimeError("server did not start")


def _drain(stream: object) -> None:
    for _line in stream:  # type: ignore[attr-defined]
        pass
