"""Which node runs each session, when several share the database (DESIGN.md "Growing past
one machine"). No consensus of our own: PostgreSQL holds the truth.

A session is held by one node (`wa_sessions.owner`) with a fencing token that grows each
time it changes hands; the hold lasts as long as that node's lease (sessions/lease.py), so
a node renews all its holds with one heartbeat. Each node, every round:
- counts the live nodes and the sessions, and takes its share: ceil(sessions / nodes that
  take sessions). A draining node's share is 0;
- holding fewer, it claims sessions nobody live holds (a dead node's, a released one)
  with `FOR UPDATE SKIP LOCKED`, so two nodes never claim the same one;
- holding more, it hands the surplus over: it stops running them first, then releases
  them, so they never run on two nodes at once.

A node that stops acting for a session stops writing for it too: its writes carry its
token, and a write with a stale one changes nothing (wa_sessions.set_state).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.storage import nodes, wa_sessions, webhooks
from sendmako.storage.db import Database
from sendmako.storage.nodes import NodeRecord, NodeStatus
from sendmako.storage.records import SessionRecord

# Sessions a node claims or hands over in one round: a joining or draining node moves
# its share over a few rounds rather than all at once.
MOVES_PER_ROUND = 25


@dataclass(frozen=True, slots=True)
class Round:
    """What a round decided for this node."""

    held: list[SessionRecord]  # every session it holds now, claims included
    claimed: list[SessionRecord]  # taken in this round: to start here
    surplus: list[SessionRecord]  # to stop here, then release


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Placement:
    def __init__(
        self,
        db: Database,
        node: str,
        *,
        clock: Callable[[], datetime] = _utcnow,
        moves_per_round: int = MOVES_PER_ROUND,
    ) -> None:
        self.db = db
        self.node = node
        self.clock = clock
        self.moves_per_round = moves_per_round

    async def round(self) -> Round:
        async with self.db.write() as tx:
            live = await self._live(tx)
            takers = [node for node in live if node.status == NodeStatus.RUNNING]
            counts = await wa_sessions.count_by_owner(tx)
            mine = counts.get(self.node, 0)
            me = next((node for node in live if node.name == self.node), None)
            if me is None:
                share = 0  # this node's lease ran out: it takes nothing
            elif me.status != NodeStatus.RUNNING:
                # Draining: everything goes, as long as some node can take it.
                share = 0 if any(node.name != self.node for node in takers) else mine
            else:
                share = math.ceil(sum(counts.values()) / len(takers))
            claimed = await wa_sessions.claim(
                tx,
                self.node,
                [node.name for node in live],
                min(share - mine, self.moves_per_round),
            )
            held = await wa_sessions.held_by(tx, self.node)
            if me is not None:
                # A dead node's other work is taken over in the same round: the webhook
                # deliveries it had claimed go back to the outbox for any live node.
                await webhooks.release_dead(tx, [node.name for node in live])
        surplus = max(0, len(held) - share) if me is not None else 0
        # The newest go first: the oldest sessions of a node stay where they are.
        newest_first = sorted(held, key=lambda record: record.id, reverse=True)
        return Round(
            held=held, claimed=claimed, surplus=newest_first[: min(surplus, self.moves_per_round)]
        )

    async def least_loaded(self) -> str:
        """The live node that takes sessions and holds the fewest (this one on a tie)."""
        async with self.db.read() as db:
            takers = [node for node in await self._live(db) if node.status == NodeStatus.RUNNING]
            counts = await wa_sessions.count_by_owner(db)
        if not takers:
            return self.node
        return min(
            takers, key=lambda node: (counts.get(node.name, 0), node.name != self.node, node.name)
        ).name

    async def live_nodes(self) -> list[NodeRecord]:
        async with self.db.read() as db:
            return await self._live(db)

    async def _live(self, db: AsyncSession) -> list[NodeRecord]:
        now = self.clock()
        return [node for node in await nodes.running(db) if node.expires_at > now]
