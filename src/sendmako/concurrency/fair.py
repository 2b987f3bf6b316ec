"""`FairSlots`: a bounded number of slots shared by many owners (accounts), each owner's
work split into groups (a webhook endpoint, say), handed out in turn rather than first
come, first served.

    slots = FairSlots(total=64, per_owner=8, per_group=4)
    async with slots.slot(owner=account_id, group=endpoint_id):
        ...

Three bounds hold at every moment: at most `total` slots are held, at most `per_owner` by
one owner and at most `per_group` by one group. A freed slot goes to the next owner in
turn that has a waiter it may still serve, and within that owner to its next group in
turn: an owner with ten thousand waiters and one with a single waiter alternate, so the
single one waits for at most one slot to free, whatever the other has queued. And because
one owner never holds more than `per_owner`, with `per_owner < total` an owner whose work
hangs leaves the other slots to everyone else.

A waiter that is cancelled leaves its queue (or gives back the slot it was just handed).
The slots live in one event loop and need no lock: every change happens between awaits.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class FairSlots:
    def __init__(self, *, total: int, per_owner: int, per_group: int) -> None:
        if min(total, per_owner, per_group) < 1:
            raise ValueError("every bound is at least 1")
        self.total = total
        self.per_owner = per_owner
        self.per_group = per_group
        self._held = 0
        self._by_owner: Counter[Hashable] = Counter()
        self._by_group: Counter[Hashable] = Counter()
        # Owners with waiters, in turn (dicts keep insertion order: popping and adding an
        # owner again sends it to the back); within each, its groups in turn.
        self._waiting: dict[Hashable, dict[Hashable, deque[asyncio.Future[None]]]] = {}

    @property
    def held(self) -> int:
        return self._held

    def held_by(self, owner: Hashable) -> int:
        return self._by_owner[owner]

    def waiting(self) -> int:
        return sum(len(q) for groups in self._waiting.values() for q in groups.values())

    @asynccontextmanager
    async def slot(self, *, owner: Hashable, group: Hashable) -> AsyncIterator[None]:
        """Wait for a slot, in turn; hold it for the block."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(owner, {}).setdefault(group, deque()).append(future)
        self._hand_out()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._free(owner, group)  # handed a slot just as it was cancelled
            else:
                self._forget(owner, group, future)
            raise
        try:
            yield
        finally:
            self._free(owner, group)

    def _free(self, owner: Hashable, group: Hashable) -> None:
        self._held -= 1
        self._by_owner[owner] -= 1
        if not self._by_owner[owner]:
            del self._by_owner[owner]
        self._by_group[group] -= 1
        if not self._by_group[group]:
            del self._by_group[group]
        self._hand_out()

    def _forget(self, owner: Hashable, group: Hashable, future: asyncio.Future[None]) -> None:
        groups = self._waiting.get(owner)
        if groups is None or group not in groups:
            return
        queue = groups[group]
        if future in queue:
            queue.remove(future)
        if not queue:
            del groups[group]
        if not groups:
            del self._waiting[owner]

    def _hand_out(self) -> None:
        while self._held < self.total and self._hand_one():
            pass

    def _hand_one(self) -> bool:
        """Give one slot to the next owner in turn that may take one; False if none may."""
        for owner, groups in self._waiting.items():
            if self._by_owner[owner] >= self.per_owner:
                continue
            for group, queue in groups.items():
                if self._by_group[group] >= self.per_group:
                    continue
                # A waiter cancelled since it queued leaves on its own, later: skip it.
                while queue and queue[0].done():
                    queue.popleft()
                if not queue:
                    continue
                future = queue.popleft()
                # Both go to the back of their turn, the group within its owner.
                del groups[group]
                if queue:
                    groups[group] = queue
                del self._waiting[owner]
                if groups:
                    self._waiting[owner] = groups
                self._held += 1
                self._by_owner[owner] += 1
                self._by_group[group] += 1
                future.set_result(None)
                return True
        return False
