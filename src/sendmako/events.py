"""What engines report to the `SessionManager`: our own types, never a library's.

An engine session calls its `EventSink` with one of these; the manager stores what must
survive (status, messages, contacts) and, in the same transaction, the webhook outbox rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SessionStatus(StrEnum):
    CONNECTING = "connecting"  # starting, or reconnecting after a drop
    QR_READY = "qr_ready"  # a QR code is waiting to be scanned
    CONNECTED = "connected"  # linked and online: messages flow
    DISCONNECTED = "disconnected"  # connection lost; the engine keeps retrying with backoff
    LOGGED_OUT = "logged_out"  # unlinked from the phone; a restart produces a new QR


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """The session moved to `status`. `detail` says why, for people (never a secret)."""

    status: SessionStatus
    detail: str | None = None
    phone_number: str | None = None  # with CONNECTED: the linked number, digits only
    device_jid: str | None = None  # with CONNECTED: this device's own JID, when known
    push_name: str | None = None


@dataclass(frozen=True, slots=True)
class QrCodeChanged:
    """A new QR payload to show; it implies status QR_READY. Each one replaces the last."""

    payload: str
    valid_seconds: float


@dataclass(frozen=True, slots=True)
class PairCodeIssued:
    """A linking code to type on the phone (login without a camera)."""

    code: str


EngineEvent = StatusChanged | QrCodeChanged | PairCodeIssued


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A lifecycle event as webhooks deliver it (`session.connected`, ...)."""

    name: str
    session_id: str
    data: dict[str, object] = field(default_factory=dict)
