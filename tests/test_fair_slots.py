"""FairSlots: slots handed out in turn between owners and their groups, never more than
the bounds, whatever one owner has queued."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

import pytest

from sendmako.concurrency.fair import FairSlots


class Holders:
    """Tasks that take a slot and hold it until told to let go; records the order slots
    were handed out in."""

    def __init__(self, slots: FairSlots) -> None:
        self.slots = slots
        self.order: list[str] = []
        self._release: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def queue(self, name: str, owner: Hashable, group: Hashable) -> None:
        self._release[name] = asyncio.Event()

        async def hold() -> None:
            async with self.slots.slot(owner=owner, group=group):
                self.order.append(name)
                await self._release[name].wait()

        self.tasks[name] = asyncio.create_task(hold())

    async def settle(self) -> None:
        for _ in range(5):  # the hand-outs are callbacks, a few loop turns away at most
            await asyncio.sleep(0)

    async def let_go(self, name: str) -> None:
        self._release[name].set()
        await self.tasks[name]
        await self.settle()

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


async def test_an_owner_with_a_long_queue_does_not_hold_back_a_newcomer() -> None:
    """Alice queues ten; Bob queues one after them: Bob's is the next one served."""
    slots = FairSlots(total=2, per_owner=2, per_group=2)
    holders = Holders(slots)
    for n in range(10):
        holders.queue(f"a{n}", "alice", "hook-a")
    holders.queue("b0", "bob", "hook-b")
    await holders.settle()
    assert holders.order == ["a0", "a1"]
    await holders.let_go("a0")
    assert holders.order == ["a0", "a1", "b0"]
    await holders.close()


async def test_no_owner_or_group_holds_more_than_its_bound() -> None:
    """Bounds of 4 per owner and 2 per group: Alice's two endpoints get 2 each, Bob's
    work goes on beside them."""
    slots = FairSlots(total=8, per_owner=4, per_group=2)
    holders = Holders(slots)
    for n in range(5):
        holders.queue(f"a1-{n}", "alice", "hook-a1")
        holders.queue(f"a2-{n}", "alice", "hook-a2")
        holders.queue(f"a3-{n}", "alice", "hook-a3")
    holders.queue("b0", "bob", "hook-b")
    await holders.settle()
    assert slots.held_by("alice") == 4
    assert sorted(holders.order) == ["a1-0", "a1-1", "a2-0", "a3-0", "b0"]
    assert slots.held == 5
    await holders.close()


async def test_groups_of_one_owner_take_turns() -> None:
    slots = FairSlots(total=1, per_owner=1, per_group=1)
    holders = Holders(slots)
    for n in range(3):
        holders.queue(f"x{n}", "alice", "x")
    for n in range(3):
        holders.queue(f"y{n}", "alice", "y")
    await holders.settle()
    for name in ["x0", "y0", "x1", "y1", "x2"]:
        await holders.let_go(name)
    assert holders.order == ["x0", "y0", "x1", "y1", "x2", "y2"]
    await holders.close()


async def test_a_cancelled_waiter_leaves_its_place_and_frees_nothing_it_did_not_hold() -> None:
    slots = FairSlots(total=1, per_owner=1, per_group=1)
    holders = Holders(slots)
    holders.queue("a0", "alice", "a")
    holders.queue("b0", "bob", "b")
    holders.queue("c0", "carol", "c")
    await holders.settle()
    holders.tasks["b0"].cancel()
    await holders.settle()
    await holders.let_go("a0")
    assert holders.order == ["a0", "c0"]
    assert slots.held == 1
    assert slots.waiting() == 0
    await holders.close()
    assert slots.held == 0


async def test_a_waiter_cancelled_after_it_was_handed_a_slot_gives_it_back() -> None:
    slots = FairSlots(total=1, per_owner=1, per_group=1)
    held = slots.slot(owner="alice", group="a")
    await held.__aenter__()
    holders = Holders(slots)
    holders.queue("b0", "bob", "b")
    holders.queue("c0", "carol", "c")
    await holders.settle()
    await held.__aexit__(None, None, None)  # hands the slot to b0 at once...
    holders.tasks["b0"].cancel()  # ...cancelled before it could run
    await holders.settle()
    assert holders.order == ["c0"]
    assert slots.held == 1
    await holders.close()
    assert slots.held == 0


def test_bounds_are_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FairSlots(total=4, per_owner=0, per_group=1)
