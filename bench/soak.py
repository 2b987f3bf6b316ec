"""A long mixed run against one server: the memory it holds must not grow.

Text and image sends, incoming messages delivered to a webhook endpoint, session lists and
refused requests (bad numbers, a wrong key), in rounds, on a real `sendmako serve`
(SQLite). The server's RSS after a warm-up round is the baseline, measured in this run;
every later round prints its RSS against it. Goal (issue 15): no growth beyond 5%.

    .venv/bin/python bench/soak.py      # SOAK_ROUNDS (default 6), SOAK_ROUND_SECONDS (30)
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import sys
import time
from pathlib import Path

import httpx
import psutil
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_webhooks import Receiver
from bench.server import Server, serve, wait_until_idle

ROUNDS = int(os.environ.get("SOAK_ROUNDS", "6"))
ROUND_SECONDS = float(os.environ.get("SOAK_ROUND_SECONDS", "30"))
SESSIONS = 4
WORKERS = 8
GOAL = 0.05


def picture() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def link(server: Server) -> list[str]:
    session_ids = []
    for index in range(SESSIONS):
        created = server.call("POST", "/api/whatsapp/sessions/", {"session_name": f"s{index}"})
        session_id: str = created["session_id"]
        server.call("GET", f"/api/whatsapp/sessions/{session_id}/?wait_for=qr_ready&timeout=20")
        server.call(
            "POST",
            f"/api/sandbox/sessions/{session_id}/scan",
            {"phone_number": f"2224188{1000 + index}"},
        )
        server.call("PATCH", f"/api/whatsapp/sessions/{session_id}", {"pacing_ms": 0})
        session_ids.append(session_id)
    return session_ids


async def mixed_round(server: Server, session_ids: list[str], image: str) -> dict[int, int]:
    """ROUND_SECONDS of mixed traffic; the answers' statuses counted."""
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + ROUND_SECONDS
    headers = {"Authorization": f"Bearer {server.key}"}

    async def worker(index: int) -> None:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
            step = index
            while time.monotonic() < deadline:
                step += 1
                session_id = session_ids[step % len(session_ids)]
                kind = step % 6
                if kind == 0:
                    answer = await client.post(
                        "/api/send-message",
                        json={
                            "session_id": session_id,
                            "to": "221781234567",
                            "type": "image",
                            "imageBase64": image,
                        },
                    )
                elif kind in (1, 2):
                    answer = await client.post(
                        "/api/send-message",
                        json={
                            "session_id": session_id,
                            "to": "221781234567",
                            "type": "text",
                            "text": f"soak {step}",
                        },
                    )
                elif kind == 3:
                    answer = await client.post(
                        f"/api/sandbox/sessions/{session_id}/inbound",
                        json={"from": "221770001234", "type": "text", "text": f"in {step}"},
                    )
                elif kind == 4:
                    answer = await client.get("/api/whatsapp/sessions/")
                else:  # refused: a malformed number, then a wrong key
                    answer = await client.post(
                        "/api/send-message",
                        json={"session_id": session_id, "to": "12" * 40, "type": "text"},
                    )
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                    answer = await client.get(
                        "/api/whatsapp/sessions/", headers={"Authorization": "Bearer wsa_nope"}
                    )
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

    await asyncio.gather(*(worker(index) for index in range(WORKERS)))
    return statuses


def main() -> None:
    print(
        f"{ROUNDS} rounds of {ROUND_SECONDS:g} s of mixed traffic on {SESSIONS} sandbox sessions,"
        f" {WORKERS} clients; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    receiver = Receiver()
    image = picture()
    try:
        with serve(
            SENDMAKO_ALLOW_PRIVATE_HOSTS="127.0.0.1",
            SENDMAKO_SANDBOX__RECEIPT_DELIVERED_SECONDS="0",
            SENDMAKO_SANDBOX__RECEIPT_READ_SECONDS="0",
        ) as server:
            server.call("POST", "/api/webhooks", {"url": receiver.url})
            session_ids = link(server)
            process = psutil.Process(server.pid)
            baseline = 0
            for number in range(ROUNDS + 1):
                statuses = asyncio.run(mixed_round(server, session_ids, image))
                wait_until_idle(server.pid)
                rss = process.memory_info().rss
                if number == 0:
                    baseline = rss
                    print(f"warm-up: RSS {rss / 2**20:.0f} MiB (the baseline); answers {statuses}")
                    continue
                growth = rss / baseline - 1
                print(
                    f"round {number}: RSS {rss / 2**20:.0f} MiB ({growth:+.1%} of the baseline);"
                    f" answers {statuses}"
                )
    finally:
        receiver.stop()
    verdict = "met" if growth <= GOAL else "NOT met"
    print(f"growth after {ROUNDS} rounds: {growth:+.1%} (goal: at most +{GOAL:.0%}) -> {verdict}")


if __name__ == "__main__":
    main()
