"""Builds the engines the operator enabled. The only module that knows every engine."""

from __future__ import annotations

from sendmako.engines.base import Engine
from sendmako.engines.sandbox import SandboxEngine
from sendmako.settings import Settings
from sendmako.storage.db import Database


def build_engines(settings: Settings, db: Database) -> dict[str, Engine]:
    engines: dict[str, Engine] = {}
    for name in settings.engines:
        if name == "sandbox":
            engines[name] = SandboxEngine(db, settings.sandbox)
        else:
            raise ValueError(f"engine {name!r} is not available in this build")
    return engines
