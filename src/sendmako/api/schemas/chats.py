"""Bodies of `/api/chats`: a session's conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from sendmako.messaging.chats import ChatEntry, MessageEntry, api_type


class ReactionOut(BaseModel):
    from_: str = Field(alias="from", description="who reacted (a phone number)")
    emoji: str

    model_config = {"populate_by_name": True}


class MessageOut(BaseModel):
    message_id: str = Field(examples=["3EB0A1B2C3D4E5F60718A9"])
    from_me: bool = Field(description="written by this session's number (here or on the phone)")
    from_: str | None = Field(alias="from", description="the author's phone number")
    to: str | None = Field(description="the recipient's number, or the group's JID")
    type: str = Field(examples=["text"], description="text, image, video, audio, document...")
    body: str | None = Field(description="the text, or the media's caption")
    media: dict[str, object] | None = Field(
        description="what WhatsApp said of the file (mimetype, size; for a received one, the "
        "fields /api/decrypt-media takes)"
    )
    status: str = Field(description="ours: sent, delivered, read; theirs: received")
    timestamp: int = Field(description="unix seconds")
    edited_at: datetime | None = Field(description="when its text last changed")
    revoked: bool = Field(description="deleted for everyone")
    reactions: list[ReactionOut]
    quoted_message_id: str | None = Field(description="the message it replies to")
    sender_name: str | None = Field(None, description="the author's own name (push name)")

    model_config = {"populate_by_name": True}

    @classmethod
    def of(cls, entry: MessageEntry) -> MessageOut:
        message = entry.message
        return cls(
            message_id=message.wa_message_id,
            from_me=message.from_me,
            from_=entry.sender,
            to=entry.recipient,
            type=api_type(message.type),
            body=message.body,
            media=message.media,
            status=message.status.value,
            timestamp=int(message.created_at.timestamp()),
            edited_at=message.edited_at,
            revoked=message.revoked_at is not None,
            reactions=[ReactionOut(from_=who, emoji=emoji) for who, emoji in entry.reactions],
            quoted_message_id=message.quoted_id,
            sender_name=message.sender_name,
        )


class LastMessageOut(BaseModel):
    message_id: str
    from_me: bool
    type: str
    body: str | None
    status: str
    timestamp: int
    revoked: bool


class ChatOut(BaseModel):
    chat: str = Field(examples=["22241857975@s.whatsapp.net"], description="the chat's JID")
    phone: str | None = Field(description="the other person's number (null for a group)")
    name: str | None = Field(description="as the phone calls it, or as the person calls themself")
    is_group: bool
    unread: int = Field(description="received messages not marked read")
    last_message: LastMessageOut | None
    updated_at: datetime = Field(description="the time of its latest message")

    @classmethod
    def of(cls, entry: ChatEntry) -> ChatOut:
        record, last = entry.record, entry.last_message
        return cls(
            chat=record.chat,
            phone=entry.phone,
            name=record.name,
            is_group=record.is_group,
            unread=record.unread,
            last_message=LastMessageOut(
                message_id=last.wa_message_id,
                from_me=last.from_me,
                type=api_type(last.type),
                body=last.body,
                status=last.status.value,
                timestamp=int(last.created_at.timestamp()),
                revoked=last.revoked_at is not None,
            )
            if last is not None
            else None,
            updated_at=record.last_at,
        )


class ChatListOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    chats: list[ChatOut] = Field(description="latest activity first")
    next_cursor: str | None = Field(
        description="pass it as `cursor` for the next page; null on the last page"
    )


class MessageListOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    chat: str
    messages: list[MessageOut] = Field(description="newest first")
    next_cursor: str | None = Field(
        description="pass it as `cursor` for older messages; null on the last page"
    )
