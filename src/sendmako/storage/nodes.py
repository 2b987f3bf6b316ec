"""Queries on the `nodes` table: the servers running on this database and their leases.
The rules (who may take a lease, when one has run out) are in sessions/lease.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, false, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage.tables import Node


class NodeStatus(StrEnum):
    RUNNING = "running"  # holds its lease and renews it at every heartbeat
    DRAINING = "draining"  # renews its lease but hands its sessions to the other nodes
    STOPPED = "stopped"  # released its lease on a clean stop
    EXPIRED = "expired"  # stopped renewing it; another node has taken the database since


_LIVE = (NodeStatus.RUNNING.value, NodeStatus.DRAINING.value)


@dataclass(frozen=True, slots=True)
class NodeRecord:
    id: int
    name: str
    host: str
    pid: int
    data_dir: str
    url: str
    status: NodeStatus
    token: int
    started_at: datetime
    heartbeat_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewLease:
    """What a node writes when it takes a lease."""

    name: str
    host: str
    pid: int
    data_dir: str
    url: str
    token: int
    now: datetime
    expires_at: datetime


def to_record(row: Node) -> NodeRecord:
    return NodeRecord(
        id=row.id,
        name=row.name,
        host=row.host,
        pid=row.pid,
        data_dir=row.data_dir,
        url=row.url,
        status=NodeStatus(row.status),
        token=row.token,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        expires_at=row.expires_at,
    )


async def lock(db: AsyncSession) -> None:
    """Let one transaction at a time read the leases and take one, until it ends: two
    nodes starting at once must not both find the database free."""
    if db.get_bind().dialect.name == "postgresql":
        # Conflicts with itself and with every write (heartbeats wait a few ms), not with
        # plain reads.
        await db.execute(text("LOCK TABLE nodes IN SHARE ROW EXCLUSIVE MODE"))
        return
    # SQLite has one writer at a time, across processes. A write as the transaction's
    # first statement takes that lock at once, even when it matches no row; a read first
    # would let two transactions read the same state before either writes.
    await db.execute(update(Node).where(false()).values(token=Node.token))


def live_tokens(now: datetime) -> Select[int]:
    """The tokens of the leases held now: what a node holds under another token (a dead
    node's, or its own before a restart) is nobody's any more."""
    return select(Node.token).where(Node.status.in_(_LIVE), Node.expires_at > now)


async def running(db: AsyncSession) -> list[NodeRecord]:
    """Nodes holding a lease (running or draining), live or not yet known to be dead."""
    rows = await db.scalars(select(Node).where(Node.status.in_(_LIVE)).order_by(Node.id))
    return [to_record(row) for row in rows]


async def all_nodes(db: AsyncSession) -> list[NodeRecord]:
    return [to_record(row) for row in await db.scalars(select(Node).order_by(Node.id))]


async def by_name(db: AsyncSession, name: str) -> NodeRecord | None:
    row = await db.scalar(select(Node).where(Node.name == name))
    return to_record(row) if row else None


async def set_status(db: AsyncSession, node_id: int, status: NodeStatus) -> bool:
    """Drain a live node (or take it back from draining)."""
    result = await db.execute(
        update(Node).where(Node.id == node_id, Node.status.in_(_LIVE)).values(status=status.value)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get(db: AsyncSession, node_id: int) -> NodeRecord | None:
    row = await db.get(Node, node_id)
    return to_record(row) if row else None


async def last_token(db: AsyncSession) -> int:
    """The largest fencing token ever handed out on this database (0: none yet)."""
    return (await db.scalar(select(func.max(Node.token)))) or 0


async def take(db: AsyncSession, lease: NewLease) -> NodeRecord:
    """Write the lease of the node named `lease.name`: its row is kept across restarts."""
    row = await db.scalar(select(Node).where(Node.name == lease.name))
    if row is None:
        row = Node(name=lease.name)
        db.add(row)
    row.host, row.pid, row.data_dir, row.url = lease.host, lease.pid, lease.data_dir, lease.url
    row.status, row.token = NodeStatus.RUNNING.value, lease.token
    row.started_at = row.heartbeat_at = lease.now
    row.expires_at = lease.expires_at
    await db.flush()
    return to_record(row)


async def mark_expired(db: AsyncSession, node_ids: list[int]) -> None:
    if node_ids:
        await db.execute(
            update(Node)
            .where(Node.id.in_(node_ids), Node.status.in_(_LIVE))
            .values(status=NodeStatus.EXPIRED.value)
        )


async def renew(
    db: AsyncSession, node_id: int, token: int, now: datetime, expires_at: datetime
) -> bool:
    """A heartbeat. False when the lease is no longer this one's (taken over since)."""
    result = await db.execute(
        update(Node)
        .where(Node.id == node_id, Node.token == token, Node.status.in_(_LIVE))
        .values(heartbeat_at=now, expires_at=expires_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(db: AsyncSession, node_id: int, token: int, now: datetime) -> bool:
    """Give the lease up (a clean stop): another node may take the database at once."""
    result = await db.execute(
        update(Node)
        .where(Node.id == node_id, Node.token == token, Node.status.in_(_LIVE))
        .values(status=NodeStatus.STOPPED.value, expires_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
