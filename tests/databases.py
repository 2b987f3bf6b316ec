"""Test databases: a fresh SQLite file per test, or a fresh PostgreSQL database per test
cloned from a migrated template (CREATE DATABASE ... TEMPLATE takes ~50 ms)."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from sendmako.accounts import Passwords, bootstrap_admin
from sendmako.storage.db import Database

POSTGRES_ENV = "SENDMAKO_TEST_POSTGRES_URL"
_template_ready: set[str] = set()
# Databases copied from a template that already holds the first admin: URL -> (key, password)
ADMINS: dict[str, tuple[str, str]] = {}
_bootstrapped: dict[str, tuple[str, str, str]] = {}  # backend -> (template, key, password)


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


async def _bootstrapped_template(backend: str) -> tuple[str, str, str]:
    """A migrated database holding the first admin, made once per test run: copying it is
    much cheaper than migrating and hashing a password for every test's server."""
    if backend in _bootstrapped:
        return _bootstrapped[backend]
    if backend == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="sendmako-tpl-"))
        template = str(directory / "template.db")
        url = f"sqlite+aiosqlite:///{template}"
    else:
        admin_url = postgres_url()
        assert admin_url is not None
        template = f"sendmako_test_boot_{os.getpid()}"
        admin = await _admin(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
            await admin.execute(f'CREATE DATABASE "{template}"')
        finally:
            await admin.close()
        _template_ready.add(template)
        url = _async_url(admin_url, template)
    db = Database(url)
    passwords = Passwords(db)
    try:
        await db.migrate()
        first = await bootstrap_admin(db, "admin@localhost", passwords)
        assert first is not None
        if backend == "sqlite":
            async with db.engine.connect() as conn:  # fold the WAL into the file to copy
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        passwords.close()
        await db.close()
    _bootstrapped[backend] = (template, first.key.secret, first.password)
    return _bootstrapped[backend]


@asynccontextmanager
async def server_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of a migrated database that already has its first admin (see ADMINS)."""
    template, key, password = await _bootstrapped_template(backend)
    if backend == "sqlite":
        path = tmp_path / "sendmako.db"
        shutil.copyfile(template, path)
        url = f"sqlite+aiosqlite:///{path}"
        ADMINS[url] = (key, password)
        yield url
        return
    async with _cloned(template) as url:
        ADMINS[url] = (key, password)
        yield url


@asynccontextmanager
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty, migrated-or-not database for one test, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sendmako.db'}"
        return
    url = postgres_url()
    assert url is not None
    async with _cloned(await _ensure_template(url)) as cloned:
        yield cloned


@asynccontextmanager
async def _cloned(template: str) -> AsyncIterator[str]:
    url = postgres_url()
    assert url is not None
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


def plain_dsn(url: str) -> str:
    """A SQLAlchemy URL of a PostgreSQL database as asyncpg's own `connect` takes it."""
    return _dsn(url, make_url(url).database or "postgres")
