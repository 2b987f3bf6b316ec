"""Shared fixtures. Every test gets its own data directory and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sendmako.model.send_policy import SendPolicy
from sendmako.settings import SandboxSettings, Settings
from tests import databases
from tests.harness import Account, Server, running


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over SQLite and PostgreSQL (skipped without a PostgreSQL URL)."""
    if request.param == "postgres":
        databases.skip_without_postgres()
    name: str = request.param
    return name


@pytest.fixture
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    backend = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    async with databases.database_url(backend, tmp_path) as url:
        yield url


@pytest.fixture
async def server_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database that already holds the first admin (copied from a template)."""
    backend = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    async with databases.server_database_url(backend, tmp_path) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, server_db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=server_db_url,
        engines=["sandbox"],
        default_engine="sandbox",
        allow_private_hosts=["127.0.0.1"],
        # Tests of other behaviour neither wait on the send policy nor hit its caps;
        # tests/messaging/ pins the careful defaults.
        send_policy=SendPolicy.unlimited().to_stored(),
        sandbox=SandboxSettings(
            qr_rotate_seconds=30,
            reconnect_seconds=0,
            receipt_delivered_seconds=0,
            receipt_read_seconds=0,
        ),
    )


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    async with running(settings) as server:
        yield server


@pytest.fixture
async def alice(server: Server) -> Account:
    return await server.account("alice@example.com")


@pytest.fixture
async def bob(server: Server) -> Account:
    return await server.account("bob@example.com")


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_templates() -> object:
    yield None
    import asyncio

    asyncio.run(databases.drop_templates())
