"""The event stream's log: numbered per user, in commit order (a reader never sees a number
before an earlier one has committed), filtered, forgotten after the retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sendmako import accounts
from sendmako.storage import stream_events
from sendmako.storage.db import Database
from sendmako.storage.stream_events import NewStreamEvent

AT = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def events(*names: str, session_id: str = "s1") -> list[NewStreamEvent]:
    return [NewStreamEvent(session_id=session_id, name=name, body="{}") for name in names]


async def two_users(db: Database) -> tuple[int, int]:
    async with db.write() as tx:
        alice, _ = await accounts.create_user(tx, "alice@example.com", plan="free")
        bob, _ = await accounts.create_user(tx, "bob@example.com", plan="free")
    return alice.id, bob.id


async def test_each_user_has_its_own_numbers(db: Database) -> None:
    """Numbers start at 1 per user and follow on; filters leave events out without making
    the reader read them again."""
    alice, bob = await two_users(db)
    async with db.write() as tx:
        await stream_events.append(tx, alice, events("a", "b", "c"), AT)
        await stream_events.append(tx, bob, events("x", "y"), AT)
    async with db.write() as tx:
        await stream_events.append(tx, alice, events("d", session_id="s2"), AT)
    async with db.read() as tx:
        everything, read_to = await stream_events.after(
            tx, alice, 0, names=None, session_ids=None, limit=10
        )
        assert [(e.seq, e.name) for e in everything] == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
        assert read_to == 4
        bobs, _ = await stream_events.after(tx, bob, 0, names=None, session_ids=None, limit=10)
        assert [(e.seq, e.name) for e in bobs] == [(1, "x"), (2, "y")]
        filtered, read_to = await stream_events.after(
            tx, alice, 1, names=["c", "d"], session_ids=["s1"], limit=2
        )
        assert [e.name for e in filtered] == ["c"]
        assert read_to == 3  # b was read and left out: the next read starts after c
        assert await stream_events.last_seq(tx, alice) == 4
        assert await stream_events.last_seq(tx, 999) == 0


async def test_a_later_number_is_not_visible_before_an_earlier_one_commits(db: Database) -> None:
    """While one transaction holds number 1 uncommitted, another's number 2 cannot commit:
    a reader that saw 2 would skip 1 for ever."""
    alice, _ = await two_users(db)
    first_holds = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with db.write() as tx:
            await stream_events.append(tx, alice, events("first"), AT)
            first_holds.set()
            await release_first.wait()

    async def second() -> None:
        async with db.write() as tx:
            await stream_events.append(tx, alice, events("second"), AT)

    holding = asyncio.create_task(first())
    await first_holds.wait()
    waiting = asyncio.create_task(second())
    done, _ = await asyncio.wait({waiting}, timeout=0.5)
    assert not done, "a second transaction numbered events while the first was open"
    async with db.read() as tx:
        seen, _ = await stream_events.after(tx, alice, 0, names=None, session_ids=None, limit=10)
    assert seen == []
    release_first.set()
    await holding
    await waiting
    async with db.read() as tx:
        seen, _ = await stream_events.after(tx, alice, 0, names=None, session_ids=None, limit=10)
    assert [(e.seq, e.name) for e in seen] == [(1, "first"), (2, "second")]


async def test_old_events_are_forgotten_and_numbers_go_on(db: Database) -> None:
    """Pruning removes what is older than the cut; the next event keeps counting."""
    alice, _ = await two_users(db)
    async with db.write() as tx:
        await stream_events.append(tx, alice, events("old"), AT - timedelta(days=4))
        await stream_events.append(tx, alice, events("new"), AT)
    async with db.write() as tx:
        assert await stream_events.prune(tx, AT - timedelta(days=3)) == 1
    async with db.write() as tx:
        await stream_events.append(tx, alice, events("next"), AT)
    async with db.read() as tx:
        assert await stream_events.oldest_seq(tx, alice) == 2
        kept, _ = await stream_events.after(tx, alice, 0, names=None, session_ids=None, limit=10)
    assert [(e.seq, e.name) for e in kept] == [(2, "new"), (3, "next")]
