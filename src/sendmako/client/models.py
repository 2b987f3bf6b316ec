"""What the API answers, as typed models. They accept fields they do not know (a newer
server may add some, API.md allows it) and keep them: `model.model_extra`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

SessionStatus = Literal["connecting", "qr_ready", "connected", "disconnected", "logged_out"]
MessageType = Literal[
    "text",
    "image",
    "video",
    "audio",
    "document",
    "location",
    "sticker",
    "contact",
    "poll",
    "reaction",
    "poll_vote",
]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


# Sessions


class Session(Model):
    id: int
    session_id: str
    session_name: str
    status: SessionStatus
    phone_number: str | None = None
    qr: str | None = None
    engine: str | None = None


class CreatedSession(Model):
    id: int
    session_id: str
    session_name: str
    status: SessionStatus
    engine: str | None = None


class SessionSettings(Model):
    session_name: str


class PairCode(Model):
    session_id: str
    pair_code: str


class SessionState(Model):
    session_id: str
    status: SessionStatus
    phone_number: str | None = None


# Messages


class SentMessage(Model):
    message_id: str
    session_id: str
    to: str


class BulkSummary(Model):
    total: int
    sent: int
    failed: int
    pending: int = 0
    unknown: int = 0


class BulkResult(Model):
    to: str
    success: bool
    status: str | None = None
    message_id: str | None = None
    message: str | None = None


class BulkOutcome(Model):
    """A bulk send that ran to its end before the answer (`async` false)."""

    job_id: str | None = None
    summary: BulkSummary
    results: list[BulkResult]


class BulkAccepted(Model):
    """A bulk send accepted to run in the background (`async` true)."""

    job_id: str
    status: str


class BulkJob(Model):
    job_id: str
    session_id: str
    status: str
    summary: BulkSummary
    results: list[BulkResult]


class MessageAction(Model):
    message_id: str
    session_id: str


class Profile(Model):
    session_id: str
    phone_number: str
    name: str | None = None
    about: str | None = None
    picture_url: str | None = None


# Contacts and groups


class Contact(Model):
    id: str
    phone: str
    name: str | None = None


class Contacts(Model):
    session_id: str
    contacts: list[Contact]


class NumberCheck(Model):
    number: str
    on_whatsapp: bool
    jid: str | None = None


class NumberChecks(Model):
    session_id: str
    results: list[NumberCheck]


class Picture(Model):
    session_id: str
    picture_url: str | None = None


class Participant(Model):
    id: str
    phone: str | None = None
    admin: Literal["admin", "superadmin"] | None = None


class Group(Model):
    id: str
    subject: str
    description: str | None = None
    creation: int | None = None
    owner: str | None = None
    participants: list[Participant] = []
    announce: bool | None = None
    restrict: bool | None = None


class Groups(Model):
    session_id: str
    groups: list[Group]


class GroupAnswer(Model):
    session_id: str
    group: Group


class Participants(Model):
    session_id: str
    group_id: str
    participants: list[Participant]


class ParticipantResult(Model):
    participant: str
    status: str
    success: bool | None = None
    message: str | None = None


class ParticipantResults(Model):
    session_id: str
    group_id: str
    results: list[ParticipantResult]


class InviteLink(Model):
    session_id: str
    group_id: str
    invite_code: str
    invite_link: str


class JoinedGroup(Model):
    session_id: str
    group_id: str


# Chats and history


class Chat(Model):
    chat: str
    phone: str | None = None
    name: str | None = None
    is_group: bool = False
    unread: int = 0
    last_message: dict[str, Any] | None = None
    updated_at: str | int | float | None = None


class Chats(Model):
    chats: list[Chat]
    next_cursor: str | None = None


class ChatMessage(Model):
    message_id: str
    from_me: bool
    type: str
    body: str | None = None
    timestamp: str | int | float | None = None


class ChatMessages(Model):
    messages: list[ChatMessage]
    next_cursor: str | None = None


# Webhooks and keys


class Webhook(Model):
    id: int
    url: str
    enabled: bool
    events: list[str] | None = None
    session_ids: list[str] | None = None
    description: str | None = None


class WebhookAnswer(Model):
    webhook: Webhook
    secret: str | None = None  # only when created or rotated


class WebhookTest(Model):
    delivered: bool
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None


class Delivery(Model):
    id: int
    event_id: str
    event: str
    status: str
    attempts: int


class DeliveryPage(Model):
    total: int
    page: int
    per_page: int
    deliveries: list[Delivery]


class ApiKey(Model):
    id: int
    prefix: str
    name: str | None = None
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None


class CreatedKey(Model):
    key: str
    api_key: ApiKey


# Sandbox and administration


class SandboxContact(Model):
    phone: str
    name: str | None = None
    on_whatsapp: bool = True


class SandboxContacts(Model):
    session_id: str
    contacts: list[SandboxContact]


class SandboxInbound(Model):
    session_id: str
    message_id: str


class SandboxInboundBatch(Model):
    session_id: str
    message_ids: list[str]


class SandboxSent(Model):
    message_id: str
    to: str
    type: str
    text: str | None = None


class Node(Model):
    node_id: str
    url: str
    status: str
    sessions: list[str]


class Health(Model):
    status: str
    version: str | None = None


# The event stream


class Event(Model):
    """One event of `GET /api/events`: the webhook's envelope (`event`, `timestamp`,
    `session_id`, `data`, `id`)."""

    id: str | None = None
    event: str
    session_id: str | None = None
    timestamp: str | None = None
    data: dict[str, Any] = {}
