"""The state the SessionManager keeps for each session, what the API shows of it, and the
rule that turns a status change into lifecycle events (session.connected, ...)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sendmako.engines.base import Engine, EngineSession
from sendmako.ids import SessionId
from sendmako.inbound import registry
from sendmako.model.events import (
    SessionEvent,
    StatusChanged,
)
from sendmako.model.restrictions import Restriction
from sendmako.model.send_policy import SendPolicy
from sendmako.model.statuses import SessionStatus
from sendmako.sessions.qr import png_data_url
from sendmako.sessions.queue import SendQueue
from sendmako.storage.records import SessionRecord
from sendmako.storage.wa_sessions import Hold


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as the API shows it."""

    id: int
    session_id: SessionId
    session_name: str
    engine: str
    status: SessionStatus
    detail: str | None
    phone_number: str | None
    qr: str | None  # data:image/png;base64,... while qr_ready
    qr_expires_at: float | None  # unix time the shown QR stops being valid
    created_at: datetime
    pacing_ms: int
    reject_calls: bool = False
    reject_calls_message: str | None = None
    send_policy: SendPolicy = field(default_factory=SendPolicy)
    linked_at: datetime | None = None
    restriction: Restriction | None = None
    health: Health | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """What the session heard from WhatsApp lately (this node's memory of it)."""

    last_inbound_at: float | None = None  # unix time of the last event WhatsApp sent it
    last_outbound_at: float | None = None  # unix time of its last send
    reconnects_24h: int = 0  # reconnections the watchdog made in the last day


@dataclass(frozen=True, slots=True)
class SessionChange:
    """Settings of a session to change; None leaves one as it is."""

    session_name: str | None = None
    pacing_ms: int | None = None  # the minimum time between two sends
    reject_calls: bool | None = None
    reject_calls_message: str | None = None  # "": no message after a refused call
    send_policy: dict[str, Any] | None = None  # the whole policy, as stored

    def values(self) -> dict[str, object]:
        """The columns to write."""
        values = {name: value for name, value in asdict(self).items() if value is not None}
        if values.get("reject_calls_message") == "":
            values["reject_calls_message"] = None
        return values


@dataclass(eq=False)
class LiveSession:
    """What the manager knows of one session: everything while this node runs it (`hold`),
    else a copy of its stored state, kept fresh for any node to answer reads."""

    record: SessionRecord
    engine: Engine | None
    hold: Hold | None = None  # this node runs it, with this fencing token
    version: int = 0  # of the stored row last followed (a newer one replaces it)
    handle: EngineSession | None = None
    status: SessionStatus = SessionStatus.CONNECTING
    detail: str | None = None
    phone_number: str | None = None
    qr_code: str | None = None  # what the QR encodes
    qr_data_url: str | None = None
    qr_expires_at: float | None = None
    events_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    control_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    deleted: bool = False
    queue: SendQueue | None = None
    default_policy: SendPolicy = field(default_factory=SendPolicy)  # the server's
    last_inbound_at: float | None = None
    last_outbound_at: float | None = None
    last_heard_at: float | None = None  # anything from WhatsApp: an event, an ack, a probe
    reconnects: list[float] = field(default_factory=list)  # the watchdog's, unix times

    @property
    def send_policy(self) -> SendPolicy:
        return SendPolicy.from_stored(self.record.send_policy, self.default_policy)

    @property
    def restriction(self) -> Restriction | None:
        return Restriction.from_stored(self.record.restriction)

    @property
    def here(self) -> bool:
        """Whether this node runs the session."""
        return self.hold is not None

    def follow(self, record: SessionRecord) -> None:
        """Take the stored row (newer than what is known). A session running elsewhere
        takes its state from it too; one running here knows its state better."""
        self.record = record
        if self.here:
            return
        self.status = SessionStatus(record.status)
        self.detail = record.status_detail
        self.phone_number = record.phone_number
        if record.qr_code is None or record.qr_expires_at is None:
            self.qr_data_url = self.qr_expires_at = self.qr_code = None
        elif record.qr_code != self.qr_code:
            self.qr_code = record.qr_code
            self.qr_data_url = png_data_url(record.qr_code)
            self.qr_expires_at = record.qr_expires_at.timestamp()

    def view(self) -> SessionView:
        qr = self.qr_data_url if self.status == SessionStatus.QR_READY else None
        return SessionView(
            id=self.record.id,
            session_id=self.record.session_id,
            session_name=self.record.session_name,
            engine=self.record.engine,
            status=self.status,
            detail=self.detail,
            phone_number=self.phone_number,
            qr=qr,
            qr_expires_at=self.qr_expires_at if qr else None,
            created_at=self.record.created_at,
            pacing_ms=self.record.pacing_ms,
            reject_calls=self.record.reject_calls,
            reject_calls_message=self.record.reject_calls_message,
            send_policy=self.send_policy,
            linked_at=self.record.linked_at,
            restriction=self.restriction,
            health=Health(self.last_inbound_at, self.last_outbound_at, len(self.reconnects)),
        )

    def apply(self, event: StatusChanged) -> list[SessionEvent]:
        """Take the new status; the lifecycle events the change means, if any."""
        previous = self.status
        self.status = event.status
        self.detail = event.detail
        if event.status == SessionStatus.CONNECTED:
            self.phone_number = event.phone_number or self.phone_number
        if event.status != SessionStatus.QR_READY:
            self.qr_code = self.qr_data_url = self.qr_expires_at = None
        if event.status == SessionStatus.CONNECTED and previous != SessionStatus.CONNECTED:
            return [self.event(registry.SESSION_CONNECTED, {"phone_number": self.phone_number})]
        if event.status == SessionStatus.LOGGED_OUT and previous != SessionStatus.LOGGED_OUT:
            return [self.event(registry.SESSION_DISCONNECTED, {"reason": "logged_out"})]
        if event.status == SessionStatus.DISCONNECTED and previous == SessionStatus.CONNECTED:
            return [self.event(registry.SESSION_DISCONNECTED, {"reason": "connection_lost"})]
        return []

    def event(self, name: str, data: dict[str, object]) -> SessionEvent:
        return SessionEvent(name=name, session_id=self.record.session_id, data=data)
