from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sendmako.storage.db import Database


@pytest.fixture
async def db(backend: str, db_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend (SQLite always; PostgreSQL when configured)."""
    database = Database(db_url)
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()
