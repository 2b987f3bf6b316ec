"""`/api/chats`: every conversation stored for a session, and each one's messages, a
page at a time."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Path, Query

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.chats import ChatListOut, ChatOut, MessageListOut, MessageOut

router = APIRouter(prefix="/api/chats", tags=["chats"])

SessionQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="one of your sessions; default: your oldest connected session (else "
        "your oldest): reading stored chats needs no connection",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100, description="how many to answer, 1 to 100")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page, as it was given"),
]


@router.get("", responses=errors(404))
async def list_chats(
    user: CurrentUser,
    services: ServicesDep,
    session_id: SessionQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ChatListOut:
    """The session's chats, latest activity first, each with its unread count (received
    messages not marked read: `POST /api/messages/read` brings it down) and its latest
    message. Cursor pagination: a chat that moves while you page comes back on top of the
    first page, the later pages stay as they were."""
    page = await services.chats.listing(user, session_id, limit, cursor)
    return ChatListOut(
        session_id=page.session.session_id,
        chats=[ChatOut.of(entry) for entry in page.chats],
        next_cursor=page.next_cursor,
    )


@router.get("/{chat}/messages", responses=errors(404))
async def chat_messages(
    chat: Annotated[
        str,
        Path(
            max_length=140,
            description="a number, a user JID or a group JID (raw or %40-encoded)",
            examples=["22241857975"],
        ),
    ],
    user: CurrentUser,
    services: ServicesDep,
    *,
    session_id: SessionQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessageListOut:
    """A chat's messages, newest first: sent and received, from this server, the phone
    and the history the phone sent at link time, with their status (ticks), reactions,
    edits and deletion. Messages that arrive while you page never shift the later pages."""
    page = await services.chats.messages(user, unquote(chat), session_id, limit, cursor)
    return MessageListOut(
        session_id=page.session.session_id,
        chat=page.chat,
        messages=[MessageOut.of(entry) for entry in page.messages],
        next_cursor=page.next_cursor,
    )
