"""One node per database: a second `sendmako serve` on a database another one runs on
exits at once, saying why and what to do, while the first carries on; a node killed and
started again on its data directory starts at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sendmako.cli import EXIT_REFUSED
from sendmako.sessions.lease import NodeRefused
from sendmako.settings import Settings
from tests.contract.live import free_port, serve
from tests.harness import running

# A refused node exits once it has read the lease: the time to start Python and import
# Sendmako, on a busy machine.
REFUSAL_DEADLINE = 20


def start_beside(data_dir: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """`sendmako serve` on `database_url`, expected to give up (the deadline fails the test
    if it serves instead)."""
    data_dir.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "sendmako", "serve"],
        env={
            **os.environ,
            "SENDMAKO_DATA_DIR": str(data_dir),
            "SENDMAKO_DATABASE_URL": database_url,
            "SENDMAKO_PORT": str(free_port()),
            "SENDMAKO_ENGINES": "sandbox",
            "SENDMAKO_DEFAULT_ENGINE": "sandbox",
            "SENDMAKO_LOG_FORMAT": "json",
        },
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=REFUSAL_DEADLINE,
        check=False,
    )


@pytest.mark.slow
def test_a_second_node_is_refused_while_the_first_serves(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    """From another data directory, and from the first one's own: a clear message on
    stderr, no traceback, a non-zero status; the first node answers all along."""
    first_dir = tmp_path / "first"
    first_dir.mkdir()
    with serve(first_dir, SENDMAKO_DATABASE_URL=db_url) as first:
        elsewhere = start_beside(tmp_path / "second", db_url)
        assert elsewhere.returncode == EXIT_REFUSED, elsewhere.stderr
        assert "error: another Sendmako node is running on this database." in elsewhere.stderr
        assert f"(pid {first.process.pid} on " in elsewhere.stderr
        assert f"data directory {first_dir.resolve()}, " in elsewhere.stderr
        assert "s ago)" in elsewhere.stderr
        assert "Several nodes on one database need PostgreSQL and Redis" in elsewhere.stderr
        assert "stop that node, or give this one a database of its own" in elsewhere.stderr
        assert "its lease expires at" in elsewhere.stderr
        assert "Traceback" not in elsewhere.stderr

        same_dir = start_beside(first_dir, db_url)
        assert same_dir.returncode == EXIT_REFUSED, same_dir.stderr
        assert f"process (pid {first.process.pid}) is running on this data directory" in (
            same_dir.stderr
        )
        assert "Traceback" not in same_dir.stderr

        assert first.process.poll() is None
        assert requests.get(f"{first.url}/health/live", timeout=5).status_code == 200


@pytest.mark.slow
def test_a_node_killed_and_started_again_starts_at_once(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    """SIGKILL leaves its lease live for 20 s; the same host and data directory take it
    over as soon as its process is gone (a systemd restart)."""
    with serve(tmp_path, SENDMAKO_DATABASE_URL=db_url) as killed:
        killed.process.kill()
        killed.process.wait(timeout=10)
    with serve(tmp_path, SENDMAKO_DATABASE_URL=db_url) as again:
        assert requests.get(f"{again.url}/health/live", timeout=5).status_code == 200


async def test_a_second_server_in_this_process_is_refused(settings: Settings) -> None:
    """The same data directory and a live holder (this very process): refused. Once the
    first stops cleanly, the database is free at once."""
    async with running(settings):
        with pytest.raises(NodeRefused, match="is running on this data directory"):
            async with running(settings):
                pass
    async with running(settings) as again:
        assert again.sessions is not None
