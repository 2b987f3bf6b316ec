"""Bodies of /api/send-message and /api/send-bulk (field names as the original spells them)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from sendmako.errors import BadRequest
from sendmako.messaging.sender import SendRequest
from sendmako.model.messages import MEDIA_TYPES, MessageType, PollSpec

Short = Annotated[str, StringConstraints(max_length=1024)]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
    phone: str


class PollIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=255, description="the question")
    options: list[str] = Field(max_length=64, description="2 to 12 distinct options")
    selectable_count: int = Field(1, description="how many options a voter may choose")


# The message types, and beyond them acting on a message already in the chat
# (`message_id`): one enum, so that a wrong `type` is a 400 naming `type`.
SendType = StrEnum(  # type: ignore[misc]  # a functional enum: its members are computed
    "SendType",
    {
        **{kind.name: kind.value for kind in MessageType},
        "REACTION": "reaction",
        "POLL_VOTE": "poll_vote",
    },
)


class MessageFields(BaseModel):
    """Everything a message can carry; which fields a type needs is checked by type."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: SendType = Field(
        description="text, image, video, audio, document, location, sticker, contact, poll; "
        "or reaction and poll_vote, about the message `message_id`"
    )
    session_id: str | None = Field(None, description="default: your oldest connected session")
    text: str | None = Field(None, description="type text (65,536 characters at most)")
    caption: str | None = Field(None, max_length=4096, description="media types")
    image_url: str | None = Field(None, alias="imageUrl", max_length=4096)
    image_base64: str | None = Field(None, alias="imageBase64")
    video_url: str | None = Field(None, alias="videoUrl", max_length=4096)
    video_base64: str | None = Field(None, alias="videoBase64")
    audio_url: str | None = Field(None, alias="audioUrl", max_length=4096)
    audio_base64: str | None = Field(None, alias="audioBase64")
    document_url: str | None = Field(None, alias="documentUrl", max_length=4096)
    document_base64: str | None = Field(None, alias="documentBase64")
    sticker_url: str | None = Field(None, alias="stickerUrl", max_length=4096)
    sticker_base64: str | None = Field(None, alias="stickerBase64")
    voice_note: bool = Field(False, alias="voiceNote", description="audio: show as a voice note")
    filename: Short | None = None
    mimetype: Short | None = None
    latitude: float | None = None
    longitude: float | None = None
    name: Short | None = Field(None, description="location: the place's name")
    address: Short | None = Field(None, description="location: its address")
    contact: ContactIn | None = None
    mentions: list[str] = Field(default_factory=list, max_length=1024)
    quoted_message_id: str | None = Field(None, max_length=128)
    poll: PollIn | None = Field(None, description="type poll")
    message_id: str | None = Field(
        None, max_length=128, description="reaction, poll_vote: the message it is about"
    )
    emoji: str | None = Field(
        None, max_length=32, description='reaction: the emoji ("" takes a reaction back)'
    )
    options: list[str] | None = Field(
        None, max_length=12, description="poll_vote: the names of the options chosen"
    )

    def to_request(self) -> SendRequest:
        if self.type in ("reaction", "poll_vote"):
            raise BadRequest(f"type: a {self.type} is not a message of its own", field="type")
        kind = MessageType(self.type)
        url = base64 = None
        if kind in MEDIA_TYPES:
            url = getattr(self, f"{kind.value}_url")
            base64 = getattr(self, f"{kind.value}_base64")
        return SendRequest(
            type=kind,
            text=self.text,
            # `text` is accepted as the caption of a media message too.
            caption=self.caption
            if self.caption is not None
            else (self.text if kind in MEDIA_TYPES else None),
            media_url=url,
            media_base64=base64,
            voice_note=self.voice_note,
            filename=self.filename,
            mimetype=self.mimetype,
            latitude=self.latitude,
            longitude=self.longitude,
            location_name=self.name,
            location_address=self.address,
            contact_name=self.contact.name if self.contact else None,
            contact_phone=self.contact.phone if self.contact else None,
            mentions=tuple(self.mentions),
            quoted_message_id=self.quoted_message_id,
            session_id=self.session_id,
            poll=(
                PollSpec(self.poll.name, tuple(self.poll.options), self.poll.selectable_count)
                if self.poll is not None
                else None
            ),
        )


class SendMessageIn(MessageFields):
    to: str = Field(
        description="a number in any spelling, a user JID or a group JID", examples=["22241857975"]
    )


class SendMessageOut(BaseModel):
    success: Literal[True] = True
    message_id: str = Field(description="WhatsApp's id of the sent message")
    session_id: str
    to: str
    status: Literal["sent"] = "sent"
    timestamp: int


class SendBulkIn(MessageFields):
    recipients: list[str] = Field(description="1 to 100 numbers or JIDs")
    run_async: bool = Field(False, alias="async", description="answer 202 at once with a job id")


class BulkResultOut(BaseModel):
    to: str
    success: bool
    status: str = Field(description="sent, failed, pending, sending or unknown")
    message_id: str | None = None
    message: str | None = Field(None, description="why it failed")


class BulkSummaryOut(BaseModel):
    total: int
    sent: int
    failed: int
    pending: int = 0
    unknown: int = 0


class SendBulkOut(BaseModel):
    success: Literal[True] = True
    job_id: str
    summary: BulkSummaryOut
    results: list[BulkResultOut]


class BulkAcceptedOut(BaseModel):
    success: Literal[True] = True
    job_id: str
    status: str
    status_url: str


class BulkJobOut(BaseModel):
    success: Literal[True] = True
    job_id: str
    session_id: str
    status: str = Field(
        description="queued, running, paused (account disabled), done or interrupted"
    )
    summary: BulkSummaryOut
    results: list[BulkResultOut]
    waiting: str | None = Field(
        None, description="why the job waits now (its session's send policy, a restriction)"
    )


MAX_INBOUND_BATCH = 100


class SandboxInboundIn(MessageFields):
    sender: str = Field(alias="from", description="the number the message comes from")
    from_name: str | None = Field(None, max_length=100, description="the sender's push name")
    group_id: str | None = Field(None, description="a group JID: the message is from inside it")


class SandboxInboundOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    message_id: str


class SandboxInboundBatchIn(BaseModel):
    messages: list[SandboxInboundIn] = Field(
        min_length=1,
        max_length=MAX_INBOUND_BATCH,
        description=f"1 to {MAX_INBOUND_BATCH} messages, arriving in this order",
    )


class SandboxInboundBatchOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    message_ids: list[str]


class SandboxSentItem(BaseModel):
    message_id: str
    to: str
    type: str
    text: str | None
    sent_at: float


class SandboxSentOut(BaseModel):
    success: Literal[True] = True
    messages: list[SandboxSentItem]


# -- acting on a message already in a chat ------------------------------------------------


class EditMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=65_536, description="the new text or caption")
    session_id: str | None = Field(
        None, description="the session holding the message, when two of yours do"
    )


class MessageActionOut(BaseModel):
    success: Literal[True] = True
    message_id: str = Field(description="the message acted on")
    session_id: str


class MarkReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chat: str = Field(max_length=128, description="a number or a JID: the chat of the messages")
    message_ids: list[Annotated[str, StringConstraints(max_length=128)]] = Field(
        min_length=1, max_length=100, description="1 to 100 messages of that chat"
    )
    session_id: str | None = None
