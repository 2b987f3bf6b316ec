"""Sandbox messages between two sessions: on one node (the network in memory), against the
same sessions on two nodes (through Redis, each message crossing from one node to the
other), in the same run. Each message is sent through the API and counted once the
recipient stored it (its message.received recorded); receipts flow back as usual.

Both nodes run in this process, on PostgreSQL (a fresh database per case) and Redis, so
the CPU figure is this process's: the nodes' own work, not PostgreSQL's or Redis's.

    .venv/bin/python bench/bench_sandbox_network.py
    BENCH_POSTGRES_URL=postgresql+asyncpg://... BENCH_REDIS_URL=redis://... BENCH_MESSAGES=300
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sendmako import log
from sendmako.app import create_app
from sendmako.model.events import SessionEvent
from sendmako.model.statuses import SessionStatus
from sendmako.settings import ClusterSettings, SandboxSettings, Settings

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "300"))
SENDERS = 4  # concurrent API clients sending


@dataclass
class Received:
    """Counts the messages a session stored (a recorder, as the webhook outbox is)."""

    session_id: str = ""
    count: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def record(
        self, _tx: AsyncSession, _user_id: int, events: Sequence[SessionEvent]
    ) -> None:
        mine = sum(
            1 for e in events if e.name == "message.received" and e.session_id == self.session_id
        )
        if mine:
            self.count += mine
            async with self.changed:
                self.changed.notify_all()


@dataclass
class Node:
    app: Any
    client: httpx.AsyncClient


@asynccontextmanager
async def database() -> AsyncIterator[str]:
    name = f"sendmako_bench_{secrets.token_hex(4)}"
    admin_dsn = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def nodes(count: int, url: str, directory: Path) -> AsyncIterator[list[Node]]:
    prefix, keys = f"sendmako-bench-{secrets.token_hex(4)}", []
    async with AsyncExitStack() as stack:
        started = []
        for index in range(count):
            settings = Settings(
                data_dir=directory / f"node-{index}",
                database_url=url,
                redis_url=REDIS_URL if count > 1 else None,
                engines=["sandbox"],
                default_engine="sandbox",
                sandbox=SandboxSettings(receipt_delivered_seconds=0, receipt_read_seconds=0),
                cluster=ClusterSettings(
                    redis_prefix=prefix,
                    node_name=f"node-{index}",
                    placement_seconds=60,
                    session_lease_seconds=300,
                ),
            )
            app = create_app(settings, on_first_admin=lambda _u, key, _p: keys.append(key))
            await stack.enter_async_context(app.router.lifespan_context(app))
            started.append(app)
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://sendmako.bench",
                    headers={"Authorization": f"Bearer {keys[0]}"},
                    timeout=60,
                )
            )
            for app in started
        ]
        yield [Node(app, client) for app, client in zip(started, clients, strict=True)]


async def linked(node: Node, phone: str) -> str:
    created = await node.client.post("/api/whatsapp/sessions/", json={"session_name": phone})
    session_id: str = created.json()["session_id"]
    sessions = node.app.state.services.sessions
    await sessions.wait_for(session_id, [SessionStatus.QR_READY], timeout=10)
    scanned = await node.client.post(
        f"/api/sandbox/sessions/{session_id}/scan", json={"phone_number": phone}
    )
    assert scanned.status_code == 200, scanned.text
    await node.client.patch(f"/api/whatsapp/sessions/{session_id}", json={"pacing_ms": 0})
    return session_id


async def case(count: int, directory: Path) -> tuple[float, float, str]:
    """(messages/s, CPU ms per message, where the sessions ran)."""
    async with database() as url, nodes(count, url, directory) as started:
        sender = await linked(started[0], "22241850001")
        recipient = await linked(started[0], "22241850002")
        received = Received(recipient)
        for node in started:
            node.app.state.services.sessions.recorders.append(received)
        owners = [started[0].app.state.services.sessions.owner_of(s) for s in (sender, recipient)]
        client = next(n.client for n in started if n.app.state.services.sessions.runs_here(sender))
        await send(client, sender, 10)  # warm up
        async with received.changed:
            await received.changed.wait_for(lambda: received.count >= 10)
        base = received.count
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(send(client, sender, MESSAGES // SENDERS) for _ in range(SENDERS)))
        async with received.changed:
            await received.changed.wait_for(lambda: received.count >= base + MESSAGES)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return (
            MESSAGES / wall,
            cpu / MESSAGES * 1000,
            f"sender on {owners[0]}, recipient on {owners[1]}",
        )


async def send(client: httpx.AsyncClient, session_id: str, count: int) -> None:
    for n in range(count):
        answer = await client.post(
            "/api/send-message",
            json={"session_id": session_id, "to": "22241850002", "type": "text", "text": f"n°{n}"},
        )
        assert answer.status_code == 200, answer.text


async def main() -> None:
    log.configure("warning")
    print(f"{MESSAGES} messages from {SENDERS} clients; both nodes in this process")
    print(f"machine: {os.cpu_count()} cores, shared with other work (figures are noisy)")
    results = {}
    with tempfile.TemporaryDirectory(prefix="sendmako-bench-") as directory:
        for round_ in range(2):  # alternated: drift hits both alike
            for count in (1, 2):
                rate, cpu, where = await case(count, Path(directory) / f"{round_}-{count}")
                label = "one node (memory)" if count == 1 else "two nodes (Redis)"
                figures = f"{rate:7.1f} msg/s  {cpu:5.2f} CPU ms/msg"
                print(f"round {round_ + 1}: {label:18} {figures}  ({where})")
                results.setdefault(count, []).append((rate, cpu))
    one = [sum(v) / 2 for v in zip(*results[1], strict=True)]
    two = [sum(v) / 2 for v in zip(*results[2], strict=True)]
    print()
    throughput, cpu = two[0] / one[0], two[1] / one[1]
    print(f"two nodes / one node: throughput {throughput:.2f}, CPU per message {cpu:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
