"""`NeonizeEngine`: real WhatsApp through neonize (whatsmeow), one worker process per session.

The server process never imports neonize: workers do (`worker.py`), and this module only
knows how to start them, where their device stores live, and how the fleet is doing.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from typing import Any, ClassVar

from sendmako import log
from sendmako.engines.base import Engine, EngineHealth, EngineSession, EventSink, SessionSpec
from sendmako.engines.neonize import keys
from sendmako.engines.neonize.capacity import Capacity, CapacityGauge, refuse_when_full
from sendmako.engines.neonize.launcher import Launcher
from sendmako.engines.neonize.process import WorkerCommand
from sendmako.engines.neonize.session import NeonizeSession
from sendmako.engines.neonize.starts import StartGate
from sendmako.engines.neonize.supervisor import Backoff, Policy
from sendmako.settings import Settings
from sendmako.storage.db import Database

logger = log.get(__name__)

CRASH_LOOP_STREAK = 3  # consecutive crashes after which a worker counts as crash-looping
MIGRATE_TIMEOUT_SECONDS = 120.0


class NeonizeEngine(Engine):
    name: ClassVar[str] = "neonize"
    session_class: ClassVar[type[EngineSession]] = NeonizeSession

    def __init__(
        self, db: Database, settings: Settings, *, worker_command: WorkerCommand | None = None
    ) -> None:
        """`worker_command` replaces how workers start (tests start broken ones)."""
        self.db = db
        self.settings = settings.neonize
        self.root = (settings.data_dir / keys.STORE_DIR).resolve()
        self.spool_dir = self.root / "spool"
        self.data_dir = settings.data_dir
        self.shared_store = not db.is_sqlite
        self.store_url = (
            (self.settings.store_url or keys.libpq_url(db.url)) if self.shared_store else None
        )
        self.worker_command = worker_command or WorkerCommand(
            cwd=self.root, log_level=settings.log_level
        )
        self.launcher = Launcher(self.worker_command)
        self.policy = Policy(
            backoff=Backoff(
                initial=self.settings.restart_initial_seconds,
                maximum=self.settings.restart_max_seconds,
            ),
            heartbeat_interval=self.settings.heartbeat_seconds,
            heartbeat_timeout=self.settings.heartbeat_timeout_seconds,
            stop_grace=self.settings.stop_grace_seconds,
        )
        self.sessions: dict[str, NeonizeSession] = {}
        self.gauge = CapacityGauge(
            reserve_mib=self.settings.memory_reserve_mib,
            worker_memory_mib=self.settings.worker_memory_mib,
        )
        self.starts = StartGate(self.settings.parallel_starts, self.settings.starts_per_second)
        self._store_problem: str | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self._prepare_dirs)
        if self.store_url is not None:
            await self._migrate_store(self.store_url)

    async def stop(self) -> None:
        # All at once: each is its own process (and the server's stop does the same).
        await asyncio.gather(*(session.stop() for session in list(self.sessions.values())))
        await self.launcher.close()

    def open_session(self, spec: SessionSpec, sink: EventSink) -> NeonizeSession:
        return NeonizeSession(spec, sink, self)

    async def forget(self, spec: SessionSpec) -> None:
        if self.shared_store:
            if spec.device_jid:
                await keys.forget_postgres(self.db, spec.device_jid)
        else:
            path = keys.sqlite_path(self.data_dir, spec.session_id)
            await asyncio.to_thread(keys.forget_sqlite, path)
        logger.info("neonize.keys_forgotten", session_id=spec.session_id)

    async def health(self) -> EngineHealth:
        if self._store_problem is not None:
            return EngineHealth(ok=False, detail=f"device store: {self._store_problem}")
        looping = {
            session_id: session.supervisor.last_exit
            for session_id, session in self.sessions.items()
            if session.supervisor.crash_streak >= CRASH_LOOP_STREAK
        }
        if not looping:
            return EngineHealth(ok=True)
        examples = ", ".join(
            f"{session_id} ({outcome.cause if outcome else 'unknown'})"
            for session_id, outcome in list(looping.items())[:3]
        )
        return EngineHealth(
            ok=False,
            detail=f"{len(looping)} of {len(self.sessions)} workers crash-looping: {examples}",
        )

    def capacity(self) -> Capacity:
        """How many more workers fit in this node's memory (`capacity.py`)."""
        workers = [
            worker.pid
            for session in self.sessions.values()
            if (worker := session.supervisor.worker) is not None
        ]
        template = self.launcher.template
        return self.gauge.estimate(workers, template.pid if template is not None else None)

    def room(self) -> int | None:
        return self.capacity().room

    def refuse_if_full(self) -> None:
        capacity = self.capacity()
        if capacity.room == 0:
            logger.warning("neonize.node_full", capacity=capacity.describe())
        refuse_when_full(capacity)

    def start_args(self, session_id: str, device_jid: str | None) -> dict[str, Any]:
        """The `start` request of a session's next worker."""
        store = self.store_url or str(keys.sqlite_path(self.data_dir, session_id))
        return {
            "session_id": session_id,
            "store": store,
            "device_jid": device_jid,
            "proxy": self.settings.proxy,
            "shared_store": self.shared_store,
            "spool_dir": str(self.spool_dir),
        }

    def _prepare_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # Spooled media of sends cut short by a crash or a restart: nobody will read them.
        shutil.rmtree(self.spool_dir, ignore_errors=True)
        self.spool_dir.mkdir(mode=0o700)

    async def _migrate_store(self, store_url: str) -> None:
        """whatsmeow's schema in PostgreSQL, created or upgraded once, by one process."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sendmako.engines.neonize.worker",
            "--migrate",
            cwd=self.root,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with asyncio.timeout(MIGRATE_TIMEOUT_SECONDS):
                output, _ = await process.communicate((store_url + "\n").encode())
        except TimeoutError:
            process.kill()
            await process.wait()
            output = b"timed out"
        lines = output.decode(errors="replace").strip().splitlines()
        if process.returncode == 0:
            self._store_problem = None
            logger.info("neonize.store_ready", detail=lines[-1] if lines else "")
        else:
            # Sessions will report it as they fail to start; /health says it at once.
            self._store_problem = lines[-1] if lines else f"exit code {process.returncode}"
            logger.error("neonize.store_migration_failed", error=self._store_problem)
