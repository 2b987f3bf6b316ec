"""Builds the engines the operator enabled. The only module that knows every engine."""

from __future__ import annotations

from sendmako.engines.base import Engine
from sendmako.engines.sandbox import SandboxEngine
from sendmako.engines.sandbox.media import SandboxMediaStore
from sendmako.settings import Settings
from sendmako.storage.db import Database


def build_engines(settings: Settings, db: Database) -> dict[str, Engine]:
    engines: dict[str, Engine] = {}
    for name in settings.engines:
        if name == "sandbox":
            media = SandboxMediaStore(
                settings.data_dir / "sandbox-media", settings.effective_public_url
            )
            engines[name] = SandboxEngine(db, settings.sandbox, media)
        elif name == "neonize":
            # Lazy: a server without the neonize engine never imports it.
            from sendmako.engines.neonize.engine import NeonizeEngine

            engines[name] = NeonizeEngine(db, settings)
        else:
            raise ValueError(f"engine {name!r} is not available in this build")
    return engines
