"""Real worker processes with real neonize, kept off the network: WhatsApp is reached only
through a proxy on a loopback port that is closed (the dial fails at once) or that accepts
and never answers (the dial hangs, as on a black-holed network)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sendmako.engines.base import SessionSpec
from sendmako.engines.neonize.engine import NeonizeEngine
from sendmako.engines.neonize.session import NeonizeSession
from sendmako.model.events import EngineEvent, StatusChanged
from sendmako.settings import NeonizeSettings, Settings
from sendmako.storage.db import Database


def closed_port_proxy() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def blackhole_proxy() -> Iterator[str]:
    """A loopback proxy that accepts connections and never answers them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for sock in held:
            sock.close()


def neonize_settings(proxy: str, **values: float) -> NeonizeSettings:
    defaults: dict[str, float] = {
        "restart_initial_seconds": 0.3,
        "restart_max_seconds": 1.2,
        "heartbeat_seconds": 0.5,
        "heartbeat_timeout_seconds": 5.0,
    }
    return NeonizeSettings(proxy=proxy, **{**defaults, **values})  # type: ignore[arg-type]


@dataclass
class Recorder:
    """An EventSink keeping what each session reported, with a way to wait for it."""

    events: dict[str, list[EngineEvent]] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def sink(self, session_id: str) -> Callable[[EngineEvent], object]:
        async def record(event: EngineEvent) -> None:
            self.events.setdefault(session_id, []).append(event)
            async with self.changed:
                self.changed.notify_all()

        return record

    def statuses(self, session_id: str) -> list[StatusChanged]:
        return [e for e in self.events.get(session_id, []) if isinstance(e, StatusChanged)]

    async def wait(self, predicate: Callable[[], bool], timeout: float = 20) -> None:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(predicate)


@asynccontextmanager
async def neonize_engine(tmp_path: Path, settings: NeonizeSettings) -> AsyncIterator[NeonizeEngine]:
    app_settings = Settings(
        data_dir=tmp_path / "data", engines=["neonize"], default_engine="neonize", neonize=settings
    )
    db = Database(app_settings.effective_database_url)
    engine = NeonizeEngine(db, app_settings)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
        await db.close()


def open_session(engine: NeonizeEngine, recorder: Recorder, number: int) -> NeonizeSession:
    spec = SessionSpec(f"user_{number}", number, number, None, None)
    return engine.open_session(spec, recorder.sink(spec.session_id))  # type: ignore[arg-type]


async def started_worker_pid(session: NeonizeSession, timeout: float = 20) -> int:
    """The pid of the newest worker, once at least one has accepted `start`."""
    return await session.supervisor.wait_for_start(1, timeout)


def elapsed(since: float) -> float:
    return time.monotonic() - since
