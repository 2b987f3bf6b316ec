"""Queries on what simulated phones show of themselves."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.engines.sandbox.store.tables import SandboxDevice, SandboxProfile
from sendmako.storage import upsert
from sendmako.storage.tables import WaSession


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    about: str | None
    picture_token: str | None


async def get(db: AsyncSession, phone: str) -> ProfileRecord:
    found = await db.get(SandboxProfile, phone)
    if found is None:
        return ProfileRecord(None, None)
    return ProfileRecord(found.about, found.picture_token)


async def set_fields(db: AsyncSession, phone: str, **values: str | None) -> None:
    """Change `about` and/or `picture_token` of `phone`'s profile."""
    statement = upsert.insert(db, SandboxProfile)
    await db.execute(
        statement.on_conflict_do_update(index_elements=[SandboxProfile.phone], set_=values),
        [{"phone": phone, **values}],
    )


async def rename(db: AsyncSession, session_id: str, push_name: str) -> None:
    """The push name a sandbox session's phone shows."""
    pk = select(WaSession.id).where(WaSession.session_id == session_id).scalar_subquery()
    await db.execute(
        update(SandboxDevice).where(SandboxDevice.session_pk == pk).values(push_name=push_name)
    )
