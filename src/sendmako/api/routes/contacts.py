"""`/api/whatsapp/contacts`: the contact list of the chosen session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.contacts import ContactListOut, ContactOut

router = APIRouter(prefix="/api/whatsapp/contacts", tags=["contacts"])


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
