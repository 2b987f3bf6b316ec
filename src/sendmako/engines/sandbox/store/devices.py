"""Queries on the sandbox engine's simulated phones."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.engines.sandbox.store.tables import SandboxDevice
from sendmako.storage.tables import WaSession


@dataclass(frozen=True, slots=True)
class LinkedDevice:
    session_id: str
    phone_number: str
    push_name: str | None


async def get(db: AsyncSession, session_id: str) -> LinkedDevice | None:
    found = (
        await db.execute(
            select(SandboxDevice)
            .join(WaSession, WaSession.id == SandboxDevice.session_pk)
            .where(WaSession.session_id == session_id)
        )
    ).scalar_one_or_none()
    if found is None:
        return None
    return LinkedDevice(session_id, found.phone_number, found.push_name)


async def link(db: AsyncSession, session_id: str, phone_number: str, push_name: str | None) -> None:
    pk = await db.scalar(select(WaSession.id).where(WaSession.session_id == session_id))
    if pk is None:
        return
    await db.execute(delete(SandboxDevice).where(SandboxDevice.session_pk == pk))
    db.add(SandboxDevice(session_pk=pk, phone_number=phone_number, push_name=push_name))
    await db.flush()


async def held_by_another_user(db: AsyncSession, phone_number: str, user_id: int) -> bool:
    """Another user's sandbox session is linked to this number. Call it in the transaction
    that links the number: until that ends, another transaction asking about the same
    number waits (SQLite has one writer; PostgreSQL takes a lock on the number)."""
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"sendmako.sandbox-number:{phone_number}"},
        )
    found = await db.scalar(
        select(SandboxDevice.session_pk)
        .join(WaSession, WaSession.id == SandboxDevice.session_pk)
        .where(SandboxDevice.phone_number == phone_number, WaSession.user_id != user_id)
        .limit(1)
    )
    return found is not None


async def unlink(db: AsyncSession, session_id: str) -> None:
    pk = await db.scalar(select(WaSession.id).where(WaSession.session_id == session_id))
    if pk is not None:
        await db.execute(delete(SandboxDevice).where(SandboxDevice.session_pk == pk))
