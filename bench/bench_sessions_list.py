"""Requests per second of `GET /api/whatsapp/sessions/` (authenticated, database-backed
key check) against the app's bare liveness endpoint in the same run, as a ratio.

    make bench            # or: .venv/bin/python bench/bench_sessions_list.py
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load
from bench.server import serve

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))


def main() -> None:
    with serve() as server:
        for name in ("Personnel", "Professionnel", "Support"):
            server.call("POST", "/api/whatsapp/sessions/", {"session_name": name})
        auth = {"Authorization": f"Bearer {server.key}"}
        print(
            f"{CONCURRENCY} keep-alive connections, {SECONDS:.0f} s per endpoint, 1 server process"
        )
        results = {}
        # Alternate the two endpoints so drift (CPU frequency, caches) hits both alike.
        for round_ in range(2):
            for label, path in (
                ("bare  GET /health/live", "/health/live"),
                ("list  GET /api/whatsapp/sessions/", "/api/whatsapp/sessions/"),
            ):
                result = asyncio.run(
                    load.run(
                        server.url,
                        lambda _i, path=path: ("GET", path, b""),
                        headers=auth,
                        concurrency=CONCURRENCY,
                        seconds=SECONDS / 2,
                    )
                )
                print(f"round {round_ + 1}: " + result.line(label))
                previous = results.get(label)
                results[label] = result if previous is None else load.merge(previous, result)
        bare, listed = results.values()
        print()
        print(bare.line("bare (both rounds)"))
        print(listed.line("sessions list (both rounds)"))
        print(f"ratio sessions-list / bare: {listed.rps / bare.rps:.2f}")
        failed = {s: n for s, n in listed.statuses.items() if s != 200}
        if failed:
            raise SystemExit(f"non-200 answers: {failed}")


if __name__ == "__main__":
    main()
