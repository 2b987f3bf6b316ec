"""`/api/whatsapp/contacts`: the contact list of the chosen session."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Path, Query

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.contacts import (
    CheckNumbersIn,
    CheckNumbersOut,
    ContactListOut,
    ContactOut,
    NumberOut,
    PictureOut,
)
from sendmako.errors import BadRequest
from sendmako.ids import InvalidIdentifier, normalize_phone, recipient_jid

router = APIRouter(prefix="/api/whatsapp/contacts", tags=["contacts"])
# Asking WhatsApp about any number, contact or not.
lookups = APIRouter(prefix="/api/contacts", tags=["contacts"])


@router.get("", responses=errors(404, 422, 503))
async def list_contacts(
    user: CurrentUser,
    services: ServicesDep,
    session_id: Annotated[
        str | None, Query(description="default: your oldest connected session")
    ] = None,
    refresh: Annotated[bool, Query(description="read the list from the phone again")] = False,
) -> ContactListOut:
    """Every contact synced from the phone (at connection, then kept up to date), with the
    best name known for each."""
    view, found = await services.contacts.all(user, session_id, refresh=refresh)
    return ContactListOut(
        session_id=view.session_id, contacts=[ContactOut.of(contact) for contact in found]
    )


@lookups.post("/check", responses=errors(404, 501, 503))
async def check_numbers(
    body: CheckNumbersIn, user: CurrentUser, services: ServicesDep
) -> CheckNumbersOut:
    """Whether each number has WhatsApp (answers are kept 24 hours: asking again costs
    WhatsApp nothing)."""
    phones = []
    for index, number in enumerate(body.numbers):
        try:
            phones.append(normalize_phone(number))
        except InvalidIdentifier as exc:
            raise BadRequest(f"numbers[{index}]: {exc}", field=f"numbers[{index}]") from exc
    view, statuses = await services.numbers.check(user, phones, body.session_id)
    return CheckNumbersOut(
        session_id=view.session_id,
        results=[
            NumberOut(
                number=status.phone,
                on_whatsapp=status.on_whatsapp,
                jid=str(status.jid) if status.jid is not None else None,
            )
            for status in statuses
        ],
    )


@lookups.get("/{contact}/picture", responses=errors(404, 501, 503))
async def contact_picture(
    contact: Annotated[str, Path(max_length=128, examples=["22241857975"])],
    user: CurrentUser,
    services: ServicesDep,
    session_id: Annotated[
        str | None, Query(description="default: your oldest connected session")
    ] = None,
) -> PictureOut:
    """The URL of a contact's profile picture (null when none, or hidden from you)."""
    try:
        jid = recipient_jid(unquote(contact))
    except InvalidIdentifier as exc:
        raise BadRequest(f"contact: {exc}", field="contact") from exc
    view, url = await services.profiles.picture_of(user, jid, session_id)
    return PictureOut(session_id=view.session_id, picture_url=url)
