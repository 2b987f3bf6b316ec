"""Queries on the day-long memory of which numbers have WhatsApp."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.ids import Jid
from sendmako.model.directory import NumberStatus
from sendmako.storage import upsert
from sendmako.storage.tables import NumberCheck


async def recent(
    db: AsyncSession, user_id: int, phones: Sequence[str], since: datetime
) -> dict[str, NumberStatus]:
    """The user's answers about `phones` given since `since`, by number."""
    if not phones:
        return {}
    rows = await db.scalars(
        select(NumberCheck).where(
            NumberCheck.user_id == user_id,
            NumberCheck.phone.in_(sorted(set(phones))),
            NumberCheck.checked_at >= since,
        )
    )
    return {
        row.phone: NumberStatus(row.phone, row.on_whatsapp, Jid.parse(row.jid) if row.jid else None)
        for row in rows
    }


async def store(
    db: AsyncSession, user_id: int, answers: Sequence[NumberStatus], at: datetime
) -> None:
    if not answers:
        return
    statement = upsert.insert(db, NumberCheck)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[NumberCheck.user_id, NumberCheck.phone],
            set_={
                "on_whatsapp": statement.excluded.on_whatsapp,
                "jid": statement.excluded.jid,
                "checked_at": statement.excluded.checked_at,
            },
        ),
        [
            {
                "user_id": user_id,
                "phone": answer.phone,
                "on_whatsapp": answer.on_whatsapp,
                "jid": str(answer.jid) if answer.jid is not None else None,
                "checked_at": at,
            }
            for answer in answers
        ],
    )
