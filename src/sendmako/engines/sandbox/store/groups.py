"""Queries on the sandbox's simulated groups and their members."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.engines.sandbox.store.tables import SandboxGroup, SandboxGroupMember


@dataclass(frozen=True, slots=True)
class Member:
    phone: str
    role: str  # member, admin, superadmin
    seniority: int  # smaller joined earlier


@dataclass(frozen=True, slots=True)
class GroupState:
    jid: str
    subject: str
    description: str | None
    owner_phone: str | None
    creation: int
    announce: bool
    locked: bool
    invite_code: str | None
    members: tuple[Member, ...]  # longest-standing first

    def member(self, phone: str) -> Member | None:
        return next((m for m in self.members if m.phone == phone), None)


async def exists(db: AsyncSession, jid: str) -> bool:
    return await db.scalar(select(SandboxGroup.jid).where(SandboxGroup.jid == jid)) is not None


async def get(db: AsyncSession, jid: str, *, for_update: bool = False) -> GroupState | None:
    """The group and its members. `for_update` locks the group's row until the end of the
    transaction (PostgreSQL), so two changes to one group never interleave."""
    query = select(SandboxGroup).where(SandboxGroup.jid == jid)
    if for_update:
        query = query.with_for_update()
    row = await db.scalar(query)
    if row is None:
        return None
    return await _state(db, row)


async def by_invite(db: AsyncSession, code: str) -> GroupState | None:
    row = await db.scalar(select(SandboxGroup).where(SandboxGroup.invite_code == code))
    return await _state(db, row) if row else None


async def of_phone(db: AsyncSession, phone: str) -> list[GroupState]:
    rows = await db.scalars(
        select(SandboxGroup)
        .join(SandboxGroupMember, SandboxGroupMember.group_jid == SandboxGroup.jid)
        .where(SandboxGroupMember.phone == phone)
        .order_by(SandboxGroup.creation, SandboxGroup.jid)
    )
    return [await _state(db, row) for row in rows.all()]


async def create(
    db: AsyncSession, jid: str, *, subject: str, owner_phone: str, creation: int
) -> None:
    db.add(
        SandboxGroup(
            jid=jid,
            subject=subject,
            description=None,
            owner_phone=owner_phone,
            creation=creation,
            announce=False,
            locked=False,
            invite_code=None,
        )
    )
    await db.flush()


async def change(db: AsyncSession, jid: str, **values: object) -> None:
    """Set columns of the group: subject, description, announce, locked, invite_code."""
    await db.execute(update(SandboxGroup).where(SandboxGroup.jid == jid).values(values))


async def add_member(db: AsyncSession, jid: str, phone: str, role: str) -> None:
    db.add(SandboxGroupMember(group_jid=jid, phone=phone, role=role))
    await db.flush()


async def set_role(db: AsyncSession, jid: str, phone: str, role: str) -> None:
    await db.execute(
        update(SandboxGroupMember)
        .where(SandboxGroupMember.group_jid == jid, SandboxGroupMember.phone == phone)
        .values(role=role)
    )


async def remove_member(db: AsyncSession, jid: str, phone: str) -> None:
    await db.execute(
        delete(SandboxGroupMember).where(
            SandboxGroupMember.group_jid == jid, SandboxGroupMember.phone == phone
        )
    )


async def delete_group(db: AsyncSession, jid: str) -> None:
    await db.execute(delete(SandboxGroupMember).where(SandboxGroupMember.group_jid == jid))
    await db.execute(delete(SandboxGroup).where(SandboxGroup.jid == jid))


async def _state(db: AsyncSession, row: SandboxGroup) -> GroupState:
    members = await db.scalars(
        select(SandboxGroupMember)
        .where(SandboxGroupMember.group_jid == row.jid)
        .order_by(SandboxGroupMember.id)
    )
    return GroupState(
        jid=row.jid,
        subject=row.subject,
        description=row.description,
        owner_phone=row.owner_phone,
        creation=row.creation,
        announce=row.announce,
        locked=row.locked,
        invite_code=row.invite_code,
        members=tuple(Member(m.phone, m.role, m.id) for m in members),
    )
