"""The database handle: engine creation, transactions, migrations.

SQLite allows one writer at a time. Rather than letting concurrent transactions collide and
retry on `database is locked`, writes on SQLite take an in-process lock for the length of the
transaction; reads never wait. PostgreSQL needs no such lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Table, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# PostgreSQL's answers that mean "run the transaction again": a deadlock it broke by
# aborting this one, and a serialization failure.
_RETRYABLE = {"40P01", "40001"}
RETRIES = 3


def retryable(exc: BaseException) -> bool:
    """Whether `exc` (as SQLAlchemy wraps the driver's) asks for the transaction again."""
    seen: BaseException | None = exc
    for _depth in range(8):  # a wrapper chain is a few deep; never follow a loop
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) in _RETRYABLE:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # Parameters stay out of error messages: they hold webhook secrets, password
        # hashes and message text, and an unexpected database error is logged.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            path = url.split(":///", 1)[1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; anything it writes is rolled back."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction: committed when the block ends, rolled back if it raises.

        Callbacks registered with `after_commit(session, ...)` run once it is committed.
        """
        if self._write_lock is None:
            async with self._sessions() as session:
                async with session.begin():
                    yield session
                _run_after_commit(session)
            return
        async with self._write_lock, self._sessions() as session, session.begin():
            yield session
        _run_after_commit(session)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def create_missing(self, tables: Sequence[Table]) -> None:
        """Create those of `tables` that do not exist yet (an engine's own store)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(lambda sync: MetaData().create_all(sync, tables=list(tables)))

    async def close(self) -> None:
        await self.engine.dispose()


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the transaction of `session` is committed (never if it fails).
    For waking up whoever acts on the rows (a dispatcher), never before they exist."""
    callbacks: list[Callable[[], None]] = session.info.setdefault("after_commit", [])
    if callback not in callbacks:
        callbacks.append(callback)


def _run_after_commit(session: AsyncSession) -> None:
    for callback in session.info.pop("after_commit", []):
        callback()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; NORMAL sync is durable across process crashes
    # (only an OS crash can lose the last commits); foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
