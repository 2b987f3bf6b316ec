"""Storage queries behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from sendmako import accounts
from sendmako.engines.sandbox.store import devices as sandbox_devices
from sendmako.errors import BadRequest
from sendmako.storage import api_keys, plans, users, wa_sessions
from sendmako.storage.db import Database, retryable


async def test_migrations_seed_the_default_plans(db: Database) -> None:
    async with db.read() as session:
        seeded = {plan.name: plan for plan in await plans.list_all(session)}
    assert set(seeded) == {"free", "pro", "unlimited"}
    assert seeded["unlimited"].max_sessions is None
    assert seeded["free"].max_sessions == 2


async def test_migrating_twice_changes_nothing(db: Database) -> None:
    await db.migrate()
    async with db.read() as session:
        assert len(await plans.list_all(session)) == 3


async def test_emails_are_unique(db: Database) -> None:
    async with db.write() as tx:
        await users.create(tx, "a@example.com", plan="free")
    with pytest.raises(IntegrityError):
        async with db.write() as tx:
            await users.create(tx, "a@example.com", plan="free")


async def test_a_failed_transaction_stores_nothing(db: Database) -> None:
    """Nothing half-way: an error inside `write()` rolls the whole transaction back."""

    async def fail_half_way() -> None:
        async with db.write() as tx:
            await users.create(tx, "half@example.com", plan="free")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_half_way()
    async with db.read() as session:
        assert await users.by_email(session, "half@example.com") is None


async def test_create_user_rejects_unknown_plans_and_duplicates(db: Database) -> None:
    async with db.write() as tx:
        await accounts.create_user(tx, "A@Example.com", plan="pro")
    for email, plan, field in [
        ("b@example.com", "gold", "plan"),
        ("a@example.com", "pro", "email"),
    ]:
        with pytest.raises(BadRequest) as caught:
            async with db.write() as tx:
                await accounts.create_user(tx, email, plan=plan)
        assert caught.value.field == field


async def test_key_lookup_revocation_and_last_use(db: Database) -> None:
    async with db.write() as tx:
        _user, key = await accounts.create_user(tx, "k@example.com", plan="free")
    digest = accounts.hash_key(key.secret)
    when = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    async with db.write() as tx:
        await api_keys.touch(tx, key.record.id, when)
        owner = await api_keys.owner_of(tx, digest)
    assert owner is not None
    assert (owner.user.email, owner.revoked, owner.last_used_at) == ("k@example.com", False, when)
    async with db.write() as tx:
        assert await api_keys.revoke(tx, key.record.id, when + timedelta(minutes=1))
        assert not await api_keys.revoke(tx, key.record.id, when), "revoking twice is a no-op"
        owner = await api_keys.owner_of(tx, digest)
    assert owner is not None
    assert owner.revoked


async def test_session_ids_and_state(db: Database) -> None:
    async with db.write() as tx:
        user = await users.create(tx, "s@example.com", plan="free")
        first = await wa_sessions.create(
            tx,
            user.id,
            session_name="a",
            engine="sandbox",
            status="connecting",
            pacing_ms=1000,
            owner="n1",
        )
        second = await wa_sessions.create(
            tx,
            user.id,
            session_name="b",
            engine="sandbox",
            status="connecting",
            pacing_ms=1000,
            owner="n1",
        )
        held = await wa_sessions.set_state(
            tx,
            first.session_id,
            wa_sessions.Hold("n1", first.lease_token),
            status="connected",
            detail=None,
            phone_number="22241857975",
        )
        # A node whose hold is stale (another node took the session since) writes nothing.
        stale = await wa_sessions.set_state(
            tx,
            second.session_id,
            wa_sessions.Hold("n1", second.lease_token - 1),
            status="connected",
            detail=None,
        )
    assert (held, stale) == (True, False)
    assert first.session_id == f"user_{user.id}"
    assert second.session_id == f"user_{user.id}_{second.id}"
    async with db.read() as session:
        stored = await wa_sessions.get(session, first.session_id)
        assert await wa_sessions.count_for_user(session, user.id) == 2
    assert stored is not None
    assert (stored.status, stored.phone_number) == ("connected", "22241857975")
    async with db.read() as session:
        untouched = await wa_sessions.get(session, second.session_id)
    assert untouched is not None
    assert untouched.status == "connecting"
    assert stored.created_at.tzinfo is not None


async def test_deleting_a_session_deletes_its_sandbox_device(db: Database) -> None:
    async with db.write() as tx:
        user = await users.create(tx, "d@example.com", plan="free")
        record = await wa_sessions.create(
            tx,
            user.id,
            session_name="a",
            engine="sandbox",
            status="connecting",
            pacing_ms=0,
            owner="n",
        )
        await sandbox_devices.link(tx, record.session_id, "22241857975", "Alassane")
    async with db.read() as session:
        device = await sandbox_devices.get(session, record.session_id)
    assert device is not None
    assert device.push_name == "Alassane"
    async with db.write() as tx:
        await wa_sessions.delete_one(tx, record.session_id)
    async with db.read() as session:
        assert await sandbox_devices.get(session, record.session_id) is None


async def test_concurrent_writers_do_not_collide(db: Database) -> None:
    """Twenty concurrent write transactions all commit (SQLite serialises them)."""

    async def add(index: int) -> None:
        async with db.write() as tx:
            await users.create(tx, f"c{index}@example.com", plan="free")

    await asyncio.gather(*(add(i) for i in range(20)))
    async with db.read() as session:
        assert await users.count(session) == 20


async def test_a_database_error_never_carries_the_values_it_was_given(db: Database) -> None:
    """Unexpected database errors are logged with their message: the statement's values
    (webhook secrets, password hashes, message text) must not be in it."""
    async with db.write() as tx:
        await users.create(tx, "dup@example.com", plan="free")
    with pytest.raises(IntegrityError) as caught:
        async with db.write() as tx:
            await users.create(tx, "dup@example.com", plan="free")
    assert "[SQL:" in str(caught.value), "the statement is still there, for whoever debugs"
    assert "dup@example.com" not in str(caught.value)


def test_postgresqls_deadlock_and_serialization_failures_ask_for_the_transaction_again() -> None:
    """As SQLAlchemy wraps them: the driver's error is `orig`, or the cause of it."""

    class DriverError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    class Wrapped(Exception):
        def __init__(self, orig: BaseException) -> None:
            super().__init__("wrapped")
            self.orig = orig

    adapted = RuntimeError("adapted")
    adapted.__cause__ = DriverError("40P01")
    assert retryable(Wrapped(adapted))
    assert retryable(Wrapped(DriverError("40001")))
    assert not retryable(Wrapped(DriverError("23505")))  # a unique violation stays an error
    assert not retryable(ValueError("no database here"))
