"""Queries on each session's contact list (the `contacts` table)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.ids import Jid
from sendmako.model.directory import Contact
from sendmako.storage import upsert
from sendmako.storage.tables import SessionContact, utcnow


def _contact(row: SessionContact) -> Contact:
    return Contact(
        jid=Jid.parse(row.jid),
        phone=row.phone,
        saved_name=row.saved_name,
        push_name=row.push_name,
        business_name=row.business_name,
    )


async def list_for(db: AsyncSession, session_pk: int) -> list[Contact]:
    rows = await db.scalars(
        select(SessionContact)
        .where(SessionContact.session_pk == session_pk)
        .order_by(SessionContact.phone)
    )
    return [_contact(row) for row in rows]


async def merge(
    db: AsyncSession, session_pk: int, contacts: Sequence[Contact], *, complete: bool = False
) -> None:
    """Add or update `contacts`. A name the report leaves out (None) keeps the one stored,
    except the saved name of a `complete` report, which is the address book as it is now.
    `complete` also deletes every contact the report does not list."""
    if complete:
        kept = [str(contact.jid) for contact in contacts]
        await db.execute(
            delete(SessionContact).where(
                SessionContact.session_pk == session_pk, SessionContact.jid.not_in(kept)
            )
        )
    if not contacts:
        return
    now = utcnow()
    statement = upsert.insert(db, SessionContact)
    new = statement.excluded
    saved = new.saved_name if complete else func.coalesce(new.saved_name, SessionContact.saved_name)
    # One report may name a contact twice (a phone number and its hidden id resolved to it).
    unique = {str(contact.jid): contact for contact in contacts}
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[SessionContact.session_pk, SessionContact.jid],
            set_={
                "phone": new.phone,
                "saved_name": saved,
                "push_name": func.coalesce(new.push_name, SessionContact.push_name),
                "business_name": func.coalesce(new.business_name, SessionContact.business_name),
                "updated_at": new.updated_at,
            },
        ),
        [
            {
                "session_pk": session_pk,
                "jid": jid,
                "phone": contact.phone,
                "saved_name": contact.saved_name,
                "push_name": contact.push_name,
                "business_name": contact.business_name,
                "updated_at": now,
            }
            for jid, contact in unique.items()
        ],
    )


async def set_push_name(db: AsyncSession, session_pk: int, jid: str, push_name: str) -> bool:
    """Record the name a known contact shows on its messages; False if not a contact."""
    result = await db.execute(
        update(SessionContact)
        .where(
            SessionContact.session_pk == session_pk,
            SessionContact.jid == jid,
            SessionContact.push_name.is_distinct_from(push_name),
        )
        .values(push_name=push_name, updated_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))
