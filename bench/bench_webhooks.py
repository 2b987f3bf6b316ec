"""Webhook delivery: events per second delivered, and latency from injection (the sandbox
inbound call that records the event) to receipt, beside two sequential POST loops to the
same receiver in the same run: plain httpx (the ceiling the target was set against) and
plain aiohttp (the library the server delivers with, alone); on SQLite, and on PostgreSQL
when it answers on 127.0.0.1:5432 (user postgres). Targets: at least the sequential httpx
loop (issue 4 asked for half of it), and p99 under 200 ms at 200 events/s.

Throughput is measured on a backlog injected in bursts of 25 (the sandbox's batch
endpoint), and again with one injection request per event, where the server's CPU also
goes to taking those requests.

    .venv/bin/python bench/bench_webhooks.py      # BENCH_EVENTS, BENCH_RATE, BENCH_SECONDS
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load
from bench.server import Server, free_port, serve

EVENTS = int(os.environ.get("BENCH_EVENTS", "1500"))
RATE = float(os.environ.get("BENCH_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
SENDERS = 20  # chats: each keeps its order, different chats go out concurrently
INJECTORS = 8
BURST = 25  # messages per injection request in the throughput run
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PSQL = shutil.which("psql") or "/usr/bin/psql"


class Receiver:
    """The receiver process, and what it saw: message id -> time received."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "receiver.py"), str(self.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"
        self.seen: dict[str, float] = {}
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event_id, at = line.split()
            with self.changed:
                self.seen.setdefault(event_id, float(at))
                self.changed.notify_all()

    def wait_for(self, count: int, timeout: float) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.seen) >= count, timeout):
                raise TimeoutError(f"{len(self.seen)} of {count} events arrived")

    def reset(self) -> None:
        with self.changed:
            self.seen.clear()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


CEILING_BODY = b'{"id":"ceiling","event":"message.received","data":{}}'
CEILING_HEADERS = {"Content-Type": "application/json"}


async def ceiling(url: str, count: int) -> float:
    """Events per second a plain httpx POST loop sends to the receiver. (One loop: httpx's
    connection pool loses throughput under concurrent requests, so more loops post less.)"""
    async with httpx.AsyncClient() as client:
        started = time.perf_counter()
        for _ in range(count):
            answer = await client.post(url, content=CEILING_BODY, headers=CEILING_HEADERS)
            answer.raise_for_status()
        return count / (time.perf_counter() - started)


async def aiohttp_loop(url: str, count: int) -> float:
    """Events per second a plain aiohttp POST loop sends to the receiver: the library the
    server delivers with, with nothing around it."""
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for _ in range(count):
            async with session.post(url, data=CEILING_BODY, headers=CEILING_HEADERS) as answer:
                answer.raise_for_status()
                await answer.read()
        return count / (time.perf_counter() - started)


async def flood(server: Server, session_id: str, count: int, burst: int) -> None:
    """Inject `count` messages as fast as the server takes them, `burst` per request
    (through the sandbox's batch endpoint when more than one). With one request per
    message the server spends more CPU taking the HTTP request than delivering the event;
    in production events come from the engine's worker processes, not HTTP requests."""
    numbers = iter(range(count))
    base = f"/api/sandbox/sessions/{session_id}/inbound"

    def message(n: int) -> dict[str, str]:
        return {"from": f"2217812{n % SENDERS:05d}", "type": "text", "text": str(n)}

    def request(_worker: int) -> tuple[str, str, bytes]:
        batch = [n for _, n in zip(range(burst), numbers, strict=False)]
        if not batch:
            raise StopAsyncIteration
        if burst == 1:
            return "POST", base, json.dumps(message(batch[0])).encode()
        body = json.dumps({"messages": [message(n) for n in batch]})
        return "POST", f"{base}/batch", body.encode()

    await load.send_all(
        server.url,
        request,
        headers={"Authorization": f"Bearer {server.key}"},
        concurrency=INJECTORS,
    )


def delivery_rate(server: Server, receiver: Receiver, session_id: str, burst: int) -> float:
    """A backlog injected as fast as possible: events per second from first to last
    receipt."""
    receiver.reset()
    asyncio.run(flood(server, session_id, EVENTS, burst))
    receiver.wait_for(EVENTS, timeout=300)
    times = sorted(receiver.seen.values())
    return (len(times) - 1) / (times[-1] - times[0])


def setup(server: Server, receiver: Receiver) -> str:
    created = server.call(
        "POST", "/api/whatsapp/sessions/", {"session_name": "bench", "engine": "sandbox"}
    )
    session_id: str = created["session_id"]
    server.call("GET", f"/api/whatsapp/sessions/{session_id}?wait_for=qr_ready&timeout=10")
    server.call("POST", f"/api/sandbox/sessions/{session_id}/scan", {"phone_number": "22241857975"})
    server.call("POST", "/api/webhooks", {"url": receiver.url, "events": ["message.received"]})
    return session_id


async def inject(
    server: Server, session_id: str, count: int, rate: float | None
) -> dict[str, float]:
    """Inject `count` incoming messages (at `rate` per second, or as fast as possible);
    returns event id -> time its injection was acknowledged (the event is committed)."""
    injected: dict[str, float] = {}
    started = time.perf_counter()
    numbers = iter(range(count))
    url = f"{server.url}/api/sandbox/sessions/{session_id}/inbound"
    headers = {"Authorization": f"Bearer {server.key}"}
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            for number in numbers:
                if rate:
                    due = started + number / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                sender = f"2217812{number % SENDERS:05d}"
                answer = await client.post(
                    url, headers=headers, json={"from": sender, "type": "text", "text": str(number)}
                )
                answer.raise_for_status()
                injected[answer.json()["message_id"]] = time.time()

        await asyncio.gather(*(worker() for _ in range(INJECTORS)))
    return injected


def run(label: str, **env: str) -> None:
    receiver = Receiver()
    try:
        with serve(
            SENDMAKO_ENGINES="sandbox",
            SENDMAKO_DEFAULT_ENGINE="sandbox",
            SENDMAKO_ALLOW_PRIVATE_HOSTS="127.0.0.1",
            **env,
        ) as server:
            session_id = setup(server, receiver)
            top = asyncio.run(ceiling(receiver.url, EVENTS))
            bare = asyncio.run(aiohttp_loop(receiver.url, EVENTS))
            receiver.reset()

            delivered = delivery_rate(server, receiver, session_id, BURST)
            one_by_one = delivery_rate(server, receiver, session_id, 1)

            # Latency at a fixed rate: injection acknowledged -> received.
            receiver.reset()
            count = int(RATE * SECONDS)
            injected = asyncio.run(inject(server, session_id, count, RATE))
            receiver.wait_for(count, timeout=120)
            latencies = sorted(
                (receiver.seen[message] - at) * 1000 for message, at in injected.items()
            )
    finally:
        receiver.stop()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"{label:<11} delivered {delivered:7.0f} events/s   ceiling (httpx loop) {top:7.0f}/s   "
        f"ratio {delivered / top:.2f} (target >= 1.00)   at {RATE:.0f}/s: "
        f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms (target < 200)  [{len(latencies)} events]\n"
        f"{'':<11} aiohttp loop {bare:7.0f}/s: delivered is {delivered / bare:.2f} of it\n"
        f"{'':<11} {one_by_one:7.0f} events/s when each event is injected by its own HTTP "
        f"request (the server takes the requests too: ratio {one_by_one / top:.2f})"
    )


@contextmanager
def postgres_database() -> Iterator[str | None]:
    name = f"sendmako_bench_{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run(
            [PSQL, POSTGRES_ADMIN, "-qc", f'CREATE DATABASE "{name}"'],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError):
        yield None
        return
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run(
            [PSQL, POSTGRES_ADMIN, "-qc", f'DROP DATABASE "{name}" WITH (FORCE)'],
            check=False,
            capture_output=True,
        )


def main() -> None:
    print(
        f"{EVENTS} events from {SENDERS} chats, then {RATE:.0f} events/s "
        f"for {SECONDS:.0f} s; 1 server process"
    )
    run("SQLite")
    with postgres_database() as url:
        if url is None:
            print("PostgreSQL  skipped: no server on 127.0.0.1:5432")
        else:
            run("PostgreSQL", SENDMAKO_DATABASE_URL=url)


if __name__ == "__main__":
    main()
