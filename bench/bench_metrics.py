"""What the metrics cost a request: two cheap routes on a server that times and counts
every request (as shipped) and on the same server without it (bench/without_metrics.py),
alternated in the same run; and what one scrape of /metrics costs with some sessions.

- `GET /health/live`: the cheapest answer there is (the fast lane): the worst case, in
  relative terms, for a fixed per-request cost.
- `GET /api/whatsapp/sessions`: an ordinary authenticated route found by FastAPI's routing.

    .venv/bin/python bench/bench_metrics.py      # BENCH_SECONDS, BENCH_CONCURRENCY
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load
from bench.server import Server, serve, wait_until_idle

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "20"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
SESSIONS = 20
ROUTES = {
    "live": ("GET", "/health/live"),
    "sessions": ("GET", "/api/whatsapp/sessions"),
}


def add_sessions(server: Server) -> None:
    for index in range(SESSIONS):
        server.call("POST", "/api/whatsapp/sessions/", {"session_name": f"s{index}"})


def scrape_ms(server: Server, times: int = 50) -> float:
    request = urllib.request.Request(  # noqa: S310 - loopback URL we started
        server.url + "/metrics", headers={"Authorization": f"Bearer {server.key}"}
    )
    started = time.perf_counter()
    for _ in range(times):
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            answer.read()
    return (time.perf_counter() - started) / times * 1000


def per_call_us() -> tuple[float, float]:
    """`observe_request` in this process against a function that does nothing, the best of
    five runs each: steadier than the servers' CPU on a shared machine."""
    from sendmako import metrics

    def nothing(method: str, route: str, status: int, seconds: float) -> None:
        return None

    calls = 100_000
    best = {}
    for name, function in (("observe", metrics.observe_request), ("nothing", nothing)):
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(calls):
                function("GET", "/api/whatsapp/sessions/{session_id}", 200, 0.004)
            runs.append((time.perf_counter() - started) / calls * 1e6)
        best[name] = min(runs)
    return best["observe"], best["nothing"]


def main() -> None:
    observe, nothing = per_call_us()
    print(
        f"in process: observe_request {observe:.2f} us a call, a call that does nothing "
        f"{nothing:.2f} us: {observe - nothing:.2f} us added per request"
    )
    env = {"SENDMAKO_ENGINES": "sandbox", "SENDMAKO_DEFAULT_ENGINE": "sandbox"}
    with contextlib.ExitStack() as stack:
        servers = {
            "with metrics": stack.enter_context(
                serve("bench.without_metrics", BENCH_METRICS="on", **env)
            ),
            "without": stack.enter_context(serve("bench.without_metrics", **env)),
        }
        for server in servers.values():
            add_sessions(server)
        print(
            f"{CONCURRENCY} clients, {SECONDS:.0f} s per route and server over 2 rounds, "
            f"{SESSIONS} sandbox sessions per server; the machine is shared with other work"
        )
        results: dict[tuple[str, str], load.Result] = {}
        for round_ in range(2):  # alternate, so drift hits both servers alike
            for route, (method, path) in ROUTES.items():
                for label, server in servers.items():
                    for each in servers.values():
                        wait_until_idle(each.pid)
                    result = asyncio.run(
                        load.run(
                            server.url,
                            lambda _w, m=method, p=path: (m, p, b""),
                            headers={"Authorization": f"Bearer {server.key}"},
                            concurrency=CONCURRENCY,
                            seconds=SECONDS / 2,
                            server_pid=server.pid,
                        )
                    )
                    print(f"round {round_ + 1}: " + result.line(f"{label:<13} {method} {path}"))
                    key = (route, label)
                    results[key] = load.merge(results[key], result) if key in results else result
        print()
        for route, (method, path) in ROUTES.items():
            with_, without = results[(route, "with metrics")], results[(route, "without")]
            for label, result in (("with metrics", with_), ("without", without)):
                print(result.line(f"{label:<13} {method} {path} (both rounds)"))
                if set(result.statuses) != {200}:
                    raise SystemExit(f"{label} {path}: non-200 answers: {result.statuses}")
            cpu_with = with_.cpu_us_per_request or 0.0
            cpu_without = without.cpu_us_per_request or 0.0
            print(
                f"  {path}: server CPU {cpu_with:.0f} us/req with metrics, {cpu_without:.0f} "
                f"without ({cpu_with - cpu_without:+.1f} us, {cpu_with / cpu_without - 1:+.1%}); "
                f"{with_.rps:.0f} vs {without.rps:.0f} req/s"
            )
        print()
        print(
            f"one scrape of /metrics ({SESSIONS} sessions, every route above labelled): "
            f"{scrape_ms(servers['with metrics']):.1f} ms"
        )


if __name__ == "__main__":
    main()
