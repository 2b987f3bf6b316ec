"""Throughput and latency of POST /api/send-message (text, on sandbox sessions) with 50
concurrent clients, beside the app's bare liveness endpoint in the same run.

Each send is authenticated, validated, paced through its session's queue (pacing 0 here),
"sent" by the sandbox engine and stored before it is answered; the sandbox's delivery and
read receipts update the stored messages meanwhile, as on a live server. They come 0.2 s
and 0.5 s after each send here, so that they run at the send rate within the first half
second (the warm-up) and the measured seconds bear their whole cost; each phase starts
once the server has settled from the one before. Target (issue 3): at least half the bare
endpoint's throughput, p99 under 50 ms.

The same run also measures three floors (bench/send_floor.py): routes of the same server
that answer a send's request after doing only part of a send's work. `least` (read the
request, check the key, parse the JSON, validate the number with phonenumbers) bounds what
any send endpoint of this app could reach; its ratio is printed beside the target.

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
from bench.send_floor import FLOORS
from bench.server import Server, serve, wait_until_idle

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
    with serve(
        "bench.send_floor",
        SENDMAKO_SANDBOX__RECEIPT_DELIVERED_SECONDS="0.2",
        SENDMAKO_SANDBOX__RECEIPT_READ_SECONDS="0.5",
    ) as server:
        session_ids = connect_sessions(server)
        numbers = count()

        def post_to(path: str) -> load.RequestMaker:
            def request(worker: int) -> tuple[str, str, bytes]:
                body = {
                    # Never ends in 0000 (the sandbox's "not on WhatsApp" numbers).
                    "to": f"2217{next(numbers) % 10000000:07d}7",
                    "type": "text",
                    "text": "Bonjour depuis Sendmako !",
                    "session_id": session_ids[worker % SESSIONS],
                }
                return "POST", path, json.dumps(body).encode()

            return request

        endpoints: dict[str, tuple[str, load.RequestMaker]] = {
            "bare": ("GET /health/live", lambda _w: ("GET", "/health/live", b"")),
            "send": ("POST /api/send-message", post_to("/api/send-message")),
            **{f"floor {name}": (f"POST {path}", post_to(path)) for name, path in FLOORS.items()},
        }
        auth = {"Authorization": f"Bearer {server.key}"}
        print(
            f"{CONCURRENCY} clients, {SECONDS:.0f} s per endpoint, "
            f"{SESSIONS} sandbox sessions, 1 server process"
        )
        results: dict[str, load.Result] = {}
        for round_ in range(2):  # alternate, so drift hits every endpoint alike
            for label, (what, maker) in endpoints.items():
                wait_until_idle(server.pid)
                result = asyncio.run(
                    load.run(
                        server.url,
                        maker,
                        headers=auth,
                        concurrency=CONCURRENCY,
                        seconds=SECONDS / 2,
                        server_pid=server.pid,
                    )
                )
                print(f"round {round_ + 1}: " + result.line(f"{label:<12} {what}"))
                results[label] = load.merge(results[label], result) if label in results else result
        for label, result in results.items():
            if set(result.statuses) != {200}:
                raise SystemExit(f"{label}: non-200 answers: {result.statuses}")
        report(results)


def report(results: dict[str, load.Result]) -> None:
    bare, sent, *_ = results.values()
    print()
    for label, result in results.items():
        print(result.line(f"{label} (both rounds)") + f"   {result.rps / bare.rps:.2f} of bare")
    print()
    print("  floor read:   receive the request (headers, JSON body), answer a send's answer")
    print("  floor least:  read + the key's hash looked up + the JSON parsed + `to` validated")
    print("                by phonenumbers: what every send must do, so no send can be faster")
    print("  floor checks: read + the real route's key, schema, recipient and session checks")
    ratio = sent.rps / bare.rps
    bound = results["floor least"].rps / bare.rps
    p99 = sent.percentile(99)
    print()
    print(
        f"ratio send-message / bare: {ratio:.2f} (target >= 0.50; the fastest any send could "
        f"be here, floor least: {bound:.2f}); send p99 {p99:.1f} ms (target < 50)"
    )
    if bound < 0.5:
        print(
            "  0.50 is out of reach for one server process in this run: even the floor, which "
            "skips the schema, the queue, the engine and the stored row, stays under it"
        )


if __name__ == "__main__":
    main()
