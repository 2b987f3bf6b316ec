"""`/api/admin`: the server's operators (admin users only; anyone else gets a 403)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.errors import Forbidden
from sendmako.sessions.nodes import NodeView
from sendmako.storage.nodes import NodeStatus
from sendmako.storage.records import UserRecord

router = APIRouter(prefix="/api/admin", tags=["admin"])


async def admin_user(user: CurrentUser) -> UserRecord:
    if not user.is_admin:
        raise Forbidden("This needs an admin's API key.", code="admin_only")
    return user


Admin = Annotated[UserRecord, Depends(admin_user)]
NodeIdPath = Annotated[str, Path(max_length=100, examples=["host-1:3f2a9c1d"])]


class NodeOut(BaseModel):
    node_id: str = Field(description="the node's name (SENDMAKO_CLUSTER__NODE_NAME)")
    url: str = Field(description="its public URL")
    status: NodeStatus = Field(
        description="running, draining (handing its sessions over), stopped, or expired "
        "(stopped renewing its lease: dead)"
    )
    heartbeat_at: datetime
    sessions: list[str] = Field(description="the sessions it runs")

    @classmethod
    def of(cls, view: NodeView) -> NodeOut:
        return cls(
            node_id=view.node_id,
            url=view.url,
            status=view.status,
            heartbeat_at=view.heartbeat_at,
            sessions=view.sessions,
        )


class NodesOut(BaseModel):
    success: bool = True
    nodes: list[NodeOut]


class NodeOutcome(BaseModel):
    success: bool = True
    node: NodeOut


@router.get("/nodes", responses=errors(403))
async def list_nodes(_admin: Admin, services: ServicesDep) -> NodesOut:
    """The nodes sharing this database (one, unless several run on PostgreSQL and Redis)."""
    return NodesOut(nodes=[NodeOut.of(view) for view in await services.nodes.list()])


@router.post("/nodes/{node_id}/drain", responses=errors(400, 403, 404))
async def drain_node(node_id: NodeIdPath, _admin: Admin, services: ServicesDep) -> NodeOutcome:
    """Move the node's sessions to the other nodes (for a rolling upgrade): it hands them
    over within a few placement rounds and takes no new ones. `sessions` empties as they
    go; then stop it."""
    return NodeOutcome(node=NodeOut.of(await services.nodes.drain(node_id)))


@router.post("/nodes/{node_id}/resume", responses=errors(400, 403, 404))
async def resume_node(node_id: NodeIdPath, _admin: Admin, services: ServicesDep) -> NodeOutcome:
    """Let a draining node take sessions again."""
    return NodeOutcome(node=NodeOut.of(await services.nodes.drain(node_id, draining=False)))
