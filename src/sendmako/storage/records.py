"""What the storage layer hands out: plain frozen values, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sendmako.ids import SessionId


@dataclass(frozen=True, slots=True)
class PlanRecord:
    name: str
    max_sessions: int | None  # None: unlimited
    daily_messages: int | None


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    email: str
    plan: PlanRecord
    is_admin: bool
    disabled: bool
    created_at: datetime
    has_password: bool = False


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: int
    user_id: int
    prefix: str
    name: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    user_id: int
    session_id: SessionId
    session_name: str
    engine: str
    status: str
    status_detail: str | None
    phone_number: str | None
    device_jid: str | None
    pacing_ms: int
    created_at: datetime
    updated_at: datetime
    reject_calls: bool = False
    reject_calls_message: str | None = None
    owner: str | None = None  # the node running it (several nodes)
    lease_token: int = 0  # its owner's fencing token
    version: int = 0  # grows at every change of the row
    qr_code: str | None = None  # what the QR shown while qr_ready encodes
    qr_expires_at: datetime | None = None
    send_policy: dict[str, Any] | None = None  # None: the server's default
    linked_at: datetime | None = None  # when its number was linked
    restriction: dict[str, Any] | None = None  # WhatsApp's, now


@dataclass(frozen=True, slots=True)
class StreamedEvent:
    """One event of a user's stream: its number (Last-Event-ID), name and webhook body."""

    seq: int
    name: str
    session_id: str | None
    body: str
