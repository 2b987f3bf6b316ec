"""The history a simulated phone sends once linked (`history` of the sandbox's scan): its
chats and their messages, as WhatsApp's history sync would bring them."""

from __future__ import annotations

import secrets
import time

from pydantic import BaseModel, Field

from sendmako.api.schemas.envelopes import Request
from sendmako.errors import BadRequest
from sendmako.ids import InvalidIdentifier, Jid, normalize_phone, recipient_jid
from sendmako.model.events import HistoryConversation, HistorySynced, MessageReceived

# WhatsApp sends a history in chunks: a sandbox chunk holds this many chats.
CHATS_PER_CHUNK = 10


class HistoryMessageIn(Request):
    message_id: str | None = Field(None, max_length=128, description="default: a new id")
    from_me: bool = Field(False, description="written by the linked number itself")
    from_: str | None = Field(
        None,
        alias="from",
        description="in a group: the member who wrote it (in a direct chat: the chat's number)",
    )
    text: str = Field(max_length=65_536)
    timestamp: int | None = Field(
        None, ge=0, le=2**40, description="unix seconds; default: now (oldest first if omitted)"
    )


class HistoryChatIn(Request):
    chat: str = Field(
        max_length=128, description="a number, or a group JID", examples=["22241857975"]
    )
    name: str | None = Field(None, max_length=200, description="what the phone calls the chat")
    unread: int | None = Field(None, ge=0, le=1_000_000, description="the phone's unread count")
    messages: list[HistoryMessageIn] = Field(min_length=1, max_length=1000)


class HistoryIn(BaseModel):
    """A whole history, checked before anything is linked (400 naming the field)."""

    chats: list[HistoryChatIn] = Field(max_length=1000)

    def events(self, own_phone: str) -> list[HistorySynced]:
        """The history as WhatsApp would send it: chunks of chats with their progress."""
        conversations = [
            _conversation(chat, own_phone, f"history[{index}]")
            for index, chat in enumerate(self.chats)
        ]
        chunks = [
            conversations[start : start + CHATS_PER_CHUNK]
            for start in range(0, len(conversations), CHATS_PER_CHUNK)
        ]
        return [
            HistorySynced(tuple(chunk), progress=round(100 * (number + 1) / len(chunks)))
            for number, chunk in enumerate(chunks)
        ]


def _conversation(body: HistoryChatIn, own_phone: str, field: str) -> HistoryConversation:
    try:
        jid: Jid = recipient_jid(body.chat)
    except InvalidIdentifier as exc:
        raise BadRequest(f"{field}.chat: {exc}", field=f"{field}.chat") from exc
    chat, now = str(jid), int(time.time())
    messages = []
    for index, item in enumerate(body.messages):
        at = f"{field}.messages[{index}]"
        if item.from_me:
            author = own_phone
        elif jid.is_group:
            if item.from_ is None:
                raise BadRequest(f"{at}.from: who wrote it, in a group", field=f"{at}.from")
            try:
                author = normalize_phone(item.from_)
            except InvalidIdentifier as exc:
                raise BadRequest(f"{at}.from: {exc}", field=f"{at}.from") from exc
        else:
            author = jid.user
        messages.append(
            MessageReceived(
                message_id=item.message_id or f"HIST{secrets.token_hex(8).upper()}",
                chat=chat,
                sender_phone=author,
                sender_jid=f"{author}@s.whatsapp.net",
                sender_name=None,
                wa_type="conversation",
                body=item.text,
                timestamp=item.timestamp if item.timestamp is not None else now,
                is_group=jid.is_group,
                from_me=item.from_me,
            )
        )
    return HistoryConversation(chat, body.name, body.unread, tuple(messages))
