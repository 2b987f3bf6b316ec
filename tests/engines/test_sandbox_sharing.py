"""What the sandbox shares with other nodes, and keeps to itself on one node: media files
stored by one node are served by another from the database; a single node keeps its
network, its sent log and its files in its own process and directory."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sendmako.engines.sandbox import SandboxEngine
from sendmako.engines.sandbox.exchange import LocalExchange
from sendmako.engines.sandbox.media import SandboxMediaStore
from sendmako.engines.sandbox.sent import MemorySentLog
from sendmako.engines.sandbox.store.tables import SandboxMedia
from sendmako.media import crypto
from sendmako.model.messages import MediaPayload, MessageType
from sendmako.storage.db import Database
from tests import media_samples
from tests.harness import Account, Server, connect_sandbox

PUBLIC_URL = "http://127.0.0.1:8000"


@pytest.fixture
async def db(backend: str, db_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend (SQLite always; PostgreSQL when configured)."""
    database = Database(db_url)
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


async def test_a_file_stored_by_one_node_is_served_by_another(db: Database, tmp_path: Path) -> None:
    here = SandboxMediaStore(tmp_path / "a", PUBLIC_URL, shared=db)
    there = SandboxMediaStore(tmp_path / "b", PUBLIC_URL, shared=db)
    image = media_samples.png(20, 10)
    media = await here.store(MediaPayload(image, "image/png"), MessageType.IMAGE)
    token = media.url.rsplit("/", 1)[1]
    served = await there.path_of(token)
    assert served is not None
    assert served.parent == tmp_path / "b"  # copied there
    assert crypto.decrypt(served.read_bytes(), media.media_key, crypto.MediaType.IMAGE) == image
    picture = await here.publish(b"\xff\xd8 a jpeg")
    shown = await there.path_of(picture)
    assert shown is not None
    assert shown.read_bytes() == b"\xff\xd8 a jpeg"
    assert await there.path_of(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await there.path_of("../../sendmako.db") is None


async def test_one_node_keeps_the_sandbox_to_itself(server: Server, alice: Account) -> None:
    """No Redis: the network and its sent log live in this process, and media files only
    in the data directory."""
    assert server.app is not None
    services = server.app.state.services
    engine = services.engines["sandbox"]
    assert isinstance(engine, SandboxEngine)
    assert isinstance(engine.network.exchange, LocalExchange)
    assert isinstance(engine.network.sent, MemorySentLog)
    assert engine.media.shared is None
    session_id = await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={
            "from": "221781234567",
            "type": "image",
            "imageBase64": base64.b64encode(media_samples.png()).decode(),
        },
    )
    assert answer.status_code == 200, answer.text
    assert any((server.settings.data_dir / "sandbox-media").iterdir())
    async with services.db.read() as read:
        assert await read.scalar(select(func.count()).select_from(SandboxMedia)) == 0
