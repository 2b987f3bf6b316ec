"""How many more workers fit in the node's memory: the estimate, the limit it names, and
the refusal (503 node_full) that comes before the machine would swap."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendmako.engines.neonize.capacity import (
    MEASURE_SECONDS,
    CapacityGauge,
    Memory,
    read_memory,
    refuse_when_full,
)
from sendmako.errors import Unavailable


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_available_memory_is_the_kernels_unless_the_container_limit_is_lower(
    tmp_path: Path,
) -> None:
    proc = write(tmp_path / "proc", {"meminfo": "MemTotal: 8000000 kB\nMemAvailable: 4194304 kB\n"})
    unlimited = write(tmp_path / "cg1", {"memory.max": "max\n", "memory.current": "1\n"})
    assert read_memory(proc, unlimited) == Memory(4096.0, "memory")

    mib = 1024 * 1024
    limited = write(
        tmp_path / "cg2",
        {
            "memory.max": f"{2048 * mib}\n",
            "memory.current": f"{1536 * mib}\n",
            "memory.stat": f"anon 1\ninactive_file {256 * mib}\n",
        },
    )
    # 2048 - 1536 + 256 of page cache the kernel gives back: 768 MiB, below 4096.
    assert read_memory(proc, limited) == Memory(768.0, "container memory limit")
    assert read_memory(proc, tmp_path / "no-cgroup") == Memory(4096.0, "memory")


def test_room_is_memory_less_the_reserve_over_the_measured_worker() -> None:
    pss = {10: 16 * 1024, 11: 14 * 1024, 99: 40 * 1024}  # two workers and the template
    now = [0.0]
    available = [2024.0]
    gauge = CapacityGauge(
        reserve_mib=1024,
        worker_memory_mib=25,
        memory=lambda: Memory(available[0], "memory"),
        pss_kib=pss.get,
        clock=lambda: now[0],
    )
    before = gauge.estimate([])
    assert (before.per_worker_mib, before.measured, before.room) == (25, False, 40)

    running = gauge.estimate([10, 11], template=99)
    assert running.per_worker_mib == 35.0  # mean 15 MiB + half the template's 40
    assert running.measured
    assert running.room == 28  # floor(1000 / 35)
    assert "room for 28 more workers: 2024 MiB available (memory)" in running.describe()

    pss[10] = pss[11] = 100 * 1024  # sessions grew busy: seen at the next measure only
    assert gauge.estimate([10, 11], template=99).per_worker_mib == 35.0
    now[0] += MEASURE_SECONDS
    assert gauge.estimate([10, 11], template=99).per_worker_mib == 120.0

    available[0] = 1100.0
    assert gauge.estimate([10, 11], template=99).room == 0


def test_a_full_node_refuses_naming_its_limit() -> None:
    gauge = CapacityGauge(
        reserve_mib=512,
        worker_memory_mib=20,
        memory=lambda: Memory(520.0, "container memory limit"),
    )
    with pytest.raises(Unavailable) as refused:
        refuse_when_full(gauge.estimate([]))
    assert refused.value.code == "node_full"
    assert refused.value.status == 503
    assert "container memory limit" in refused.value.message
    assert "520 MiB available, 512 MiB kept in reserve, 20.0 MiB per session" in (
        refused.value.message
    )
    roomy = CapacityGauge(
        reserve_mib=512, worker_memory_mib=20, memory=lambda: Memory(600.0, "memory")
    )
    refuse_when_full(roomy.estimate([]))  # room for 4: no refusal
