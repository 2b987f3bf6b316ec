"""Throughput and latency of POST /api/send-message (text, on sandbox sessions) with 50
concurrent clients, beside the app's bare liveness endpoint in the same run.

Each send is authenticated, validated, paced through its session's queue (pacing 0 here),
"sent" by the sandbox engine and stored before it is answered; the sandbox's delivery and
read receipts (1 s and 3 s later) update the stored messages meanwhile, as on a live
server. Target (issue 3): at least half the bare endpoint's throughput, p99 under 50 ms.

    .venv/bin/python bench/bench_send_message.py      # BENCH_SECONDS, BENCH_CONCURRENCY
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from itertools import count
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load
from bench.server import Server, serve

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
SESSIONS = 4


def connect_sessions(server: Server) -> list[str]:
    session_ids = []
    for index in range(SESSIONS):
        created = server.call(
            "POST", "/api/whatsapp/sessions/", {"session_name": f"s{index}", "engine": "sandbox"}
        )
        session_id = created["session_id"]
        server.call("GET", f"/api/whatsapp/sessions/{session_id}?wait_for=qr_ready&timeout=10")
        server.call(
            "POST",
            f"/api/sandbox/sessions/{session_id}/scan",
            {"phone_number": f"2224185{index:04d}"},
        )
        server.call("PATCH", f"/api/whatsapp/sessions/{session_id}", {"pacing_ms": 0})
        session_ids.append(session_id)
    return session_ids


def main() -> None:
    with serve(SENDMAKO_ENGINES="sandbox", SENDMAKO_DEFAULT_ENGINE="sandbox") as server:
        session_ids = connect_sessions(server)
        numbers = count()

        def send(worker: int) -> tuple[str, str, bytes]:
            body = {
                # Never ends in 0000 (the sandbox's "not on WhatsApp" numbers).
                "to": f"2217{next(numbers) % 10000000:07d}7",
                "type": "text",
                "text": "Bonjour depuis Sendmako !",
                "session_id": session_ids[worker % SESSIONS],
            }
            return "POST", "/api/send-message", json.dumps(body).encode()

        auth = {"Authorization": f"Bearer {server.key}"}
        print(
            f"{CONCURRENCY} clients, {SECONDS:.0f} s per endpoint, "
            f"{SESSIONS} sandbox sessions, 1 server process"
        )
        results: dict[str, load.Result] = {}
        for round_ in range(2):  # alternate, so drift hits both endpoints alike
            for label, maker in (
                ("bare  GET /health/live", lambda _w: ("GET", "/health/live", b"")),
                ("send  POST /api/send-message", send),
            ):
                result = asyncio.run(
                    load.run(
                        server.url,
                        maker,
                        headers=auth,
                        concurrency=CONCURRENCY,
                        seconds=SECONDS / 2,
                    )
                )
                print(f"round {round_ + 1}: " + result.line(label))
                results[label] = load.merge(results[label], result) if label in results else result
        bare, sent = results.values()
        print()
        print(bare.line("bare (both rounds)"))
        print(sent.line("send-message (both rounds)"))
        ratio = sent.rps / bare.rps
        p99 = sent.percentile(99)
        print(
            f"ratio send-message / bare: {ratio:.2f} (target >= 0.50); "
            f"send p99 {p99:.1f} ms (target < 50)"
        )
        if set(sent.statuses) != {200}:
            raise SystemExit(f"non-200 answers: {sent.statuses}")


if __name__ == "__main__":
    main()
