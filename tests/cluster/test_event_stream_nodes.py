"""GET /api/events with several nodes: a client connected to one node follows events
committed on another (woken over Redis, read from the shared database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendmako.model.events import SessionEvent
from tests.api.test_event_stream import stream
from tests.cluster.nodes import cluster
from tests.listening import listening

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_stream_on_one_node_follows_events_committed_on_another(
    tmp_path: Path,
) -> None:
    """The event arrives live on node A's stream although node B recorded it."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        assert a.app is not None
        assert b.app is not None
        on_b = b.app.state.services
        async with listening(a.app) as url, stream(url, alice.key) as events:
            async with on_b.db.write() as tx:
                await on_b.events.record(
                    tx, alice.user.id, [SessionEvent("message.received", None, {"from_b": 1})]
                )
            frame = await events.event()
        assert frame.data is not None
        assert frame.data["data"] == {"from_b": 1}
