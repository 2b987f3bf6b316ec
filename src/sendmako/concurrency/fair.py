"""`FairSlots`: a bounded number of slots shared by many owners (accounts), each owner's
work split into groups (a webhook endpoint, say), handed out in turn rather than first
come, first served.

    slots = FairSlots(total=64, per_owner=8, per_group=4)
    async with slots.slot(owner=account_id, group=endpoint_id):
        ...

Three bounds hold at every moment: at most `total` slots are held, at most `per_owner` by
one owner and at most `per_group` by one group. A freed slot goes to the next owner in
turn that has a waiter it may still serve, and within that owner to its next group in
turn (the one served least recently goes first): an owner with ten thousand waiters and
one with a single waiter alternate, so the single one waits for at most one slot to free,
whatever the other has queued. And because
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
        # Owners with waiters, and within each its groups with waiters.
        self._waiting: dict[Hashable, dict[Hashable, deque[asyncio.Future[None]]]] = {}
        # When each owner and group (with waiters or slots) was last handed a slot: the
        # least recent goes first. Forgotten once idle; back, they go first.
        self._owner_served: dict[Hashable, int] = {}
        self._group_served: dict[Hashable, int] = {}
        self._tick = 0

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
            if owner not in self._waiting:
                self._owner_served.pop(owner, None)
        self._by_group[group] -= 1
        if not self._by_group[group]:
            del self._by_group[group]
            if group not in self._waiting.get(owner, ()):
                self._group_served.pop(group, None)
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
            if not self._by_group[group]:
                self._group_served.pop(group, None)
        if not groups:
            del self._waiting[owner]
            if not self._by_owner[owner]:
                self._owner_served.pop(owner, None)

    def _hand_out(self) -> None:
        while self._held < self.total and self._hand_one():
            pass

    def _hand_one(self) -> bool:
        """Give one slot to the owner served least recently that may take one, to its
        group served least recently; False if none may."""
        owners = sorted(self._waiting, key=lambda owner: self._owner_served.get(owner, 0))
        for owner in owners:
            if self._by_owner[owner] >= self.per_owner:
                continue
            groups = self._waiting[owner]
            for group in sorted(groups, key=lambda group: self._group_served.get(group, 0)):
                if self._by_group[group] >= self.per_group:
                    continue
                queue = groups[group]
                # A waiter cancelled since it queued leaves on its own, later: skip it.
                while queue and queue[0].done():
                    queue.popleft()
                if not queue:
                    continue
                future = queue.popleft()
                if not queue:
                    del groups[group]
                if not groups:
                    del self._waiting[owner]
                self._tick += 1
                self._owner_served[owner] = self._group_served[group] = self._tick
                self._held += 1
                self._by_owner[owner] += 1
                self._by_group[group] += 1
                future.set_result(None)
                return True
        return False
