"""What the shared daily quota costs a send: reservation cycles per second (reserve, count
the message sent, release: what every send does) counted in the database for several nodes
(`SharedUsage`, PostgreSQL), against one node's count in memory (`MemoryUsage`) in the same
run, with the CPU of this process per cycle. PostgreSQL's own CPU is not counted here.

    SENDMAKO_TEST_POSTGRES_URL=postgresql+asyncpg://... .venv/bin/python bench/bench_shared_quota.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import databases

from sendmako import accounts
from sendmako.accounts.usage import DailyUsage, MemoryUsage, SharedUsage
from sendmako.storage import nodes
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))


async def cycles(usage: DailyUsage, user: UserRecord) -> tuple[float, float]:
    """Cycles per second, and CPU seconds of this process per cycle."""
    done = 0
    deadline = time.monotonic() + SECONDS

    async def client() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            reservation = await usage.reserve(user)
            reservation.sent_one()
            reservation.release()
            done += 1

    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    await usage.close()
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return done / wall, cpu / done


async def with_user(db: Database) -> UserRecord:
    await db.migrate()
    async with db.write() as tx:
        user, _ = await accounts.create_user(tx, "bench@example.com", plan="unlimited")
        now = datetime.now(UTC)
        await nodes.take(
            tx,
            nodes.NewLease(
                "bench",
                "localhost",
                os.getpid(),
                "/bench",
                "http://127.0.0.1",
                1,
                now,
                now + timedelta(hours=1),
            ),
        )
    return user


async def main() -> None:
    if databases.postgres_url() is None:
        print("SENDMAKO_TEST_POSTGRES_URL is not set: the shared quota needs PostgreSQL.")
        return
    with tempfile.TemporaryDirectory() as tmp:
        memory_db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        user = await with_user(memory_db)
        async with databases.database_url("postgres", Path(tmp)) as url:
            shared_db = Database(url)
            shared_user = await with_user(shared_db)
            print(f"{CONCURRENCY} concurrent senders, one user, {SECONDS:.0f} s each")
            memory = await cycles(MemoryUsage(memory_db), user)
            shared = await cycles(SharedUsage(shared_db, lambda: 1), shared_user)
            await shared_db.close()
        await memory_db.close()
    for label, (rate, cpu) in (("memory (one node)", memory), ("shared (PostgreSQL)", shared)):
        print(f"{label:22} {rate:9,.0f} cycles/s  {cpu * 1e6:7,.0f} µs CPU per cycle")
    cpu_ratio, rate_ratio = shared[1] / memory[1], shared[0] / memory[0]
    print(f"shared / memory: CPU per cycle x{cpu_ratio:.1f}, rate x{rate_ratio:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
