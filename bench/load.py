"""A small HTTP/1.1 keep-alive load generator on raw asyncio streams.

httpx or aiohttp clients would spend more CPU than the server under test; this one parses
only the status line and Content-Length, so the figures are the server's, not the client's.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    server_cpu_seconds: float | None = None  # the server's CPU over the measured seconds

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.server_cpu_seconds is None:
            return None
        return self.server_cpu_seconds / self.requests * 1e6

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    def line(self, label: str) -> str:
        return (
            f"{label:<44} {self.rps:8.0f} req/s   p50 {self.percentile(50):6.2f} ms   "
            f"p99 {self.percentile(99):6.2f} ms   "
            f"mean {statistics.fmean(self.latencies_ms):6.2f} ms   "
            + (f"server CPU {cpu:4.0f} us/req   " if (cpu := self.cpu_us_per_request) else "")
            + f"statuses {dict(sorted(self.statuses.items()))}"
        )


RequestMaker = Callable[[int], tuple[str, str, bytes]]  # worker index -> method, path, body


async def run(
    base_url: str,
    make_request: RequestMaker,
    *,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    warmup: float = 0.5,
    server_pid: int | None = None,
) -> Result:
    """With `server_pid`, also the CPU time that process spent over the measured seconds
    (its threads included), taken as they start and end."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start_measuring = time.perf_counter() + warmup
    stop_at = start_measuring + seconds

    async def worker(index: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                method, path, body = make_request(index)
                head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
                head += [f"{name}: {value}" for name, value in headers.items()]
                if body:
                    head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                status = await _read_response(reader)
                done = time.perf_counter()
                if sent >= start_measuring:
                    latencies.append((done - sent) * 1000)
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    async def server_cpu() -> float | None:
        if server_pid is None:
            return None
        process = psutil.Process(server_pid)
        await asyncio.sleep(start_measuring - time.perf_counter())
        before = sum(process.cpu_times()[:2])
        await asyncio.sleep(stop_at - time.perf_counter())
        return sum(process.cpu_times()[:2]) - before

    cpu, *_ = await asyncio.gather(server_cpu(), *(worker(i) for i in range(concurrency)))
    return Result(len(latencies), seconds, latencies, statuses, cpu)


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        lowered = name.strip().lower()
        if lowered == "content-length":
            length = int(value)
        elif lowered == "transfer-encoding" and "chunked" in value:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


def merge(a: Result, b: Result) -> Result:
    statuses = dict(a.statuses)
    for status, number in b.statuses.items():
        statuses[status] = statuses.get(status, 0) + number
    cpu = None
    if a.server_cpu_seconds is not None and b.server_cpu_seconds is not None:
        cpu = a.server_cpu_seconds + b.server_cpu_seconds
    return Result(
        a.requests + b.requests,
        a.seconds + b.seconds,
        a.latencies_ms + b.latencies_ms,
        statuses,
        cpu,
    )


async def send_all(
    base_url: str, make_request: RequestMaker, *, headers: dict[str, str], concurrency: int
) -> int:
    """Send requests until `make_request` raises StopAsyncIteration; returns how many."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    sent = 0

    async def worker(index: int) -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                try:
                    method, path, body = make_request(index)
                except StopAsyncIteration:
                    return
                head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
                head += [f"{name}: {value}" for name, value in headers.items()]
                head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                status = await _read_response(reader)
                if status != 200:
                    raise RuntimeError(f"{method} {path} answered {status}")
                sent += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return sent
