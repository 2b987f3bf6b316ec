"""Builds the engines the operator enabled. The only module that knows every engine."""

from __future__ import annotations

from sendmako.cluster import Bus
from sendmako.cluster.redis_bus import RedisBus
from sendmako.engines.base import Engine
from sendmako.engines.sandbox import SandboxEngine
from sendmako.engines.sandbox.cluster import RedisExchange, RedisSentLog
from sendmako.engines.sandbox.media import SandboxMediaStore
from sendmako.settings import Settings
from sendmako.storage.db import Database


def build_engines(settings: Settings, db: Database, bus: Bus) -> dict[str, Engine]:
    engines: dict[str, Engine] = {}
    for name in settings.engines:
        if name == "sandbox":
            engines[name] = _sandbox(settings, db, bus)
        elif name == "neonize":
            # Lazy: a server without the neonize engine never imports it.
            from sendmako.engines.neonize.engine import NeonizeEngine

            engines[name] = NeonizeEngine(db, settings)
        else:
            raise ValueError(f"engine {name!r} is not available in this build")
    return engines


def _sandbox(settings: Settings, db: Database, bus: Bus) -> SandboxEngine:
    """With several nodes, the simulated network, its media and its sent log span them."""
    directory, public_url = settings.data_dir / "sandbox-media", settings.effective_public_url
    if not isinstance(bus, RedisBus):
        return SandboxEngine(db, settings.sandbox, SandboxMediaStore(directory, public_url))
    media = SandboxMediaStore(directory, public_url, shared=db)
    return SandboxEngine(
        db,
        settings.sandbox,
        media,
        exchange=RedisExchange(bus.redis, bus.prefix, bus, db),
        sent=RedisSentLog(bus.redis, bus.prefix),
    )
