"""The node lease's rules, on SQLite and PostgreSQL, with an injected clock: one live node
per database, a dead one's lease taken over, a crashed process's at once on its own host."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sendmako.sessions.lease import NodeIdentity, NodeLease, NodeRefused, holder_alive
from sendmako.storage import nodes
from sendmako.storage.db import Database
from sendmako.storage.nodes import NodeRecord, NodeStatus

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

A = NodeIdentity(name="host-a:aaaa", host="host-a", pid=100, data_dir="/srv/a", url="http://a")
B = NodeIdentity(name="host-b:bbbb", host="host-b", pid=200, data_dir="/srv/b", url="http://b")
A_AGAIN = replace(A, pid=101)  # A started again on the same host and data directory


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Probe:
    """An injected `holder_alive`: answers `alive`, and remembers what it was asked."""

    def __init__(self, *, alive: bool) -> None:
        self.alive = alive
        self.asked: list[tuple[int, datetime]] = []

    def __call__(self, pid: int, started_at: datetime) -> bool:
        self.asked.append((pid, started_at))
        return self.alive


class Steps:
    """An injected `sleep` for the heartbeats: each waits until the test lets it through."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._go: asyncio.Queue[None] = asyncio.Queue()
        self._entered = asyncio.Condition()

    async def sleep(self, seconds: float) -> None:
        async with self._entered:
            self.asked.append(seconds)
            self._entered.notify_all()
        await self._go.get()

    async def beat(self) -> None:
        """Let one heartbeat through, and return once it is done (the next sleep began)."""
        await self._sleeps(1)
        entered = len(self.asked)
        self._go.put_nowait(None)
        await self._sleeps(entered + 1)

    async def release_one(self) -> None:
        await self._sleeps(1)
        self._go.put_nowait(None)

    async def _sleeps(self, count: int) -> None:
        async with asyncio.timeout(5), self._entered:
            await self._entered.wait_for(lambda: len(self.asked) >= count)


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def take(
    db: Database, me: NodeIdentity, clock: Clock, *, alive: Probe | None = None
) -> NodeLease:
    return await NodeLease.acquire(db, me, clock=clock, alive=alive or Probe(alive=True))


async def row(db: Database, lease: NodeLease) -> NodeRecord:
    async with db.read() as session:
        record = await nodes.get(session, lease.record.id)
    assert record is not None
    return record


async def test_the_first_node_takes_the_lease(db: Database, clock: Clock) -> None:
    """Token 1, running, live for four heartbeats (20 s), with who and where it is."""
    lease = await take(db, A, clock)
    stored = await row(db, lease)
    assert stored.token == lease.token == 1
    assert stored.status == NodeStatus.RUNNING
    assert (stored.name, stored.host, stored.pid, stored.data_dir, stored.url) == (
        "host-a:aaaa",
        "host-a",
        100,
        "/srv/a",
        "http://a",
    )
    assert stored.started_at == stored.heartbeat_at == T0
    assert stored.expires_at == T0 + timedelta(seconds=20)


async def test_a_second_node_is_refused_while_the_first_is_live(db: Database, clock: Clock) -> None:
    """The refusal names the node, when it was last seen, that several nodes are not
    supported, what to do, and when a crashed node's lease would expire."""
    first = await take(db, A, clock)
    clock.advance(19)
    with pytest.raises(NodeRefused) as refused:
        await take(db, B, clock)
    message = refused.value.message
    assert "another Sendmako node is running on this database" in message
    assert "host-a:aaaa (pid 100 on host-a, data directory /srv/a, http://a)" in message
    assert "last seen: 2026-11-26 10:00:00 UTC (19 s ago)" in message
    assert "Several nodes on one database need PostgreSQL and Redis" in message
    assert "stop that node, or give this one a database of its own" in message
    assert "its lease expires at 10:00:20 UTC (in 1 s)" in message
    assert refused.value.holder.name == A.name
    stored = await row(db, first)
    assert (stored.status, stored.token) == (NodeStatus.RUNNING, 1)


async def test_heartbeats_keep_the_lease_live(db: Database, clock: Clock) -> None:
    lease = await take(db, A, clock)
    clock.advance(15)
    assert await lease.renew()
    clock.advance(15)  # 30 s after it started, 15 s after its last heartbeat
    with pytest.raises(NodeRefused, match=r"\(15 s ago\)"):
        await take(db, B, clock)


async def test_a_lease_not_renewed_runs_out_and_is_taken_over(db: Database, clock: Clock) -> None:
    """After 20 s without a heartbeat another node starts with a larger token, and the old
    holder's next heartbeat learns it lost the lease."""
    first = await take(db, A, clock)
    clock.advance(20)
    second = await take(db, B, clock)
    assert second.token == 2
    assert (await row(db, first)).status == NodeStatus.EXPIRED
    assert not await first.renew()
    assert (await row(db, first)).status == NodeStatus.EXPIRED


async def test_a_clean_stop_frees_the_database_at_once(db: Database, clock: Clock) -> None:
    first = await take(db, A, clock)
    await first.release()
    stored = await row(db, first)
    assert (stored.status, stored.expires_at) == (NodeStatus.STOPPED, T0)
    second = await take(db, B, clock)
    assert second.token == 2


async def test_a_restart_after_a_crash_takes_over_at_once(db: Database, clock: Clock) -> None:
    """Same host and data directory, the holder's process gone: no wait for the expiry.
    The node keeps its row; the token grows, so the crashed process's lease is stale."""
    crashed = await take(db, A, clock)
    clock.advance(1)
    probe = Probe(alive=False)
    restarted = await take(db, A_AGAIN, clock, alive=probe)
    assert probe.asked == [(100, T0)]
    assert restarted.record.id == crashed.record.id
    assert (restarted.token, restarted.record.pid) == (2, 101)
    assert not await crashed.renew()


async def test_two_live_processes_on_one_data_dir_are_refused(db: Database, clock: Clock) -> None:
    await take(db, A, clock)
    with pytest.raises(NodeRefused, match="pid 100\\) is running on this data directory"):
        await take(db, A_AGAIN, clock, alive=Probe(alive=True))


async def test_a_pid_means_nothing_on_another_host(db: Database, clock: Clock) -> None:
    """A node elsewhere is never asked about by pid: only its expiry frees the database."""
    await take(db, A, clock)
    probe = Probe(alive=False)
    elsewhere = replace(A_AGAIN, host="host-c")
    with pytest.raises(NodeRefused):
        await take(db, elsewhere, clock, alive=probe)
    with pytest.raises(NodeRefused):
        await take(db, B, clock, alive=probe)
    assert probe.asked == []


async def test_tokens_grow_with_every_lease_taken(db: Database, clock: Clock) -> None:
    tokens = []
    for me in (A, B, A, B):
        lease = await take(db, me, clock)
        tokens.append(lease.token)
        await lease.release()
    assert tokens == [1, 2, 3, 4]


async def test_of_nodes_starting_at_once_only_one_starts(db_url: str, db: Database) -> None:
    """Each node has its own connection (and, on SQLite, its own in-process write lock):
    only the database can tell them apart."""
    others = [Database(db_url) for _ in range(4)]
    try:
        clock = Clock()
        results = await asyncio.gather(
            *(
                take(other, replace(B, name=f"host-{i}:{i}", host=f"host-{i}"), clock)
                for i, other in enumerate(others)
            ),
            return_exceptions=True,
        )
    finally:
        for other in others:
            await other.close()
    assert sum(isinstance(result, NodeLease) for result in results) == 1
    assert sum(isinstance(result, NodeRefused) for result in results) == 3


async def test_heartbeats_renew_every_period_until_released(db: Database, clock: Clock) -> None:
    steps = Steps()
    lease = await NodeLease.acquire(db, A, clock=clock, sleep=steps.sleep)
    lease.start(on_lost=lambda: pytest.fail("the lease is not lost"))
    for beat in range(1, 4):
        clock.advance(5)
        await steps.beat()
        stored = await row(db, lease)
        assert stored.heartbeat_at == T0 + timedelta(seconds=5 * beat)
        assert stored.expires_at == stored.heartbeat_at + timedelta(seconds=20)
    assert steps.asked == [5.0] * 4
    await lease.release()
    assert (await row(db, lease)).status == NodeStatus.STOPPED


async def test_a_node_that_lost_its_lease_is_told_once(db: Database, clock: Clock) -> None:
    """Stalled past its expiry while another node took over: its next heartbeat calls
    `on_lost` and the heartbeats end."""
    steps = Steps()
    lease = await NodeLease.acquire(db, A, clock=clock, sleep=steps.sleep)
    lost = asyncio.Event()
    calls: list[None] = []

    def on_lost() -> None:
        calls.append(None)
        lost.set()

    lease.start(on_lost=on_lost)
    clock.advance(25)
    await take(db, B, clock)
    await steps.release_one()
    async with asyncio.timeout(5):
        await lost.wait()
    await lease.release()  # ends nothing more, and gives back nothing it no longer holds
    assert calls == [None]
    assert (await row(db, lease)).status == NodeStatus.EXPIRED


def test_the_probe_tells_a_holder_from_a_reused_pid() -> None:
    """This process is alive for a lease it could have taken; not for one taken before it
    started (a container restarted as pid 1 again); a reaped process is gone."""
    assert holder_alive(os.getpid(), datetime.now(UTC))
    assert not holder_alive(os.getpid(), datetime.now(UTC) - timedelta(days=3650))
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not holder_alive(child.pid, datetime.now(UTC))
