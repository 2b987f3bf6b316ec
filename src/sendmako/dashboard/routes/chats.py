"""The inbox of a session: its chats (search by name or number, unread badges) and one
conversation (bubbles, ticks, reactions, edits, deletions, replies with their quote, media
shown inline through the server), with a composer to answer by text, emoji or file.

Every page works without script; with it, the page follows new messages and status changes
without a reload (`/dashboard/live/chats/...` answers a token that changes when what the
page shows does).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from sendmako.dashboard import inbound
from sendmako.dashboard.forms import CheckedForm, error_text
from sendmako.dashboard.pages import DashboardRoute, redirect, render
from sendmako.dashboard.visit import PREFIX, Member, Visit
from sendmako.errors import SendmakoError
from sendmako.messaging.chats import ChatEntry, MessageEntry, MessagePage, api_type, media_request
from sendmako.messaging.sender import SendRequest
from sendmako.model.messages import MessageType

router = APIRouter(prefix=f"{PREFIX}/sessions", route_class=DashboardRoute, include_in_schema=False)
live = APIRouter(prefix=f"{PREFIX}/live/chats", route_class=DashboardRoute, include_in_schema=False)

LIST_SIZE = 100  # chats shown in the list (search finds the others)
THREAD_SIZE = 50  # messages of a conversation per page
TEXT_MAX = 65_536
# The reactions the composer offers in one tap (any emoji can be typed too).
QUICK_REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")
FILE_KINDS = {"image": MessageType.IMAGE, "video": MessageType.VIDEO, "audio": MessageType.AUDIO}

SearchText = Annotated[str, Query(max_length=100)]
ChatParam = Annotated[str, Query(max_length=140)]
CursorParam = Annotated[str, Query(max_length=512)]


@dataclass(frozen=True, slots=True)
class Bubble:
    """A message as the conversation shows it."""

    entry: MessageEntry
    type: str
    quote: str | None  # the text of the message it replies to
    media_url: str | None  # where the page fetches its file (decrypted by the server)

    @property
    def message(self) -> Any:
        return self.entry.message


@router.get("/{session_id}/chats")
async def chats_page(
    session_id: str,
    visit: Member,
    *,
    q: SearchText = "",
    chat: ChatParam = "",
    before: CursorParam = "",
    reply: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    return await _page(visit, session_id, q, chat or None, before or None, reply=reply)


@router.post("/{session_id}/chats/{chat}/send")
async def send(session_id: str, chat: str, visit: Member, form: CheckedForm) -> Response:
    """Answer in the chat: text, or a file with its caption, replying to a message when
    one is chosen."""
    text = form.text("text", visit.t("chats.message"), required=False, max_length=TEXT_MAX)
    quoted = form.text("quoted_message_id", "quoted_message_id", required=False, max_length=128)
    upload = form.file("media")
    request: SendRequest | None = None
    if form.ok and upload is not None:
        mimetype = (upload.content_type or "").split(";")[0].strip().lower()
        family = mimetype.split("/")[0]
        kind = FILE_KINDS.get(family, MessageType.DOCUMENT)
        media = await inbound.upload(visit, form, kind, visit.t("chats.file"))
        if media is not None:
            data, filename, declared = media
            request = SendRequest(
                type=kind,
                caption=text or None,
                media_base64=data,
                filename=filename,
                mimetype=declared if kind == MessageType.DOCUMENT else None,
                quoted_message_id=quoted or None,
                session_id=session_id,
            )
    elif form.ok and not text:
        form.refuse("text", visit.t("form.required", field=visit.t("chats.message")))
    elif form.ok:
        request = SendRequest(
            type=MessageType.TEXT,
            text=text,
            quoted_message_id=quoted or None,
            session_id=session_id,
        )
    if request is None or not form.ok:
        return await _page(visit, session_id, "", chat, None, errors=form.errors, status=400)
    try:
        await visit.services.sender.send(visit.account, chat, request)
    except SendmakoError as exc:
        errors = {"text": error_text(visit, exc)}
        return await _page(visit, session_id, "", chat, None, errors=errors, status=exc.status)
    return redirect(_chat_url(session_id, chat))


@router.post("/{session_id}/chats/{chat}/react")
async def react(session_id: str, chat: str, visit: Member, form: CheckedForm) -> Response:
    message_id = form.text("message_id", "message_id", max_length=128)
    emoji = form.text("emoji", visit.t("chats.reaction"), max_length=32)
    if not form.ok:
        return await _page(visit, session_id, "", chat, None, errors=form.errors, status=400)
    try:
        await visit.services.actions.react(visit.account, chat, message_id, emoji, session_id)
    except SendmakoError as exc:
        errors = {"text": error_text(visit, exc)}
        return await _page(visit, session_id, "", chat, None, errors=errors, status=exc.status)
    return redirect(_chat_url(session_id, chat))


@router.post("/{session_id}/chats/{chat}/read")
async def mark_read(session_id: str, chat: str, visit: Member, _form: CheckedForm) -> Response:
    """Blue ticks for the chat's received messages shown (its unread badge goes)."""
    page = await visit.services.chats.messages(visit.account, chat, session_id, THREAD_SIZE, None)
    theirs = [e.message.wa_message_id for e in page.messages if not e.message.from_me]
    if theirs:
        try:
            await visit.services.actions.mark_read(visit.account, chat, theirs, session_id)
        except SendmakoError as exc:
            errors = {"text": error_text(visit, exc)}
            return await _page(visit, session_id, "", chat, None, errors=errors, status=exc.status)
    return redirect(_chat_url(session_id, chat))


@router.get("/{session_id}/chats/{chat}/media/{message_id}")
async def media(session_id: str, chat: str, message_id: str, visit: Member) -> Response:
    """A received file, downloaded, checked and decrypted by the server (the browser never
    sees WhatsApp's URL or keys)."""
    request = await visit.services.chats.media_of(visit.account, session_id, chat, message_id)
    opened = await visit.services.media.open(request)
    return StreamingResponse(
        opened.chunks(),
        headers={
            "Content-Type": opened.mimetype,
            "Content-Length": str(opened.length),
            "Content-Disposition": "inline",
        },
    )


@live.get("/{session_id}")
async def live_state(
    session_id: str, visit: Member, chat: ChatParam = "", q: SearchText = ""
) -> dict[str, Any]:
    """A token of what the page shows: it changes with a new message, a tick, a
    reaction, an edit, a deletion or an unread count."""
    chats = await _chat_list(visit, session_id, q)
    page = None
    if chat:
        page = await visit.services.chats.messages(
            visit.account, chat, session_id, THREAD_SIZE, None
        )
    return {"token": _token(chats, page)}


def _token(chats: list[ChatEntry], page: MessagePage | None) -> str:
    parts = [f"{c.record.chat}:{c.record.last_at.isoformat()}:{c.record.unread}" for c in chats]
    if page is not None:
        parts += [_shown(entry) for entry in page.messages]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _shown(entry: MessageEntry) -> str:
    message = entry.message
    return ":".join(
        str(part)
        for part in (
            message.wa_message_id,
            message.status.value,
            message.edited_at,
            message.revoked_at,
            message.body,
            sorted(entry.reactions),
        )
    )


async def _chat_list(visit: Visit, session_id: str, q: str) -> list[ChatEntry]:
    chats = visit.services.chats
    if q.strip():
        return await chats.search(visit.account, session_id, q.strip(), LIST_SIZE)
    return (await chats.listing(visit.account, session_id, LIST_SIZE, None)).chats


async def _page(
    visit: Visit,
    session_id: str,
    q: str,
    chat: str | None,
    before: str | None,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    reply: str = "",
) -> Response:
    view = visit.services.sessions.get(visit.account, session_id)  # 404: not theirs
    chats = await _chat_list(visit, session_id, q)
    thread: MessagePage | None = None
    bubbles: list[Bubble] = []
    if chat is not None:
        thread = await visit.services.chats.messages(
            visit.account, chat, session_id, THREAD_SIZE, before
        )
        bubbles = [_bubble(session_id, thread, entry) for entry in reversed(thread.messages)]
    replying = next((b.message for b in bubbles if b.message.wa_message_id == reply), None)
    query = {"q": q} if q else {}
    return render(
        visit,
        "chats.html",
        status=status,
        active="sessions",
        session=view,
        chats=chats,
        q=q,
        thread=thread,
        bubbles=bubbles,
        errors=errors or {},
        reactions=QUICK_REACTIONS,
        replying=replying,
        kind=lambda stored: _kind(visit, stored),
        chat_url=lambda jid: _chat_url(session_id, jid, **query),
        older_url=_chat_url(session_id, thread.chat, before=thread.next_cursor)
        if thread is not None and thread.next_cursor
        else None,
        # The newest page is what the live token covers: an older page is not followed.
        token=_token(chats, thread) if before is None else "",
        live_url=f"{PREFIX}/live/chats/{session_id}?"
        + urlencode({**({"chat": thread.chat} if thread else {}), **query}),
        base_url=f"{PREFIX}/sessions/{session_id}/chats",
        quote_path=lambda jid: quote(jid, safe=""),
    )


def _kind(visit: Visit, stored: str) -> str:
    """A message type in words ("Photo"), for what has no text to show."""
    key = f"chats.type.{api_type(stored)}"
    label = visit.t(key)
    return visit.t("chats.type.other") if label == key else label


def _bubble(session_id: str, page: MessagePage, entry: MessageEntry) -> Bubble:
    message = entry.message
    quoted = page.quoted.get(message.quoted_id or "")
    media_url = None
    if media_request(message.media) is not None:
        media_url = (
            f"{PREFIX}/sessions/{session_id}/chats/{quote(page.chat, safe='')}"
            f"/media/{quote(message.wa_message_id, safe='')}"
        )
    return Bubble(
        entry=entry,
        type=api_type(message.type),
        quote=(quoted.body or api_type(quoted.type)) if quoted is not None else None,
        media_url=media_url,
    )


def _chat_url(session_id: str, chat: str, **params: str) -> str:
    query = urlencode({"chat": chat, **{k: v for k, v in params.items() if v}})
    return f"{PREFIX}/sessions/{session_id}/chats?{query}"
