"""How many more workers fit in this node's memory, so a new session is refused (or placed
on another node) rather than the machine made to swap.

The estimate: memory still available, less a reserve for everything else on the node,
divided by what one worker takes. "Available" is the kernel's MemAvailable, or what is
left under the container's memory limit (cgroup v2 `memory.max`) when that is lower: the
lower one is the limit, and a refusal names it. What a worker takes is measured: the mean
PSS of the running workers, the template's share included (sampled, at most every
`MEASURE_SECONDS`); before any worker runs, `worker_memory_mib` is assumed.

An idle worker is measured at about 15 MiB PSS (README "Session density"); a logged-in,
busy session holds more, which the measure follows as it grows.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sendmako.errors import Unavailable

MEASURE_SECONDS = 30.0
SAMPLE = 50  # workers whose PSS is read per measure: reading smaps costs CPU
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Memory:
    """What the node can still give, in MiB, and which limit says so."""

    available_mib: float
    limit: str  # "memory" (MemAvailable) or "container memory limit" (cgroup)


@dataclass(frozen=True, slots=True)
class Capacity:
    available_mib: float
    limit: str
    reserve_mib: float
    per_worker_mib: float
    measured: bool  # per_worker_mib comes from running workers, not the assumption
    workers: int  # running now

    @property
    def room(self) -> int:
        """How many more workers fit."""
        spare = self.available_mib - self.reserve_mib
        return max(0, math.floor(spare / self.per_worker_mib))

    def describe(self) -> str:
        how = "measured" if self.measured else "assumed"
        return (
            f"room for {self.room} more workers: {self.available_mib:.0f} MiB available "
            f"({self.limit}), {self.reserve_mib:.0f} MiB kept in reserve, "
            f"{self.per_worker_mib:.1f} MiB per worker ({how}, {self.workers} running)"
        )


def read_memory(proc: Path = Path("/proc"), cgroup: Path = Path("/sys/fs/cgroup")) -> Memory:
    """MemAvailable, or the room under the cgroup v2 limit when lower."""
    available = _meminfo_kib(proc / "meminfo", "MemAvailable") / 1024
    memory = Memory(available, "memory")
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        current = int((cgroup / "memory.current").read_text())
    except (OSError, ValueError):
        return memory
    if limit == "max":
        return memory
    # Page cache counts in memory.current but is given back under pressure.
    inactive = _stat_bytes(cgroup / "memory.stat", "inactive_file")
    spare = (int(limit) - current + inactive) / MIB
    return Memory(spare, "container memory limit") if spare < available else memory


def read_pss_kib(pid: int, proc: Path = Path("/proc")) -> int | None:
    """A process's PSS in KiB; None when it is gone."""
    try:
        return _meminfo_kib(proc / str(pid) / "smaps_rollup", "Pss")
    except (OSError, ValueError):
        return None


class CapacityGauge:
    """Keeps the estimate, re-measuring the workers now and then."""

    def __init__(
        self,
        *,
        reserve_mib: float,
        worker_memory_mib: float,
        memory: Callable[[], Memory] = read_memory,
        pss_kib: Callable[[int], int | None] = read_pss_kib,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reserve_mib = reserve_mib
        self.worker_memory_mib = worker_memory_mib
        self.memory = memory
        self.pss_kib = pss_kib
        self.clock = clock
        self._per_worker: float | None = None
        self._measured_at = -math.inf

    def estimate(self, workers: Sequence[int], template: int | None = None) -> Capacity:
        """`workers`: the pids of the running workers; `template`: the template's pid."""
        now = self.clock()
        if workers and now - self._measured_at >= MEASURE_SECONDS:
            self._measure(workers, template)
            self._measured_at = now
        elif not workers:
            self._per_worker = None
        memory = self.memory()
        return Capacity(
            available_mib=memory.available_mib,
            limit=memory.limit,
            reserve_mib=self.reserve_mib,
            per_worker_mib=self._per_worker or self.worker_memory_mib,
            measured=self._per_worker is not None,
            workers=len(workers),
        )

    def _measure(self, workers: Sequence[int], template: int | None) -> None:
        sample = list(workers) if len(workers) <= SAMPLE else random.sample(list(workers), SAMPLE)
        figures = [kib for kib in map(self.pss_kib, sample) if kib is not None]
        if not figures:
            return
        # The template is shared by all the workers: each carries its share.
        shared = (self.pss_kib(template) or 0) / len(workers) if template is not None else 0
        self._per_worker = (sum(figures) / len(figures) + shared) / 1024


def refuse_when_full(capacity: Capacity) -> None:
    """Raise 503 node_full, naming the limit, when not one more worker fits."""
    if capacity.room > 0:
        return
    raise Unavailable(
        f"This node is full: its {capacity.limit} has room for no more WhatsApp sessions "
        f"({capacity.available_mib:.0f} MiB available, {capacity.reserve_mib:.0f} MiB kept "
        f"in reserve, {capacity.per_worker_mib:.1f} MiB per session). Stop a session, add "
        "memory, or add a node.",
        code="node_full",
    )


def _meminfo_kib(path: Path, key: str) -> int:
    for line in path.read_text().splitlines():
        name, _, rest = line.partition(":")
        if name == key:
            return int(rest.split()[0])
    raise ValueError(f"{key} not in {path}")


def _stat_bytes(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0
