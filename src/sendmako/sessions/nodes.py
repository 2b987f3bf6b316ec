"""The nodes sharing this database, as an admin sees them (`GET /api/admin/nodes`,
`sendmako nodes list`), and draining one for a rolling upgrade."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sendmako.errors import BadRequest, NotFound
from sendmako.storage import nodes, wa_sessions
from sendmako.storage.db import Database
from sendmako.storage.nodes import NodeStatus


@dataclass(frozen=True, slots=True)
class NodeView:
    node_id: str  # its name
    url: str
    status: NodeStatus  # `expired` for a live-looking node whose lease ran out (dead)
    heartbeat_at: datetime
    sessions: list[str]  # the sessions it holds


class Nodes:
    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.db = db
        self.clock = clock

    async def list(self) -> list[NodeView]:
        """Every node that ever ran on this database, in the order they first did."""
        now = self.clock()
        async with self.db.read() as db:
            records = await nodes.all_nodes(db)
            held = await wa_sessions.session_ids_by_owner(db)
        views = []
        for record in records:
            status = record.status
            if status in (NodeStatus.RUNNING, NodeStatus.DRAINING) and record.expires_at <= now:
                status = NodeStatus.EXPIRED
            views.append(
                NodeView(
                    node_id=record.name,
                    url=record.url,
                    status=status,
                    heartbeat_at=record.heartbeat_at,
                    sessions=held.get(record.name, []),
                )
            )
        return views

    async def drain(self, node_id: str, *, draining: bool = True) -> NodeView:
        """Have the node hand its sessions to the others (in a few placement rounds); with
        `draining=False`, let it take sessions again."""
        async with self.db.write() as tx:
            record = await nodes.by_name(tx, node_id)
            if record is None:
                raise NotFound(f"No node named {node_id}.", code="node_not_found")
            status = NodeStatus.DRAINING if draining else NodeStatus.RUNNING
            if not await nodes.set_status(tx, record.id, status):
                raise BadRequest(
                    f"Node {node_id} is {record.status}: only a running node can be "
                    "drained, or taken back from draining.",
                    code="node_not_running",
                )
        return next(view for view in await self.list() if view.node_id == node_id)
