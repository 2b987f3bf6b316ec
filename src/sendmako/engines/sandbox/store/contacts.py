"""Queries on sandbox sessions' simulated address books."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.engines.sandbox.store.tables import SandboxContact, SandboxDevice
from sendmako.model.simulation import AddressBookEntry
from sendmako.storage import upsert
from sendmako.storage.tables import WaSession, utcnow


@dataclass(frozen=True, slots=True)
class Known:
    phone: str
    name: str | None
    push_name: str | None  # of a sandbox session of the same account on this number, if any


async def replace(db: AsyncSession, session_pk: int, entries: Sequence[AddressBookEntry]) -> None:
    await db.execute(delete(SandboxContact).where(SandboxContact.session_pk == session_pk))
    await add(db, session_pk, entries)


async def add(db: AsyncSession, session_pk: int, entries: Sequence[AddressBookEntry]) -> None:
    """Add numbers to the address book; a number already in it takes the new name."""
    unique = {entry.phone: entry for entry in entries}
    if not unique:
        return
    statement = upsert.insert(db, SandboxContact)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[SandboxContact.session_pk, SandboxContact.phone],
            set_={"name": statement.excluded.name},
        ),
        [
            {"session_pk": session_pk, "phone": e.phone, "name": e.name, "added_at": utcnow()}
            for e in unique.values()
        ],
    )


async def lock_book(db: AsyncSession, session_pk: int) -> None:
    """Serialise changes to one address book (PostgreSQL: a lock on its session's row; SQLite
    serialises every write already), so that a size checked stays true until the commit."""
    await db.execute(select(WaSession.id).where(WaSession.id == session_pk).with_for_update())


async def size(db: AsyncSession, session_pk: int) -> int:
    found = await db.scalar(
        select(func.count())
        .select_from(SandboxContact)
        .where(SandboxContact.session_pk == session_pk)
    )
    return found or 0


async def present(db: AsyncSession, session_pk: int, phones: Sequence[str]) -> int:
    """How many of `phones` the address book holds already."""
    if not phones:
        return 0
    found = await db.scalar(
        select(func.count())
        .select_from(SandboxContact)
        .where(SandboxContact.session_pk == session_pk, SandboxContact.phone.in_(phones))
    )
    return found or 0


async def list_for(
    db: AsyncSession, session_pk: int, phones: Sequence[str] | None = None
) -> list[Known]:
    """The address book (or the entries for `phones`) with the push names of the sandbox
    sessions linked to each number: sessions of the address book's own account only. Other
    accounts' sessions are not shown, or anyone could learn their numbers and names by
    saving numbers to try."""
    owner = select(WaSession.user_id).where(WaSession.id == session_pk).scalar_subquery()
    pushed = (
        select(SandboxDevice.phone_number, func.max(SandboxDevice.push_name).label("push_name"))
        .join(WaSession, WaSession.id == SandboxDevice.session_pk)
        .where(WaSession.user_id == owner)
        .group_by(SandboxDevice.phone_number)
        .subquery()
    )
    query = (
        select(SandboxContact.phone, SandboxContact.name, pushed.c.push_name)
        .outerjoin(pushed, pushed.c.phone_number == SandboxContact.phone)
        .where(SandboxContact.session_pk == session_pk)
        .order_by(SandboxContact.phone)
    )
    if phones is not None:
        query = query.where(SandboxContact.phone.in_(phones))
    rows = await db.execute(query)
    return [Known(phone, name, push_name) for phone, name, push_name in rows]
