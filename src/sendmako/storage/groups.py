"""Queries on the group cache (`group_cache`): each session's groups as WhatsApp last
described them, with a generation per row so that a refresh racing a group event never
hides the event (see `tables.CachedGroup`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import case, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.ids import Jid
from sendmako.model.directory import GroupInfo, GroupParticipant, ParticipantRole
from sendmako.storage import upsert
from sendmako.storage.tables import CachedGroup as CachedGroupRow
from sendmako.storage.tables import utcnow


@dataclass(frozen=True, slots=True)
class CachedGroup:
    info: GroupInfo
    generation: int
    stale: bool  # an event said it changed since it was stored
    refreshed: bool  # False for a placeholder left by an event about a group not seen yet


def _info(row: CachedGroupRow) -> GroupInfo:
    return GroupInfo(
        jid=Jid.parse(row.jid),
        subject=row.subject,
        description=row.description,
        owner=Jid.parse(row.owner) if row.owner else None,
        created_at=row.creation,
        announce=row.announce,
        restrict=row.locked,
        participants=tuple(
            GroupParticipant(
                jid=Jid.parse(str(item["jid"])),
                phone=item.get("phone"),
                role=ParticipantRole(item.get("role") or ParticipantRole.MEMBER),
            )
            for item in row.participants
        ),
    )


def _cached(row: CachedGroupRow) -> CachedGroup:
    return CachedGroup(
        info=_info(row),
        generation=row.generation,
        stale=row.stale,
        refreshed=row.refreshed_at is not None,
    )


async def list_for(db: AsyncSession, session_pk: int) -> list[CachedGroup]:
    rows = await db.scalars(
        select(CachedGroupRow)
        .where(CachedGroupRow.session_pk == session_pk)
        .order_by(CachedGroupRow.creation, CachedGroupRow.jid)
    )
    return [_cached(row) for row in rows]


async def get(db: AsyncSession, session_pk: int, jid: str) -> CachedGroup | None:
    row = await db.get(CachedGroupRow, (session_pk, jid))
    return _cached(row) if row else None


async def generations(db: AsyncSession, session_pk: int) -> dict[str, int]:
    rows = await db.execute(
        select(CachedGroupRow.jid, CachedGroupRow.generation).where(
            CachedGroupRow.session_pk == session_pk
        )
    )
    return dict(rows.all())


async def store(
    db: AsyncSession, session_pk: int, info: GroupInfo, *, seen_generation: int | None
) -> None:
    """Write what WhatsApp said about a group. The row is fresh only if no event bumped
    its generation since `seen_generation` was read (None: there was no row then)."""
    seen = seen_generation or 0
    values = {
        "subject": info.subject,
        "description": info.description,
        "owner": str(info.owner) if info.owner else None,
        "creation": info.created_at,
        "announce": info.announce,
        "locked": info.restrict,
        "participants": [
            {"jid": str(p.jid), "phone": p.phone, "role": p.role.value} for p in info.participants
        ],
        "refreshed_at": utcnow(),
    }
    statement = upsert.insert(db, CachedGroupRow).values(
        session_pk=session_pk, jid=str(info.jid), generation=0, stale=False, **values
    )
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[CachedGroupRow.session_pk, CachedGroupRow.jid],
            set_={
                **values,
                "stale": case((CachedGroupRow.generation == seen, False), else_=True),
            },
        )
    )


async def mark_stale(db: AsyncSession, session_pk: int, jid: str) -> None:
    """An event says the group changed: the next read asks WhatsApp again. A group not
    cached yet gets a placeholder, so reads learn that there is something to fetch."""
    statement = upsert.insert(db, CachedGroupRow).values(
        session_pk=session_pk,
        jid=jid,
        subject="",
        creation=0,
        announce=False,
        locked=False,
        participants=[],
        generation=1,
        stale=True,
        refreshed_at=None,
    )
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[CachedGroupRow.session_pk, CachedGroupRow.jid],
            set_={"generation": CachedGroupRow.generation + 1, "stale": True},
        )
    )


async def forget(
    db: AsyncSession, session_pk: int, jid: str, *, seen_generation: int | None = None
) -> None:
    """Drop a group (left, or WhatsApp says it is gone). With `seen_generation`, only if
    no event arrived since that generation was read."""
    query = delete(CachedGroupRow).where(
        CachedGroupRow.session_pk == session_pk, CachedGroupRow.jid == jid
    )
    if seen_generation is not None:
        query = query.where(CachedGroupRow.generation == seen_generation)
    await db.execute(query)


async def replace_all(
    db: AsyncSession, session_pk: int, infos: Iterable[GroupInfo], seen: Mapping[str, int]
) -> None:
    """Store a whole group list read from WhatsApp; `seen` holds the generations read
    before asking. Groups it no longer lists are dropped unless an event touched them
    meanwhile (a group joined while the list was on its way)."""
    listed = set()
    for info in infos:
        listed.add(str(info.jid))
        await store(db, session_pk, info, seen_generation=seen.get(str(info.jid)))
    for jid, generation in seen.items():
        if jid not in listed:
            await forget(db, session_pk, jid, seen_generation=generation)
