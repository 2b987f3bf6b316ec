"""A minimal HTTP receiver for webhook benchmarks, run as its own process: answers 200 to
every POST and prints `<message id> <unix time received>` per request on stdout (the
message id of a message.received event, else the event id).

    python bench/receiver.py PORT
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    out = sys.stdout
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            length = 0
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            received = time.time()
            try:
                event = json.loads(body)
                key = (event.get("data") or {}).get("message_id") or event.get("id", "-")
            except ValueError:
                key = "-"
            out.write(f"{key} {received:.6f}\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        out.flush()
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
