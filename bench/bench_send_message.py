"""Throughput, latency and server CPU of POST /api/send-message (text, on sandbox
sessions) with 50 concurrent clients, against a floor measured in the same run.

Each send is authenticated, validated, paced through its session's queue (pacing 0 here),
"sent" by the sandbox engine and stored before it is answered; the sandbox's delivery and
read receipts update the stored messages meanwhile, as on a live server. They come 0.2 s
and 0.5 s after each send here, so that they run at the send rate within the first half
second (the warm-up) and the measured seconds bear their whole cost; each phase starts
once the server has settled from the one before.

Target (DESIGN.md "Performance goals"): p99 under 50 ms, and a send's server CPU at most
2 times that of the `checks` floor (bench/send_floor.py): a route of the same server, served
the same way, that does only the send route's own checks (read, key, schema, number,
session choice) and answers. The `read` floor (receive the request, answer) and the bare
liveness endpoint are printed as information.

The fast lane (api/fast_lane.py) stays only if it buys at least 15% more sends/s: two more
servers (bench/without_fast_lane.py) serve the same sends without it, one with the same
endpoint found by FastAPI's routing, one with send-message as an ordinary route.

    .venv/bin/python bench/bench_send_message.py      # BENCH_SECONDS, BENCH_CONCURRENCY
"""

from __future__ import annotations

import asyncio
import contextlib
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
    receipts = {
        "SENDMAKO_SANDBOX__RECEIPT_DELIVERED_SECONDS": "0.2",
        "SENDMAKO_SANDBOX__RECEIPT_READ_SECONDS": "0.5",
    }
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(serve("bench.send_floor", **receipts))
        # The fast lane's comparison (bench/without_fast_lane.py): the same sends, served
        # by servers without it, measured alongside.
        lean = stack.enter_context(serve("bench.without_fast_lane", **receipts))
        ordinary = stack.enter_context(
            serve("bench.without_fast_lane", BENCH_SEND_ROUTE="ordinary", **receipts)
        )
        servers = (server, lean, ordinary)
        session_ids = {each.pid: connect_sessions(each) for each in servers}
        numbers = count()

        def post_to(target: Server, path: str) -> load.RequestMaker:
            def request(worker: int) -> tuple[str, str, bytes]:
                body = {
                    # Never ends in 0000 (the sandbox's "not on WhatsApp" numbers).
                    "to": f"2217{next(numbers) % 10000000:07d}7",
                    "type": "text",
                    "text": "Bonjour depuis Sendmako !",
                    "session_id": session_ids[target.pid][worker % SESSIONS],
                }
                return "POST", path, json.dumps(body).encode()

            return request

        endpoints: dict[str, tuple[Server, str, load.RequestMaker]] = {
            "bare": (server, "GET /health/live", lambda _w: ("GET", "/health/live", b"")),
            "send": (server, "POST /api/send-message", post_to(server, "/api/send-message")),
            **{
                f"floor {name}": (server, f"POST {path}", post_to(server, path))
                for name, path in FLOORS.items()
            },
            "send no lane": (lean, "POST /api/send-message", post_to(lean, "/api/send-message")),
            "send ordinary": (
                ordinary,
                "POST /api/send-message",
                post_to(ordinary, "/api/send-message"),
            ),
        }
        print(
            f"{CONCURRENCY} clients, {SECONDS:.0f} s per endpoint, "
            f"{SESSIONS} sandbox sessions, 1 server process at a time"
        )
        results: dict[str, load.Result] = {}
        for round_ in range(2):  # alternate, so drift hits every endpoint alike
            for label, (target, what, maker) in endpoints.items():
                for each in servers:  # no server still busy with an earlier phase's receipts
                    wait_until_idle(each.pid)
                result = asyncio.run(
                    load.run(
                        target.url,
                        maker,
                        headers={"Authorization": f"Bearer {target.key}"},
                        concurrency=CONCURRENCY,
                        seconds=SECONDS / 2,
                        server_pid=target.pid,
                    )
                )
                print(f"round {round_ + 1}: " + result.line(f"{label:<13} {what}"))
                results[label] = load.merge(results[label], result) if label in results else result
        for label, result in results.items():
            if set(result.statuses) != {200}:
                raise SystemExit(f"{label}: non-200 answers: {result.statuses}")
        report(results)


def report(results: dict[str, load.Result]) -> None:
    bare, sent, checks = results["bare"], results["send"], results["floor checks"]
    print()
    for label, result in results.items():
        print(result.line(f"{label} (both rounds)") + f"   {result.rps / bare.rps:.2f} of bare")
    print()
    print("  floor read:   receive the request (headers, JSON body), answer a send's answer")
    print("  floor checks: read + the real route's key, schema, number and session choice")
    cpu = (sent.cpu_us_per_request or 0) / (checks.cpu_us_per_request or 1)
    p99 = sent.percentile(99)
    print()
    print(
        f"send: server CPU {sent.cpu_us_per_request or 0:.0f} us/req, {cpu:.2f} times the "
        f"checks floor's {checks.cpu_us_per_request or 0:.0f} us/req (target <= 2.00: "
        f"{_met(cpu <= 2.0)}); p99 {p99:.1f} ms (target < 50: {_met(p99 < 50)})"
    )
    lane, lean, ordinary = results["send"], results["send no lane"], results["send ordinary"]
    print()
    print(
        f"fast lane: send {lane.rps:.0f} req/s with it ({lane.cpu_us_per_request or 0:.0f} us "
        f"CPU/req); without it {lean.rps:.0f} ({lean.cpu_us_per_request or 0:.0f} us), "
        f"{lane.rps / lean.rps - 1:+.1%} with it; as an ordinary route {ordinary.rps:.0f} "
        f"({ordinary.cpu_us_per_request or 0:.0f} us), {lane.rps / ordinary.rps - 1:+.1%} "
        f"with it. It stays only at +15.0% or more."
    )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


if __name__ == "__main__":
    main()
