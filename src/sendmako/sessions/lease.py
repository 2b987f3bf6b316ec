"""This node's lease on its database.

A node takes the lease as it starts, renews it every `heartbeat` seconds and gives it up on
a clean stop. On a single node (SQLite, or no Redis), another node starting on the same
database while it is live is refused (`NodeRefused`): each would run every WhatsApp number.
Several nodes (PostgreSQL and Redis) each hold a lease, and each session is held by one of
them for as long as its lease lives (sessions/placement.py).

A lease not renewed for `expires_after` seconds is dead: its node crashed or lost the
database, and the next node to start takes it. A node restarted on the same host and data
directory (systemd, after a crash) need not wait that long: a lease whose process is gone
is taken over at once. Two live processes on one data directory are still refused.

Every lease taken gets a fencing token larger than any before it on this database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from sendmako import log
from sendmako.errors import SendmakoError
from sendmako.storage import nodes
from sendmako.storage.db import Database
from sendmako.storage.nodes import NewLease, NodeRecord

logger = log.get(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
# Whether the process `pid` of this host, which took a lease at the given time, still runs.
HolderAlive = Callable[[int, datetime], bool]

HEARTBEAT_SECONDS = 5.0
# Four heartbeats: a database busy for a few seconds, or one slow write, is not a death.
EXPIRES_AFTER_SECONDS = 20.0
# Renewals failing for this part of the lease's life: stop acting before it runs out.
FENCE = 0.7
# A process's start time is known to about a second (Linux counts it from the boot time,
# in whole seconds); a pid reused within that second of the lease is taken for the holder.
START_TIME_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class LeaseTimings:
    heartbeat: float = HEARTBEAT_SECONDS  # seconds between two renewals
    expires_after: float = EXPIRES_AFTER_SECONDS  # a lease not renewed this long is dead


@dataclass(frozen=True)
class NodeIdentity:
    """Who takes the lease. `name` is the same on every start on this host and data
    directory (wiring.node_name); the pid tells one start from the next."""

    name: str
    host: str
    pid: int
    data_dir: str
    url: str  # its public URL

    @classmethod
    def of_this_process(cls, name: str, data_dir: Path, url: str) -> NodeIdentity:
        return cls(
            name=name,
            host=socket.gethostname(),
            pid=os.getpid(),
            data_dir=str(data_dir.resolve()),
            url=url,
        )

    def shares_data_dir(self, node: NodeRecord) -> bool:
        return node.host == self.host and node.data_dir == self.data_dir


class NodeRefused(SendmakoError):
    """Another node holds the database's lease: this one must not start."""

    code = "node_refused"

    def __init__(
        self, me: NodeIdentity, holder: NodeRecord, now: datetime, *, shared: bool = False
    ) -> None:
        self.holder = holder
        seen = max(0, round((now - holder.heartbeat_at).total_seconds()))
        left = max(0, round((holder.expires_at - now).total_seconds()))
        if me.shares_data_dir(holder):
            first = (
                f"another Sendmako process (pid {holder.pid}) is running on this data "
                f"directory, {holder.data_dir}, and this database."
            )
        else:
            first = "another Sendmako node is running on this database."
        super().__init__(
            f"{first}\n"
            f"  node:      {holder.name} (pid {holder.pid} on {holder.host}, data directory "
            f"{holder.data_dir}, {holder.url})\n"
            f"  started:   {holder.started_at:%Y-%m-%d %H:%M:%S} UTC\n"
            f"  last seen: {holder.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC ({seen} s ago)\n"
            + (
                "Each node needs a data directory of its own (SENDMAKO_DATA_DIR).\n"
                if shared
                else "Several nodes on one database need PostgreSQL and Redis "
                "(SENDMAKO_DATABASE_URL=postgresql+asyncpg://..., SENDMAKO_REDIS_URL; README "
                '"Running several nodes"); without them each WhatsApp number would run '
                "twice.\n"
                "To go on, stop that node, or give this one a database of its own "
                "(SENDMAKO_DATABASE_URL, or another SENDMAKO_DATA_DIR for the default "
                "SQLite file).\n"
            )
            + f"If that node has crashed, its lease expires at {holder.expires_at:%H:%M:%S} "
            f"UTC (in {left} s): start this one again then.",
            code=self.code,
        )


def holder_alive(pid: int, lease_started_at: datetime) -> bool:
    """Whether the process `pid` of this host, which took a lease at `lease_started_at`,
    still runs. A process started after the lease was taken is another one that reuses a
    dead holder's pid: a container's server is pid 1 at every start."""
    try:
        process = psutil.Process(pid)
        started = float(process.create_time())
        zombie = process.status() == psutil.STATUS_ZOMBIE  # killed, not reaped yet
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # another user's process: it exists, and may well be the holder
    return not zombie and started <= lease_started_at.timestamp() + START_TIME_SLACK_SECONDS


def _utcnow() -> datetime:
    return datetime.now(UTC)


class NodeLease:
    """This node's hold on its database: taken by `acquire`, renewed by the heartbeats
    `start` runs, given up by `release`."""

    def __init__(
        self,
        db: Database,
        record: NodeRecord,
        *,
        timings: LeaseTimings,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self.db = db
        self.record = record
        self.timings = timings
        self.clock = clock
        self.sleep = sleep
        self._heartbeats: asyncio.Task[None] | None = None

    @property
    def token(self) -> int:
        return self.record.token

    @classmethod
    async def acquire(
        cls,
        db: Database,
        me: NodeIdentity,
        *,
        timings: LeaseTimings | None = None,
        clock: Clock = _utcnow,
        alive: HolderAlive = holder_alive,
        sleep: Sleep = asyncio.sleep,
        shared: bool = False,
    ) -> NodeLease:
        """Take the database's lease, or raise `NodeRefused` naming the live node that
        holds it. Leases that ran out are marked expired: their nodes are taken over.

        `shared` (several nodes: PostgreSQL and Redis): other live nodes are welcome; only
        another live process on this very data directory is refused."""
        timings = timings or LeaseTimings()
        async with db.write() as tx:
            await nodes.lock(tx)
            now = clock()
            held = await nodes.running(tx)
            gone = []
            for node in held:
                if node.expires_at <= now:
                    gone.append(node.id)  # ran out: its node is taken over
                    continue
                if me.shares_data_dir(node) and not alive(node.pid, node.started_at):
                    gone.append(node.id)  # a restart after a crash: its process is gone
                    continue
                if shared and not me.shares_data_dir(node):
                    continue  # another node of the cluster
                raise NodeRefused(me, node, now, shared=shared)
            await nodes.mark_expired(tx, gone)
            record = await nodes.take(
                tx,
                NewLease(
                    name=me.name,
                    host=me.host,
                    pid=me.pid,
                    data_dir=me.data_dir,
                    url=me.url,
                    token=await nodes.last_token(tx) + 1,
                    now=now,
                    expires_at=now + timedelta(seconds=timings.expires_after),
                ),
            )
        logger.info("node.lease_taken", node=record.name, fencing_token=record.token)
        return cls(db, record, timings=timings, clock=clock, sleep=sleep)

    async def renew(self) -> bool:
        """One heartbeat. False when another node has taken the lease since."""
        now = self.clock()
        async with self.db.write() as tx:
            return await nodes.renew(
                tx,
                self.record.id,
                self.record.token,
                now,
                now + timedelta(seconds=self.timings.expires_after),
            )

    def start(
        self, on_lost: Callable[[], None], on_expiring: Callable[[], None] | None = None
    ) -> None:
        """Renew the lease every `heartbeat` seconds until `release`; call `on_lost` once
        if another node has taken it (this one was stalled past its expiry), and
        `on_expiring` when renewals have failed for so long that the lease is about to run
        out (the database unreachable): the other nodes will soon take over this one's
        sessions, which must stop running here first."""
        self._heartbeats = asyncio.create_task(
            self._beat(on_lost, on_expiring), name="node-heartbeats"
        )

    async def release(self) -> None:
        """Stop the heartbeats and give the lease up: the next node may start at once."""
        if self._heartbeats is not None:
            self._heartbeats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeats
            self._heartbeats = None
        async with self.db.write() as tx:
            released = await nodes.release(tx, self.record.id, self.record.token, self.clock())
        logger.info("node.lease_released", node=self.record.name, released=released)

    async def _beat(
        self, on_lost: Callable[[], None], on_expiring: Callable[[], None] | None
    ) -> None:
        renewed_from = self.clock()  # the expiry last written counts from then
        warned = False
        renewal: asyncio.Future[bool] | None = None
        while True:
            await self.sleep(self.timings.heartbeat)
            if renewal is None:  # else the last one still hangs (a partition): wait more
                attempt, renewal = self.clock(), asyncio.ensure_future(self.renew())
            try:
                # A heartbeat in flight when `release` stops the loop finishes its
                # transaction first: cut short, it could leave the database locked.
                async with asyncio.timeout(self.timings.heartbeat):
                    held = await asyncio.shield(renewal)
            except asyncio.CancelledError:
                await asyncio.wait({renewal})
                raise
            # A database hiccup: the next heartbeat that gets through says whether the lease
            # is still this node's.
            except Exception as exc:  # noqa: BLE001 - the task's outermost loop
                if renewal.done():
                    renewal = None
                logger.warning("node.heartbeat_failed", error=repr(exc))
                unrenewed = (self.clock() - renewed_from).total_seconds()
                if on_expiring and not warned and unrenewed > self.timings.expires_after * FENCE:
                    logger.error(  # noqa: TRY400 - the cause was logged just above
                        "node.lease_expiring", node=self.record.name, seconds=unrenewed
                    )
                    warned = True
                    on_expiring()
                continue
            renewal = None
            renewed_from, warned = attempt, False
            if not held:
                logger.error(
                    "node.lease_lost",
                    node=self.record.name,
                    fencing_token=self.record.token,
                    detail="another node took the database after this one missed its heartbeats",
                )
                on_lost()
                return
