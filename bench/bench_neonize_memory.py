"""Memory of idle neonize workers (RSS and PSS) for 1, 10 and 50 sessions, and the time to
start them.

    make bench            # or: .venv/bin/python bench/bench_neonize_memory.py [N ...]

Each session is a real worker process with neonize loaded and its connection dialling
WhatsApp through a local "blackhole" proxy (it accepts and never answers), so the worker
stays up, idle and not logged in, and no traffic leaves the machine. PSS splits shared
pages (the Python binary, the Go library's code) among the processes that map them: it is
the fair per-worker figure. A logged-in session holds more (Signal sessions, app state);
that cannot be measured without a real account.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sendmako import log
from sendmako.engines.base import SessionSpec
from sendmako.engines.neonize.engine import NeonizeEngine
from sendmako.model.events import EngineEvent
from sendmako.settings import NeonizeSettings, Settings
from sendmako.storage.db import Database

COUNTS = [int(arg) for arg in sys.argv[1:]] or [1, 10, 50]
TARGET_PSS_MIB = 50.0
SETTLE_SECONDS = 3.0


def blackhole() -> tuple[int, socket.socket]:
    """A loopback proxy that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1024)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], server


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB, from /proc/<pid>/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            values[name] = int(rest.split()[0])
    return values["Rss"], values["Pss"]


async def measure(count: int, proxy: str) -> tuple[float, list[tuple[int, int]], float]:
    with tempfile.TemporaryDirectory(prefix="sendmako-bench-neonize-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            engines=["neonize"],
            default_engine="neonize",
            log_level="error",
            neonize=NeonizeSettings(proxy=proxy),
        )
        db = Database(settings.effective_database_url)
        engine = NeonizeEngine(db, settings)
        await engine.start()

        async def sink(_event: EngineEvent) -> None:
            return None

        sessions = [
            engine.open_session(SessionSpec(f"user_{i}", i, i, None, None), sink)
            for i in range(1, count + 1)
        ]
        began = time.perf_counter()
        for session in sessions:
            await session.start()
        while not all(session.supervisor.worker is not None for session in sessions):  # noqa: ASYNC110 - polling the supervisors is the measurement
            await asyncio.sleep(0.05)
        started = time.perf_counter() - began
        await asyncio.sleep(SETTLE_SECONDS)
        pids = [session.supervisor.worker.pid for session in sessions if session.supervisor.worker]
        figures = [memory_kib(pid) for pid in pids]
        began = time.perf_counter()
        await engine.stop()
        stopped = time.perf_counter() - began
        await db.close()
        return started, figures, stopped


def main() -> None:
    log.configure("warning")
    port, server = blackhole()
    proxy = f"http://127.0.0.1:{port}"
    print(f"idle neonize workers (dialling a loopback blackhole proxy), {os.cpu_count()} CPUs")
    print(
        f"{'sessions':>8} {'start all':>10} {'RSS/worker':>11} {'PSS/worker':>11} "
        f"{'PSS max':>8} {'PSS total':>10} {'stop all':>9}"
    )
    fleet = 0.0  # mean PSS per worker with the most sessions: what a real server pays
    for count in COUNTS:
        started, figures, stopped = asyncio.run(measure(count, proxy))
        rss = sum(r for r, _ in figures) / len(figures) / 1024
        pss = sum(p for _, p in figures) / len(figures) / 1024
        pss_max = max(p for _, p in figures) / 1024
        total = sum(p for _, p in figures) / 1024
        fleet = pss
        print(
            f"{count:>8} {started:>9.1f}s {rss:>9.1f}Mi {pss:>9.1f}Mi {pss_max:>6.1f}Mi "
            f"{total:>8.0f}Mi {stopped:>8.1f}s"
        )
    server.close()
    verdict = "meets" if fleet < TARGET_PSS_MIB else "MISSES"
    print(
        f"{COUNTS[-1]} sessions: {fleet:.1f} MiB PSS per worker, {verdict} the "
        f"{TARGET_PSS_MIB:.0f} MiB per session target (a lone worker shares nothing with "
        "another, so its PSS is close to its RSS)"
    )


if __name__ == "__main__":
    main()
