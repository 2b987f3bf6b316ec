"""Device stores on SQLite (a file per session) and PostgreSQL (shared, migrated once):
a stored device is resumed without a new scan, and forgetting a session deletes its keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from sendmako.engines.base import SessionSpec
from sendmako.engines.neonize import keys
from sendmako.engines.neonize.engine import NeonizeEngine
from sendmako.model.statuses import SessionStatus
from sendmako.settings import Settings
from sendmako.storage.db import Database
from tests.engines.neonize.workers import (
    Recorder,
    closed_port_proxy,
    neonize_settings,
    started_worker_pid,
)

DEVICE = "22241857975:7@s.whatsapp.net"
# A push name with a comma: neonize's own device listing breaks on it.
DEVICE_ROW = {
    "jid": DEVICE,
    "registration_id": 1,
    "noise_key": b"n" * 32,
    "identity_key": b"i" * 32,
    "signed_pre_key": b"s" * 32,
    "signed_pre_key_id": 1,
    "signed_pre_key_sig": b"g" * 64,
    "adv_key": b"a" * 32,
    "adv_details": b"d",
    "adv_account_sig": b"x" * 64,
    "adv_account_sig_key": b"y" * 32,
    "adv_device_sig": b"z" * 64,
    "push_name": "Awa, la boutique",
}
INSERT = (
    f"INSERT INTO whatsmeow_device ({', '.join(DEVICE_ROW)}) "  # noqa: S608 - our constants
    f"VALUES ({', '.join(':' + column for column in DEVICE_ROW)})"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+asyncpg://sendmako:s%40cret@127.0.0.1:5432/sendmako",
            "postgres://sendmako:s%40cret@127.0.0.1:5432/sendmako?sslmode=disable",
        ),
        (
            "postgresql+asyncpg://app@db.internal/wa",
            "postgres://app@db.internal/wa?sslmode=require",
        ),
        (
            "postgresql+asyncpg://app@db.internal/wa?ssl=verify-full",
            "postgres://app@db.internal/wa?sslmode=verify-full",
        ),
        (
            "postgresql+asyncpg://app@db.internal/wa?ssl=prefer",
            "postgres://app@db.internal/wa?sslmode=require",
        ),
        (
            "postgresql+asyncpg://app@/wa?host=/var/run/postgresql",
            "postgres://app@/wa?sslmode=disable&host=/var/run/postgresql",
        ),
    ],
)
def test_database_url_as_lib_pq_url(url: str, expected: str) -> None:
    """lib/pq has no "prefer": TLS is required off-host unless the URL says otherwise."""
    assert keys.libpq_url(url) == expected


@pytest.mark.slow
@pytest.mark.usefixtures("backend")
async def test_a_stored_device_is_resumed_and_forget_deletes_its_keys(
    tmp_path: Path, db_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        engines=["neonize"],
        default_engine="neonize",
        neonize=neonize_settings(closed_port_proxy()),
    )
    db = Database(settings.effective_database_url)
    await db.migrate()
    engine = NeonizeEngine(db, settings)
    await engine.start()  # on PostgreSQL: whatsmeow's schema, migrated once, here
    recorder = Recorder()
    try:
        spec = SessionSpec("user_1", 1, 1, "22241857975", None)
        first = engine.open_session(spec, recorder.sink("user_1"))  # type: ignore[arg-type]
        await first.start()
        await started_worker_pid(first)  # its store exists once a worker has opened it
        await first.stop()
        await _insert_device(engine, settings)

        linked = SessionSpec("user_1", 1, 1, "22241857975", DEVICE)
        resumed = engine.open_session(linked, recorder.sink("user_1"))  # type: ignore[arg-type]
        await resumed.start()
        await started_worker_pid(resumed)
        assert resumed.device_jid == DEVICE  # the worker resumed it: no QR, no new device
        await recorder.wait(lambda: "cannot reach WhatsApp" in (resumed.detail or ""))
        assert resumed.status is SessionStatus.CONNECTING
        await resumed.stop()

        await engine.forget(linked)
        assert await _device_count(engine, settings) == 0
    finally:
        await engine.stop()
        await db.close()


async def _insert_device(engine: NeonizeEngine, settings: Settings) -> None:
    if engine.shared_store:
        async with engine.db.write() as tx:
            await tx.execute(text(INSERT), DEVICE_ROW)
        return
    with sqlite3.connect(keys.sqlite_path(settings.data_dir, "user_1")) as store:
        store.execute(INSERT, DEVICE_ROW)


async def _device_count(engine: NeonizeEngine, settings: Settings) -> int:
    if engine.shared_store:
        async with engine.db.read() as db:
            return int(
                (await db.execute(text("SELECT count(*) FROM whatsmeow_device"))).scalar_one()
            )
    path = keys.sqlite_path(settings.data_dir, "user_1")
    if not path.exists():
        return 0
    with sqlite3.connect(path) as store:
        return int(store.execute("SELECT count(*) FROM whatsmeow_device").fetchone()[0])
