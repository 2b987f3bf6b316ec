"""A small Server-Sent Events server on loopback, standing in for `GET /api/events` while
that route is not on this branch: it serves a fixed list of events, resumes after the
`Last-Event-ID` a client sends, and closes each connection after a few events, so a
client's resumption is exercised."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SseServer:
    events: list[dict[str, Any]]
    per_connection: int
    key: str
    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        request_line, *lines = head.strip().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        self.requests.append({"request": request_line, **headers})
        if headers.get("authorization") != f"Bearer {self.key}":
            body = json.dumps(
                {"success": False, "message": "Invalid API key.", "code": "invalid_key"}
            )
            writer.write(
                f"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}".encode()
            )
        else:
            after = headers.get("last-event-id")
            ids = [e["id"] for e in self.events]
            start = ids.index(after) + 1 if after in ids else 0
            chunks = ["retry: 0\n\n", ": heartbeat\n\n"]
            chunks.extend(
                f"id: {event['id']}\nevent: {event['event']}\ndata: {json.dumps(event)}\n\n"
                for event in self.events[start : start + self.per_connection]
            )
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                + "".join(chunks).encode()
            )
        await writer.drain()
        writer.close()


@asynccontextmanager
async def sse_server(
    events: list[dict[str, Any]], *, per_connection: int, key: str
) -> AsyncIterator[SseServer]:
    server = SseServer(events, per_connection, key)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"http://127.0.0.1:{port}"
    async with listener:
        yield server


def sample_events(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"evt_{n}",
            "event": "message.received",
            "session_id": "user_1",
            "timestamp": "2026-12-08T01:00:00Z",
            "data": {
                "message_id": f"m{n}",
                "from": "22241857975",
                "type": "text",
                "body": f"n°{n}",
            },
        }
        for n in range(count)
    ]
