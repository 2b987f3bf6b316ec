"""`/api/messages/{message_id}` (edit, delete for everyone) and `/api/messages/read`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.envelopes import SuccessOut
from sendmako.api.schemas.messages import EditMessageIn, MarkReadIn, MessageActionOut

router = APIRouter(prefix="/api/messages", tags=["messages"])

MessageIdPath = Annotated[str, Path(max_length=128, examples=["3EB0A1B2C3D4E5F60718A9"])]


@router.patch("/{message_id}", responses=errors(404, 422, 429, 501, 503))
async def edit_message(
    message_id: MessageIdPath, body: EditMessageIn, user: CurrentUser, services: ServicesDep
) -> MessageActionOut:
    """Replace the text (or the caption) of a message this number sent, within WhatsApp's
    15-minute window. The other side gets `message.edited`; the stored message keeps the
    earlier text."""
    sent = await services.actions.edit(user, message_id, body.text, body.session_id)
    return MessageActionOut(message_id=message_id, session_id=sent.session_id)


@router.delete("/{message_id}", responses=errors(404, 422, 429, 501, 503))
async def delete_message(
    message_id: MessageIdPath,
    user: CurrentUser,
    services: ServicesDep,
    session_id: Annotated[
        str | None, Query(description="the session holding the message, when two do")
    ] = None,
) -> MessageActionOut:
    """Delete for everyone: a message this number sent, or, in a group where it is an admin,
    anyone's."""
    sent = await services.actions.delete(user, message_id, session_id)
    return MessageActionOut(message_id=message_id, session_id=sent.session_id)


@router.post("/read", responses=errors(404, 501, 503))
async def mark_read(body: MarkReadIn, user: CurrentUser, services: ServicesDep) -> SuccessOut:
    """Mark messages of one chat read (their senders see blue ticks)."""
    await services.actions.mark_read(user, body.chat, body.message_ids, body.session_id)
    return SuccessOut()
