"""Test databases: a fresh SQLite file per test, or a fresh PostgreSQL database per test
cloned from a migrated template (CREATE DATABASE ... TEMPLATE takes ~50 ms)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from sendmako.storage.db import Database

POSTGRES_ENV = "SENDMAKO_TEST_POSTGRES_URL"
_template_ready: set[str] = set()


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def skip_without_postgres() -> None:
    if postgres_url() is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (.ci/run sets it)")


def _dsn(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


def _async_url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _admin(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_dsn(url, make_url(url).database or "postgres"))


async def _ensure_template(url: str) -> str:
    template = f"sendmako_test_tpl_{os.getpid()}"
    if template in _template_ready:
        return template
    admin = await _admin(url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
        await admin.execute(f'CREATE DATABASE "{template}"')
    finally:
        await admin.close()
    db = Database(_async_url(url, template))
    try:
        await db.migrate()
    finally:
        await db.close()
    _template_ready.add(template)
    return template


@asynccontextmanager
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty, migrated-or-not database for one test, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sendmako.db'}"
        return
    url = postgres_url()
    assert url is not None
    template = await _ensure_template(url)
    name = f"sendmako_test_{secrets.token_hex(4)}"
    admin = await _admin(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    try:
        yield _async_url(url, name)
    finally:
        admin = await _admin(url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def drop_templates() -> None:
    url = postgres_url()
    if url is None or not _template_ready:
        return
    admin = await _admin(url)
    try:
        for template in _template_ready:
            await admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    finally:
        await admin.close()
    _template_ready.clear()
