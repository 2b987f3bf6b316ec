"""Latency of reading stored chats with 1,000,000 messages over 1,000 chats, on SQLite and
PostgreSQL, with the ratio of each to a baseline measured in the same run:

- like for like, pages of 10: a chat of 10 messages (the baseline), the newest 10 of a chat
  of 100,000, and its hundredth page of 10 (reached through the cursors);
- as clients read by default, pages of 50: `GET /api/chats`, the first page of the chat of
  100,000 (the baseline of this part), and its hundredth page of 50.

    .venv/bin/python bench/bench_chats.py     (BENCH_MESSAGES=1000000 BENCH_SECONDS=3)

Goals (issue 19): p99 under 50 ms, and a chat of 100,000 messages paging as fast as one of
10 (ratio near 1). The server is a real `sendmako serve` (bench/server.py); the messages
are written straight into its database (as a year of traffic would have left them), and
one keep-alive connection asks one request at a time, so the latencies are the server's.
PostgreSQL runs when a server answers on 127.0.0.1:5432 (user postgres).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text

from bench import load
from bench.bench_webhooks import postgres_database
from bench.server import Server, serve, wait_until_idle
from sendmako.storage.tables import Chat, Message

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000000"))
CHATS = 1000
BIG = 100_000
SMALL = 10
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
PAGE = 50
SMALL_PAGE = 10
ROUNDS = 2  # the endpoints alternate, so drift (CPU frequency, other load) hits all alike
SESSION = "user_1"
ME = "22241857975"
BATCH = 20_000


def chat_jid(number: int) -> str:
    return f"2217{number:08d}@s.whatsapp.net"


def sizes() -> list[int]:
    """Messages per chat: one of 10, one of 100,000, the rest shared by the others."""
    rest = MESSAGES - BIG - SMALL
    others = CHATS - 2
    return [SMALL, BIG, *(rest // others + (1 if i < rest % others else 0) for i in range(others))]


def rows() -> Iterator[dict[str, Any]]:
    """Every message, spread over the last 80 days (inside the retention), with text."""
    now = datetime.now(UTC)
    rng = random.Random(19)
    for index, count in enumerate(sizes()):
        chat = chat_jid(index)
        start = now - timedelta(days=80) + timedelta(seconds=index)
        step = timedelta(days=79) / count
        for n in range(count):
            incoming = rng.random() < 0.5
            at = start + step * n
            yield {
                "user_id": 1,
                "session_id": SESSION,
                "direction": "in" if incoming else "out",
                "wa_message_id": f"B{index:04d}{n:07d}",
                "chat": chat,
                "peer": chat.split("@", 1)[0],
                "type": "conversation" if incoming else "text",
                "status": "received" if incoming else "read",
                "created_at": at,
                "updated_at": at,
                "body": f"message {n} of chat {index}: " + "x" * rng.randint(5, 120),
            }


def chat_rows() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    found = []
    for index, count in enumerate(sizes()):
        start = now - timedelta(days=80) + timedelta(seconds=index)
        last = start + timedelta(days=79) / count * (count - 1)
        found.append(
            {
                "session_id": SESSION,
                "chat": chat_jid(index),
                "user_id": 1,
                "name": f"Contact {index}",
                "is_group": False,
                "unread": index % 7,
                "last_at": last,
                "last_message_id": f"B{index:04d}{count - 1:07d}",
            }
        )
    return found


def fill(database_url: str) -> float:
    """Write the messages and chats; answers the seconds it took."""
    began = time.perf_counter()
    sync_url = database_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    if "+psycopg" in sync_url:
        asyncio.run(_fill_postgres(database_url.replace("postgresql+asyncpg", "postgresql")))
    else:
        engine = create_engine(sync_url)
        with engine.begin() as conn:
            batch: list[dict[str, Any]] = []
            for row in rows():
                batch.append(row)
                if len(batch) == BATCH:
                    conn.execute(insert(Message), batch)
                    batch.clear()
            if batch:
                conn.execute(insert(Message), batch)
            conn.execute(insert(Chat), chat_rows())
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        with engine.connect() as conn:
            # Into the database file: a WAL of a million rows would slow every read.
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        engine.dispose()
    return time.perf_counter() - began


async def _fill_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        columns = list(next(rows()))
        batch: list[tuple[Any, ...]] = []
        for row in rows():
            batch.append(tuple(row[c] for c in columns))
            if len(batch) == BATCH:
                await conn.copy_records_to_table("messages", records=batch, columns=columns)
                batch.clear()
        if batch:
            await conn.copy_records_to_table("messages", records=batch, columns=columns)
        chats = chat_rows()
        chat_columns = list(chats[0])
        await conn.copy_records_to_table(
            "chats",
            records=[tuple(c[k] for k in chat_columns) for c in chats],
            columns=chat_columns,
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def get(server: Server, path: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback URL we started
        server.url + path, headers={"Authorization": f"Bearer {server.key}"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        return json.loads(answer.read())


def hundredth_page(server: Server, chat: str, limit: int) -> str:
    """The path of the chat's 100th page of `limit`, reached through the cursors."""
    path = f"/api/chats/{chat}/messages?limit={limit}"
    for _ in range(99):
        cursor = get(server, path)["next_cursor"]
        path = f"/api/chats/{chat}/messages?limit={limit}&cursor={cursor}"
    return path


def run(label: str, **env: str) -> None:
    with serve(**env) as server:
        server.call("POST", "/api/whatsapp/sessions/", {"session_name": "Bench"})
        server.call("POST", f"/api/sandbox/sessions/{SESSION}/scan", {"phone_number": ME})
        database_url = env.get("SENDMAKO_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{server.data_dir / 'sendmako.db'}"
        )
        took = fill(database_url)
        print(f"{label}: {MESSAGES:,} messages over {CHATS:,} chats written in {took:.0f} s")
        small, big = chat_jid(0).split("@")[0], chat_jid(1).split("@")[0]
        parts = {
            f"pages of {SMALL_PAGE}": {
                "chat of 10 (baseline)": f"/api/chats/{small}/messages?limit={SMALL_PAGE}",
                "chat of 100,000, newest page": f"/api/chats/{big}/messages?limit={SMALL_PAGE}",
                "chat of 100,000, 100th page": hundredth_page(server, big, SMALL_PAGE),
            },
            f"pages of {PAGE}": {
                "chat of 100,000, newest page (baseline)": (
                    f"/api/chats/{big}/messages?limit={PAGE}"
                ),
                "GET /api/chats": f"/api/chats?limit={PAGE}",
                "chat of 100,000, 100th page": hundredth_page(server, big, PAGE),
            },
        }
        wait_until_idle(server.pid)
        auth = {"Authorization": f"Bearer {server.key}"}
        results: dict[tuple[str, str], load.Result] = {}
        for _ in range(ROUNDS):
            for part, paths in parts.items():
                for name, path in paths.items():
                    result = asyncio.run(
                        load.run(
                            server.url,
                            lambda _i, path=path: ("GET", path, b""),
                            headers=auth,
                            concurrency=1,
                            seconds=SECONDS / ROUNDS,
                        )
                    )
                    previous = results.get((part, name))
                    results[(part, name)] = (
                        result if previous is None else load.merge(previous, result)
                    )
        for part, paths in parts.items():
            print(f"  {part}:")
            baseline = results[(part, next(iter(paths)))]
            for name in paths:
                result = results[(part, name)]
                failed = {s: n for s, n in result.statuses.items() if s != 200}
                if failed:
                    raise SystemExit(f"{name}: non-200 answers {failed}")
                print(
                    f"    {name:<40} p50 {result.percentile(50):6.2f} ms  "
                    f"p99 {result.percentile(99):6.2f} ms (goal < 50)  "
                    f"p50 / baseline {result.percentile(50) / baseline.percentile(50):4.2f}  "
                    f"[{result.requests} requests]"
                )


def main() -> None:
    print(
        f"one keep-alive connection, one request at a time, {SECONDS:.0f} s per endpoint in "
        f"{ROUNDS} alternating rounds; 1 server process (the machine is shared: figures vary)"
    )
    run("SQLite")
    with postgres_database() as url:
        if url is None:
            print("PostgreSQL: skipped, no server on 127.0.0.1:5432")
        else:
            run("PostgreSQL", SENDMAKO_DATABASE_URL=url)


if __name__ == "__main__":
    main()
