"""Memory of idle neonize workers (RSS and PSS), the time to start them all and to stop
them all, for workers forked from the template (now) and spawned afresh (before), in the
same run; then where one idle worker's memory goes.

    make bench      # or: .venv/bin/python bench/bench_neonize_memory.py [options] [N ...]

    N ...             session counts (default 1 10 50 100 200)
    --spawn-upto N    also measure spawned workers, up to N sessions (default 100: 200
                      spawned workers need about 8 GiB)
    --env K=V         extra environment for the workers (GOGC=50, MALLOC_ARENA_MAX=1...)
    --no-stages       skip the breakdown of one worker

Each session is a real worker process with neonize loaded and its connection dialling
WhatsApp through a local "blackhole" proxy (it accepts and never answers), so the worker
stays up, idle and not logged in, and no traffic leaves the machine. PSS splits shared
pages (the Python binary, the Go library's code, and for forked workers everything the
template loaded) among the processes that map them: it is the fair per-worker figure. The
template's own PSS is added to the forked workers' total. A logged-in session holds more
(Signal sessions, app state); that cannot be measured without a real account.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sendmako import log
from sendmako.engines.base import SessionSpec
from sendmako.engines.neonize.engine import NeonizeEngine
from sendmako.engines.neonize.process import WorkerCommand
from sendmako.model.events import EngineEvent
from sendmako.settings import NeonizeSettings, Settings
from sendmako.storage.db import Database

T = TypeVar("T")
TARGET_PSS_MIB = 20.0  # per worker, at 100 workers
TARGET_START_SECONDS = 15.0  # all 100 started
SETTLE_SECONDS = 3.0
# Go 1.26 puts its heap arenas at a random address below the mmap area, where neither
# glibc nor Python map anything.
MMAP_AREA = 0x700000000000


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


def pss_by_kind(pid: int) -> dict[str, int]:
    """PSS in KiB of one process, by what its mappings hold (/proc/<pid>/smaps)."""
    kinds: dict[str, int] = {}
    kind = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and not head[0].endswith(":"):
            start = int(head[0].split("-")[0], 16)
            path = head[5] if len(head) > 5 else ""
            if "neonize-" in path and path.endswith(".so"):
                kind = "Go library file (code, data)"
            elif not path and start < MMAP_AREA:
                kind = "Go heap"
            elif path.startswith("/"):
                kind = "other files (python, C extensions, libc)"
            else:
                kind = "other anonymous (Python objects, malloc, Go stacks and runtime)"
        elif head[0] == "Pss:":
            kinds[kind] = kinds.get(kind, 0) + int(head[1])
    return kinds


def _read(read: Callable[[int], T], pid: int) -> T | None:
    try:
        return read(pid)
    except (FileNotFoundError, ProcessLookupError):
        return None


@dataclass
class Run:
    count: int
    started: float
    stopped: float
    figures: list[tuple[int, int]]  # per worker (RSS, PSS) KiB
    template_pss: int  # KiB, 0 when spawned
    kinds: dict[str, int]  # the mean worker's PSS by kind, KiB

    @property
    def pss(self) -> float:
        """MiB per worker, the template's share included."""
        return (sum(p for _, p in self.figures) + self.template_pss) / len(self.figures) / 1024

    @property
    def rss(self) -> float:
        return sum(r for r, _ in self.figures) / len(self.figures) / 1024


async def measure(count: int, proxy: str, *, forked: bool, env: dict[str, str]) -> Run:
    with tempfile.TemporaryDirectory(prefix="sendmako-bench-neonize-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            engines=["neonize"],
            default_engine="neonize",
            log_level="error",
            neonize=NeonizeSettings(proxy=proxy),
        )
        db = Database(settings.effective_database_url)
        base = WorkerCommand(cwd=Path(tmp), log_level="error")
        command = WorkerCommand(
            cwd=Path(tmp), log_level="error", env={**base.env, **env}, forked=forked
        )
        engine = NeonizeEngine(db, settings, worker_command=command)
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
        # Each session's first worker accepted `start`. (Not "all alive at once": whatsmeow
        # gives up a dial after 60 s, and spawning 100 workers takes longer than that.)
        while not all(session.supervisor.started_pids for session in sessions):  # noqa: ASYNC110 - polling the supervisors is the measurement
            await asyncio.sleep(0.05)
        started = time.perf_counter() - began
        await asyncio.sleep(SETTLE_SECONDS)
        pids = [session.supervisor.worker.pid for session in sessions if session.supervisor.worker]
        # whatsmeow gives up a dial after 60 s and its worker starts again: one may be
        # between two processes now (spawning 100 takes longer than that).
        figures = [figure for pid in pids if (figure := _read(memory_kib, pid)) is not None]
        template = engine.launcher.template
        template_pid = template.pid if template is not None else None
        template_pss = memory_kib(template_pid)[1] if template_pid else 0
        kinds: dict[str, int] = {}
        sampled = [one for pid in pids[:10] if (one := _read(pss_by_kind, pid)) is not None]
        for one in sampled:
            for kind, kib in one.items():
                kinds[kind] = kinds.get(kind, 0) + kib // len(sampled)
        began = time.perf_counter()
        await engine.stop()
        stopped = time.perf_counter() - began
        await db.close()
        return Run(count, started, stopped, figures, template_pss, kinds)


# -- where one worker's memory goes: the same imports, stage by stage --------------------

STAGES = """
import os, sys
def line(tag):
    values = {}
    for row in open(f"/proc/{os.getpid()}/smaps_rollup"):
        name, _, rest = row.partition(":")
        values[name] = int(rest.split()[0]) if rest.strip() else 0
    print(f"{tag}\\t{values['Rss']}\\t{values['Anonymous']}", flush=True)
line("Python interpreter alone")
from sendmako.engines.neonize import blocked, forkserver
blocked.block()
import sendmako.engines.neonize.worker
line("+ the worker's own modules (sendmako, structlog)")
forkserver._enter_neonize_without_init()
import importlib
names = forkserver._worker_imports()
for name in names:
    if name.startswith(("google.protobuf", "neonize.proto")):
        try: importlib.import_module(name)
        except Exception: pass
line("+ protobuf runtime and neonize's generated protobufs")
forkserver.preload()
line("+ neonize's Python layer (helpers, PIL, libmagic, segno...)")
forkserver.finish_neonize()
import sendmako.engines.neonize.connection, sendmako.engines.neonize.commands
line("+ Go library loaded (Go runtime started)")
"""


def stages() -> list[tuple[str, float, float]]:
    out = subprocess.run(
        [sys.executable, "-c", STAGES], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    rows = []
    for row in out.splitlines():
        tag, rss, anon = row.split("\t")
        rows.append((tag, int(rss) / 1024, int(anon) / 1024))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("counts", nargs="*", type=int, default=[1, 10, 50, 100, 200])
    parser.add_argument("--spawn-upto", type=int, default=100)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--no-stages", action="store_true")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    log.configure("warning")
    port, server = blackhole()
    proxy = f"http://127.0.0.1:{port}"
    load = os.getloadavg()[0]
    print(
        f"idle neonize workers (dialling a loopback blackhole proxy), {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at start (the machine is shared: timings are noisy)"
    )
    if env:
        print(f"worker environment: {env}")
    print(
        f"{'how':>7} {'sessions':>8} {'start all':>10} {'RSS/worker':>11} {'PSS/worker':>11} "
        f"{'PSS max':>8} {'PSS total':>10} {'stop all':>9}"
    )
    runs: dict[tuple[bool, int], Run] = {}
    for count in args.counts:
        for forked in (False, True):
            if not forked and count > args.spawn_upto:
                continue
            run = asyncio.run(measure(count, proxy, forked=forked, env=env))
            runs[forked, count] = run
            pss_max = max(p for _, p in run.figures) / 1024
            total = (sum(p for _, p in run.figures) + run.template_pss) / 1024
            print(
                f"{'forked' if forked else 'spawned':>7} {count:>8} {run.started:>9.1f}s "
                f"{run.rss:>9.1f}Mi {run.pss:>9.1f}Mi {pss_max:>6.1f}Mi {total:>8.0f}Mi "
                f"{run.stopped:>8.1f}s",
                flush=True,
            )
    server.close()
    largest = max(count for forked, count in runs if forked)
    print(f"\nPSS of one idle worker by kind of mapping (mean of up to 10, {largest} running):")
    for forked in (False, True):
        count = max((c for f, c in runs if f is forked), default=None)
        if count is None:
            continue
        kinds = runs[forked, count].kinds
        print(f"  {'forked' if forked else 'spawned'}, {count} workers:")
        for kind, kib in sorted(kinds.items(), key=lambda item: -item[1]):
            print(f"    {kib / 1024:6.1f} MiB  {kind}")
    if not args.no_stages:
        print("\none worker's imports, stage by stage (a lone process: RSS, anonymous):")
        for tag, rss, anon in stages():
            print(f"  {rss:6.1f} MiB RSS {anon:6.1f} MiB anon  {tag}")
    at_100 = runs.get((True, 100))
    if at_100 is not None:
        pss_ok = "meets" if at_100.pss <= TARGET_PSS_MIB else "MISSES"
        start_ok = "meets" if at_100.started < TARGET_START_SECONDS else "MISSES"
        print(
            f"\n100 forked workers: {at_100.pss:.1f} MiB PSS each ({pss_ok} the "
            f"{TARGET_PSS_MIB:.0f} MiB target), all started in {at_100.started:.1f} s "
            f"({start_ok} the {TARGET_START_SECONDS:.0f} s target)"
        )


if __name__ == "__main__":
    main()
