"""A node with no memory left for one more worker refuses new WhatsApp sessions (503
node_full, naming the limit) and stores nothing, rather than let the machine swap."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendmako.settings import Settings
from tests.engines.neonize.workers import closed_port_proxy, neonize_settings
from tests.harness import running

pytestmark = pytest.mark.slow
SESSIONS = "/api/whatsapp/sessions/"
MORE_THAN_ANY_MACHINE_MIB = 1 << 40


async def test_a_full_node_refuses_new_sessions_with_503_naming_the_limit(
    tmp_path: Path, db_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        engines=["neonize", "sandbox"],
        default_engine="neonize",
        neonize=neonize_settings(closed_port_proxy()).model_copy(
            update={"memory_reserve_mib": MORE_THAN_ANY_MACHINE_MIB}
        ),
    )
    async with running(settings) as server:
        alice = await server.account("alice@example.com")
        refused = await alice.client.post(SESSIONS, json={"session_name": "Boutique"})
        assert refused.status_code == 503
        body = refused.json()
        assert body["code"] == "node_full"
        assert "its memory has room for no more WhatsApp sessions" in body["message"]
        assert "kept in reserve" in body["message"]
        assert (await alice.client.get(SESSIONS)).json() == []  # nothing stored

        # The sandbox engine's sessions cost no worker: they are still welcome.
        sandbox = await alice.client.post(SESSIONS, json={"engine": "sandbox"})
        assert sandbox.status_code == 201
