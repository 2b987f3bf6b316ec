"""Queries on the sandbox's media files kept in the database (several nodes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.engines.sandbox.store.tables import SandboxMedia


@dataclass(frozen=True, slots=True)
class MediaFile:
    encrypted: bool
    data: bytes


async def add(db: AsyncSession, token: str, data: bytes, *, encrypted: bool) -> None:
    db.add(SandboxMedia(token=token, data=data, encrypted=encrypted))
    await db.flush()


async def get(db: AsyncSession, token: str) -> MediaFile | None:
    found = (
        await db.execute(
            select(SandboxMedia.encrypted, SandboxMedia.data).where(SandboxMedia.token == token)
        )
    ).one_or_none()
    return None if found is None else MediaFile(found.encrypted, found.data)


async def prune(db: AsyncSession, older_than: datetime) -> None:
    """Forget the files of messages older than `older_than` (pictures stay: a profile
    still shows them)."""
    await db.execute(
        delete(SandboxMedia).where(
            SandboxMedia.encrypted.is_(True), SandboxMedia.created_at < older_than
        )
    )
