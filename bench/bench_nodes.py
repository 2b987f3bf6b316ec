"""Several nodes against one, on the same machine, PostgreSQL server and Redis: sends per
second and webhook deliveries per second, as ratios, and the CPU each send costs counting
every process that works for it (the nodes, their PostgreSQL backends, Redis).

Both runs are clusters (PostgreSQL and Redis); the only difference is the number of nodes.
Sessions spread over the nodes, and each node is sent an equal part of the load for every
session, so with two nodes half the sends cross to the other node over Redis. The goal
(issue 17): a send on two nodes costs at most 1.3 times a send on one. The throughput
ratio depends on the cores left to the nodes: two nodes on two cores share them with the
load generator, the receiver, PostgreSQL and Redis, so it is printed with the cores.

    .venv/bin/python bench/bench_nodes.py      # BENCH_SENDS, BENCH_EVENTS, BENCH_NODES
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load
from bench.bench_webhooks import Receiver
from bench.server import Server, serve, wait_until_idle
from sendmako.cluster.bus import Message
from sendmako.cluster.redis_bus import RedisBus

SENDS = int(os.environ.get("BENCH_SENDS", "3000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "3000"))
NODES = int(os.environ.get("BENCH_NODES", "2"))
SESSIONS = 10
CONCURRENCY = 16  # connections per node
BURST = 25  # incoming messages per injection request
GOAL = 1.3
POSTGRES = "127.0.0.1:5432"
PSQL = shutil.which("psql") or "/usr/bin/psql"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextlib.contextmanager
def fresh_database() -> Iterator[tuple[str, str]]:
    """A new PostgreSQL database: (its name, its URL for Sendmako)."""
    name = f"sendmako_bench_nodes_{uuid.uuid4().hex[:8]}"
    admin = ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"]
    subprocess.run([PSQL, *admin, f"CREATE DATABASE {name}"], check=True)
    try:
        yield name, f"postgresql+asyncpg://postgres@{POSTGRES}/{name}"
    finally:
        subprocess.run([PSQL, *admin, f"DROP DATABASE {name} WITH (FORCE)"], check=True)


@contextlib.contextmanager
def nodes(count: int, database_url: str) -> Iterator[list[Server]]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    shared = {
        "SENDMAKO_DATABASE_URL": database_url,
        "SENDMAKO_REDIS_URL": REDIS_URL,
        "SENDMAKO_CLUSTER__REDIS_PREFIX": prefix,
        "SENDMAKO_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
        "SENDMAKO_SANDBOX__RECEIPT_DELIVERED_SECONDS": "0",
        "SENDMAKO_SANDBOX__RECEIPT_READ_SECONDS": "0",
    }
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(serve(SENDMAKO_CLUSTER__NODE_NAME=f"node-{n}", **shared))
            for n in range(count)
        ]
        key = servers[0].key  # the first node made the admin; the others share it
        yield [Server(s.url, key, s.pid, s.data_dir) for s in servers]


def link(servers: list[Server]) -> list[str]:
    first = servers[0]
    session_ids = []
    for index in range(SESSIONS):
        created = first.call("POST", "/api/whatsapp/sessions/", {"session_name": f"b{index}"})
        session_id: str = created["session_id"]
        first.call("GET", f"/api/whatsapp/sessions/{session_id}/?wait_for=qr_ready&timeout=20")
        first.call(
            "POST",
            f"/api/sandbox/sessions/{session_id}/scan",
            {"phone_number": f"2224187{1000 + index}"},
        )
        first.call("PATCH", f"/api/whatsapp/sessions/{session_id}", {"pacing_ms": 0})
        session_ids.append(session_id)
    for session_id in session_ids:
        first.call("GET", f"/api/whatsapp/sessions/{session_id}/?wait_for=connected&timeout=20")
    placed = {s for n in first.call("GET", "/api/admin/nodes")["nodes"] for s in n["sessions"]}
    assert placed == set(session_ids), "every session runs on a node"
    return session_ids


def cpu_seconds(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


def redis_server() -> psutil.Process | None:
    return next(
        (p for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"), None
    )


class Cpu:
    """CPU seconds (user + system) of the processes that work for the cluster: the nodes,
    the PostgreSQL backends connected to its database, and Redis. Backends come and go
    with connection pools: each is read when first seen and at the end."""

    def __init__(self, servers: list[Server], database: str) -> None:
        self.servers = servers
        self.database = database
        self.redis = redis_server()
        self.start: dict[int, float] = {}

    def _backends(self) -> list[int]:
        query = f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.database}'"  # noqa: S608
        done = subprocess.run(
            [PSQL, "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-Atc", query],
            capture_output=True,
            text=True,
            check=True,
        )
        return [int(line) for line in done.stdout.split()]

    def _processes(self) -> dict[str, list[int]]:
        found = {"nodes": [s.pid for s in self.servers], "postgres": self._backends()}
        found["redis"] = [self.redis.pid] if self.redis is not None else []
        return found

    def begin(self) -> None:
        self.start = {pid: cpu_seconds(pid) for pids in self._processes().values() for pid in pids}

    def end(self) -> dict[str, float]:
        """Seconds used since `begin`, by kind of process."""
        used = {}
        for kind, pids in self._processes().items():
            # A backend that appeared during the run started from 0.
            used[kind] = sum(cpu_seconds(pid) - self.start.get(pid, 0.0) for pid in pids)
        return used


@dataclass
class Figures:
    sends_per_second: float
    cpu_per_send_us: dict[str, float]
    deliveries_per_second: float
    cpu_per_delivery_us: float

    @property
    def send_cpu(self) -> float:
        return sum(self.cpu_per_send_us.values())


def settle(servers: list[Server]) -> None:
    for server in servers:
        wait_until_idle(server.pid)


def send_load(servers: list[Server], session_ids: list[str]) -> float:
    """SENDS text messages, each node taking an equal part for every session; sends/s."""
    numbers = iter(range(SENDS))

    def request(index: int) -> tuple[str, str, bytes]:
        number = next(numbers, None)
        if number is None:
            raise StopAsyncIteration
        body = {
            "to": "221781234567",
            "type": "text",
            "text": f"bench {number}",
            "session_id": session_ids[number % len(session_ids)],
        }
        return "POST", "/api/send-message", json.dumps(body).encode()

    async def all_nodes() -> None:
        await asyncio.gather(
            *(
                load.send_all(
                    server.url,
                    request,
                    headers={"Authorization": f"Bearer {server.key}"},
                    concurrency=CONCURRENCY,
                )
                for server in servers
            )
        )

    started = time.perf_counter()
    asyncio.run(all_nodes())
    return SENDS / (time.perf_counter() - started)


def inbound_load(servers: list[Server], session_ids: list[str], receiver: Receiver) -> float:
    """EVENTS incoming messages injected through every node for every session, in
    bursts; webhook deliveries per second from the first receipt to the last."""
    receiver.reset()
    bursts = itertools.count()
    total = EVENTS // BURST

    def request(_index: int) -> tuple[str, str, bytes]:
        number = next(bursts)
        if number >= total:
            raise StopAsyncIteration
        session_id = session_ids[number % len(session_ids)]
        messages = [
            {"from": f"2217812{(number * BURST + k) % 97:05d}", "type": "text", "text": "hi"}
            for k in range(BURST)
        ]
        path = f"/api/sandbox/sessions/{session_id}/inbound/batch"
        return "POST", path, json.dumps({"messages": messages}).encode()

    async def all_nodes() -> None:
        await asyncio.gather(
            *(
                load.send_all(
                    server.url,
                    request,
                    headers={"Authorization": f"Bearer {server.key}"},
                    concurrency=4,
                )
                for server in servers
            )
        )

    asyncio.run(all_nodes())
    receiver.wait_for(total * BURST, timeout=600)
    times = sorted(receiver.seen.values())
    return (len(times) - 1) / (times[-1] - times[0])


def measure(count: int, receiver: Receiver) -> Figures:
    with fresh_database() as (database, url), nodes(count, url) as servers:
        # Only incoming messages are delivered: the sends' receipts are not.
        hook = {"url": receiver.url, "events": ["message.received"]}
        servers[0].call("POST", "/api/webhooks", hook)
        session_ids = link(servers)
        settle(servers)
        cpu = Cpu(servers, database)
        cpu.begin()
        sends_per_second = send_load(servers, session_ids)
        settle(servers)  # receipts and their writes are part of a send's cost
        used = cpu.end()
        servers[0].call(
            "POST", "/api/webhooks", {"url": receiver.url, "events": ["message.received"]}
        )
        settle(servers)
        cpu.begin()
        deliveries_per_second = inbound_load(servers, session_ids, receiver)
        settle(servers)
        delivered = cpu.end()
    return Figures(
        sends_per_second=sends_per_second,
        cpu_per_send_us={kind: seconds / SENDS * 1e6 for kind, seconds in used.items()},
        deliveries_per_second=deliveries_per_second,
        cpu_per_delivery_us=sum(delivered.values()) / EVENTS * 1e6,
    )


def bus_floor(calls: int = 2000) -> float:
    """CPU (this process and Redis) of one call between two nodes' buses that does
    nothing: what a send carried to another node costs at least, beyond the send."""

    async def run() -> float:
        prefix = f"bench-bus-{uuid.uuid4().hex[:8]}"
        caller, callee = (RedisBus(REDIS_URL, name, prefix=prefix) for name in ("a", "b"))

        async def nothing(_payload: Message) -> Message:
            return {}

        callee.serve("nothing", nothing)
        await caller.start()
        await callee.start()
        try:
            for _ in range(50):
                await caller.call("b", "nothing", {})
            redis = redis_server()
            pids = [os.getpid()] + ([redis.pid] if redis is not None else [])
            start = {pid: cpu_seconds(pid) for pid in pids}
            per_worker = calls // CONCURRENCY

            async def worker() -> None:
                for _ in range(per_worker):
                    await caller.call("b", "nothing", {})

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            used = sum(cpu_seconds(pid) - before for pid, before in start.items())
            return used / (per_worker * CONCURRENCY) * 1e6
        finally:
            await caller.stop()
            await callee.stop()

    return asyncio.run(run())


def show(label: str, figures: Figures) -> None:
    parts = ", ".join(f"{kind} {us:.0f}" for kind, us in figures.cpu_per_send_us.items())
    print(
        f"{label}: {figures.sends_per_second:7.0f} sends/s, CPU per send {figures.send_cpu:6.0f} µs"
        f" ({parts}); {figures.deliveries_per_second:6.0f} webhook deliveries/s,"
        f" CPU per delivery {figures.cpu_per_delivery_us:5.0f} µs"
    )


def main() -> None:
    cores = os.cpu_count()
    print(
        f"{SENDS} sends and {EVENTS} incoming messages over {SESSIONS} sandbox sessions;"
        f" {cores} cores, load average {os.getloadavg()[0]:.1f} at the start"
    )
    receiver = Receiver()
    try:
        one = measure(1, receiver)
        show("1 node ", one)
        several = measure(NODES, receiver)
        show(f"{NODES} nodes", several)
    finally:
        receiver.stop()
    cpu_ratio = several.send_cpu / one.send_cpu
    floor = bus_floor()
    carried = (NODES - 1) / NODES  # sends that reach a node that does not run the session
    print(
        f"a call between nodes that does nothing: {floor:.0f} µs of CPU (caller, callee, Redis);"
        f" {carried:.0%} of the sends are carried, so {NODES} nodes cost at least"
        f" {one.send_cpu + carried * floor:.0f} µs per send ="
        f" x{(one.send_cpu + carried * floor) / one.send_cpu:.2f} of one node"
    )
    print(
        f"{NODES} nodes / 1 node: sends/s x{several.sends_per_second / one.sends_per_second:.2f},"
        f" webhook deliveries/s x{several.deliveries_per_second / one.deliveries_per_second:.2f}"
        f" (all on the same {cores} cores), CPU per send x{cpu_ratio:.2f}"
        f" (goal: at most {GOAL}) -> {'met' if cpu_ratio <= GOAL else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
